// The graphql-transport-ws protocol spoken with raw WebSocket frames against the real server: the
// close codes the protocol documents (4400 invalid message, 4401 subscribe before ack, 4403
// refused init, 4406 wrong subprotocol, 4408 init timeout, 4409 duplicate id, 4429 duplicate
// init), ping/pong, and a client's complete ending its stream while others go on.

import { print } from 'graphql';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateIndexDocument, TrainIndexDocument, TrainingStatusDocument, UpsertDocument } from '../generated/graphql.js';
import { newIndexKey, startTestServer, type TestServer } from '../server/harness.js';
import { RawSocket } from './raw-graphql-ws.js';
import { toBase64, uniformVectors } from './vectors.js';

const INIT_TIMEOUT_MS = 300;

describe('graphql-transport-ws over raw frames', () => {
  let server: TestServer;
  const index = 'protocol';
  const key = newIndexKey();
  const subscribeTraining = (id: string) => ({ type: 'subscribe', id, payload: { query: print(TrainingStatusDocument), variables: { index, key } } });
  const sockets: RawSocket[] = [];
  const open = async (protocol?: string | null) => {
    const raw = await RawSocket.open(server.wsUrl, protocol);
    sockets.push(raw);
    return raw;
  };

  beforeAll(async () => {
    server = await startTestServer({ env: { AUTO_TRAIN_DISABLED: 'true', WS_CONNECTION_INIT_TIMEOUT_MS: String(INIT_TIMEOUT_MS) } });
    expect((await server.request(CreateIndexDocument, { name: index, key, dimension: 4 })).body.data?.createIndex.__typename).toBe('Index');
    const items = uniformVectors(40, 4, 5).map((vector, i) => ({ id: `v${i}`, vector: toBase64(vector) }));
    expect((await server.request(UpsertDocument, { index, key, items })).body.data?.upsert.__typename).toBe('UpsertSuccess');
  });
  afterAll(async () => {
    for (const raw of sockets) raw.close();
    await server.close();
  });

  it('acknowledges connection_init with a valid key', async () => {
    const raw = await open();
    await raw.init(server.apiKey);
    expect(raw.received).toEqual([{ type: 'connection_ack' }]);
  });

  it('closes with 4408 when connection_init does not arrive in time (WS_CONNECTION_INIT_TIMEOUT_MS)', async () => {
    const raw = await open();
    expect(await raw.closed).toEqual({ code: 4408, reason: 'Connection initialisation timeout' });
  });

  it('keeps an acknowledged connection open past the init timeout', async () => {
    const raw = await open();
    await raw.init(server.apiKey);
    await new Promise((resolve) => setTimeout(resolve, INIT_TIMEOUT_MS * 2));
    expect(raw.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('closes with 4429 on a second connection_init', async () => {
    const raw = await open();
    await raw.init(server.apiKey);
    raw.send({ type: 'connection_init', payload: { apiKey: server.apiKey } });
    expect((await raw.closed).code).toBe(4429);
  });

  it('closes with 4401 on subscribe before the ack', async () => {
    const raw = await open();
    raw.send({ type: 'subscribe', id: '1', payload: { query: '{ indexes }' } });
    expect((await raw.closed).code).toBe(4401);
  });

  it.each([
    ['no key', {}],
    ['a wrong key', { apiKey: 'not-the-key' }],
    ['a key of the wrong type', { apiKey: 12345 }],
  ])('closes with 4403 on connection_init with %s', async (_case, payload) => {
    const raw = await open();
    raw.send({ type: 'connection_init', payload });
    expect((await raw.closed).code).toBe(4403);
    expect(raw.received).toEqual([]);
  });

  it('closes with 4406 when the client offers no graphql-transport-ws subprotocol', async () => {
    const raw = await open(null);
    expect((await raw.closed).code).toBe(4406);
  });

  it('refuses the handshake of a client that offers only the legacy graphql-ws subprotocol', async () => {
    await expect(RawSocket.open(server.wsUrl, 'graphql-ws')).rejects.toThrow(/no subprotocol/);
  });

  it.each([
    ['text that is not JSON', 'hello'],
    ['JSON that is not an object', '[1,2,3]'],
    ['an object without a type', { id: '1' }],
    ['an unknown type', { type: 'unsubscribe', id: '1' }],
    ['subscribe without an id', { type: 'subscribe', payload: { query: '{ indexes }' } }],
    ['subscribe with an empty id', { type: 'subscribe', id: '', payload: { query: '{ indexes }' } }],
    ['subscribe without a query', { type: 'subscribe', id: '1', payload: {} }],
    ['subscribe with a query that is not a string', { type: 'subscribe', id: '1', payload: { query: 42 } }],
    ['complete without an id', { type: 'complete' }],
  ])('closes with 4400 on %s', async (_case, frame) => {
    const raw = await open();
    await raw.init(server.apiKey);
    raw.send(frame);
    expect((await raw.closed).code).toBe(4400);
  });

  it('answers ping with pong (echoing the payload) and accepts an unsolicited pong', async () => {
    const raw = await open();
    await raw.init(server.apiKey);
    raw.send({ type: 'ping', payload: { seq: 7 } });
    expect(await raw.waitFor((message) => message.type === 'pong')).toEqual({ type: 'pong', payload: { seq: 7 } });
    raw.send({ type: 'pong' });
    raw.send({ type: 'ping' });
    await raw.waitFor((message) => message.type === 'pong' && message.payload === undefined);
    expect(raw.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('answers a ping even before connection_init', async () => {
    const raw = await open();
    raw.send({ type: 'ping' });
    expect(await raw.waitFor((message) => message.type === 'pong')).toEqual({ type: 'pong' });
  });

  it('runs a query as one next and a complete', async () => {
    const raw = await open();
    await raw.init(server.apiKey);
    raw.send({ type: 'subscribe', id: 'q', payload: { query: '{ indexes }' } });
    await raw.waitFor((message) => message.type === 'complete' && message.id === 'q');
    expect(raw.received.filter((message) => message.id === 'q')).toEqual([
      { type: 'next', id: 'q', payload: { data: { indexes: [index] } } },
      { type: 'complete', id: 'q' },
    ]);
  });

  it('answers an invalid operation with an error message for its id and keeps the socket open', async () => {
    const raw = await open();
    await raw.init(server.apiKey);
    raw.send({ type: 'subscribe', id: 'bad', payload: { query: '{ noSuchField }' } });
    const error = await raw.waitFor((message) => message.id === 'bad');
    expect(error.type).toBe('error');
    expect(JSON.stringify(error.payload)).toMatch(/noSuchField/);
    raw.send({ type: 'ping' });
    await raw.waitFor((message) => message.type === 'pong');
  });

  it('closes with 4409 when a subscription id is reused while its stream is open', async () => {
    const raw = await open();
    await raw.init(server.apiKey);
    raw.send(subscribeTraining('dup'));
    await raw.waitFor((message) => message.type === 'next' && message.id === 'dup');
    raw.send(subscribeTraining('dup'));
    expect(await raw.closed).toEqual({ code: 4409, reason: 'Subscriber for dup already exists' });
  });

  it('stops a stream the client completes, while another stream on the same socket gets the run', async () => {
    const raw = await open();
    await raw.init(server.apiKey);
    raw.send(subscribeTraining('stopped'));
    raw.send(subscribeTraining('kept'));
    await raw.waitFor((message) => message.type === 'next' && message.id === 'stopped');
    await raw.waitFor((message) => message.type === 'next' && message.id === 'kept');
    raw.send({ type: 'complete', id: 'stopped' });
    // The pong comes after the complete was handled (messages are handled in order).
    raw.send({ type: 'ping' });
    await raw.waitFor((message) => message.type === 'pong');
    const stoppedBefore = raw.received.filter((message) => message.id === 'stopped').length;

    const trained = await server.request(TrainIndexDocument, { index, key, nLists: 2, wait: true });
    expect(trained.body.data?.trainIndex).toMatchObject({ __typename: 'TrainingRun', phase: 'COMPLETED' });
    await raw.waitFor(
      (message) => message.id === 'kept' && (message.payload as { data?: { trainingStatus?: { phase?: string } } }).data?.trainingStatus?.phase === 'COMPLETED',
    );
    expect(raw.received.filter((message) => message.id === 'stopped')).toHaveLength(stoppedBefore);
    expect(raw.received.filter((message) => message.id === 'kept').length).toBeGreaterThan(2);

    // The id is free again once completed: reusing it starts a new stream instead of closing with 4409.
    raw.send(subscribeTraining('stopped'));
    await raw.waitFor(() => raw.received.filter((message) => message.type === 'next' && message.id === 'stopped').length > stoppedBefore);
    expect(raw.socket.readyState).toBe(WebSocket.OPEN);
  });
});

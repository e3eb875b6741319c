// Automatic persisted queries on the real server, spoken as raw HTTP: a hash miss, registration,
// hits over GET and POST, no mutations over GET, the hash check, auth before anything is looked up
// or stored, the armor limits on persisted text, and the store's bounds.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPersistedQueryStore, DEFAULT_PERSISTED_QUERY_LIMITS } from '../../../src/server/plugins/use-persisted-queries.js';
import { startTestServer, type TestServer } from '../harness.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const extensionsFor = (query: string) => ({ persistedQuery: { version: 1, sha256Hash: sha256(query) } });

interface Answer {
  status: number;
  data?: Record<string, unknown>;
  codes: unknown[];
}

async function answer(response: Response): Promise<Answer> {
  const body = (await response.json()) as { data?: Record<string, unknown>; errors?: Array<{ extensions?: { code?: unknown } }> };
  return { status: response.status, data: body.data, codes: (body.errors ?? []).map((error) => error.extensions?.code) };
}

describe('persisted queries on the real server', () => {
  let server: TestServer;
  let counter = 0;
  /** A query text no earlier test registered (the store outlives each test). */
  const fresh = (selection = 'indexes') => `query Fresh${++counter} { ${selection} }`;

  const headers = (apiKey: string | null) => ({
    'content-type': 'application/json',
    accept: 'application/graphql-response+json',
    ...(apiKey === null ? {} : { 'x-api-key': apiKey }),
  });
  const post = async (body: Record<string, unknown>, apiKey: string | null = server.apiKey) =>
    answer(await fetch(server.url, { method: 'POST', headers: headers(apiKey), body: JSON.stringify(body) }));
  const get = async (params: Record<string, unknown>, apiKey: string | null = server.apiKey) => {
    const url = new URL(server.url);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, typeof value === 'string' ? value : JSON.stringify(value));
    return answer(await fetch(url, { headers: headers(apiKey) }));
  };

  beforeAll(async () => {
    server = await startTestServer({
      env: { AUTO_TRAIN_DISABLED: 'true' },
      configure: (config) => ({ ...config, limits: { ...config.limits, maxDepth: 3 } }),
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('misses an unknown hash, registers the text with its hash, then answers the hash alone over GET and POST', async () => {
    const query = fresh();
    expect(await get({ extensions: extensionsFor(query) })).toMatchObject({ status: 404, codes: ['PERSISTED_QUERY_NOT_FOUND'] });
    expect(await post({ query, extensions: extensionsFor(query) })).toEqual({ status: 200, data: { indexes: [] }, codes: [] });
    expect(await get({ extensions: extensionsFor(query) })).toEqual({ status: 200, data: { indexes: [] }, codes: [] });
    expect(await post({ extensions: extensionsFor(query) })).toEqual({ status: 200, data: { indexes: [] }, codes: [] });
  });

  it('marks answers to GET as uncacheable by shared caches', async () => {
    const query = fresh();
    await post({ query, extensions: extensionsFor(query) });
    const url = new URL(server.url);
    url.searchParams.set('extensions', JSON.stringify(extensionsFor(query)));
    const response = await fetch(url, { headers: headers(server.apiKey) });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('private, no-store');
  });

  it('refuses a text whose hash does not match, and keeps nothing under that hash', async () => {
    const query = fresh();
    const wrong = { persistedQuery: { version: 1, sha256Hash: sha256(`${query} `) } };
    expect(await post({ query, extensions: wrong })).toMatchObject({ status: 400, codes: ['PERSISTED_QUERY_MISMATCH'] });
    expect(await post({ extensions: wrong })).toMatchObject({ status: 404, codes: ['PERSISTED_QUERY_NOT_FOUND'] });
  });

  it('never runs a mutation over GET, even one registered over POST', async () => {
    const mutation = 'mutation Drop { deleteIndex(name: "nothing-here", key: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=") { __typename } }';
    const registered = await post({ query: mutation, extensions: extensionsFor(mutation) });
    expect(registered.status).toBe(200);
    const viaGet = await get({ extensions: extensionsFor(mutation) });
    expect(viaGet.status).toBe(405);
    expect(viaGet.data).toBeUndefined();
  });

  it('asks for the API key before looking a hash up or storing a text', async () => {
    const known = fresh();
    await post({ query: known, extensions: extensionsFor(known) });
    // A keyless caller gets the same refusal for a known and an unknown hash: nothing to learn.
    expect(await get({ extensions: extensionsFor(known) }, null)).toMatchObject({ status: 401, codes: ['UNAUTHENTICATED'] });
    expect(await get({ extensions: extensionsFor(fresh()) }, null)).toMatchObject({ status: 401, codes: ['UNAUTHENTICATED'] });
    expect(await get({ extensions: extensionsFor(known) }, 'wrong-key')).toMatchObject({ status: 401, codes: ['UNAUTHENTICATED'] });
    // A keyless registration stores nothing (even of the one query open without a key).
    const open = `query Open${++counter} { health { status } }`;
    expect(await post({ query: open, extensions: extensionsFor(open) }, null)).toMatchObject({ status: 200, data: { health: { status: 'ok' } } });
    expect(await post({ extensions: extensionsFor(open) })).toMatchObject({ status: 404, codes: ['PERSISTED_QUERY_NOT_FOUND'] });
  });

  it('applies the armor limits to persisted text, at registration and at every hit', async () => {
    const deep = `query Deep${++counter} { trainingQueue { running { index } } index(name: "a", key: "x") { ... on Index { lastTrainingRun { runId } } } }`;
    const registered = await post({ query: deep, extensions: extensionsFor(deep) });
    expect(registered.status).toBe(400);
    const hit = await post({ extensions: extensionsFor(deep) });
    // Whether or not the text was kept, a hash never runs what the text alone could not.
    expect(hit.status).not.toBe(200);
    expect(hit.data).toBeUndefined();
  });
});

describe('the persisted query store', () => {
  it('keeps a text under its hash, forgets the least recently used past its count', () => {
    const store = createPersistedQueryStore({ ...DEFAULT_PERSISTED_QUERY_LIMITS, maxEntries: 2 });
    store.set('a', '{ a }');
    store.set('b', '{ b }');
    expect(store.get('a')).toBe('{ a }');
    store.set('c', '{ c }');
    expect([store.get('a'), store.get('b'), store.get('c')]).toEqual(['{ a }', undefined, '{ c }']);
  });

  it('does not keep a text longer than maxQueryChars, and bounds the total size', () => {
    const store = createPersistedQueryStore({ ...DEFAULT_PERSISTED_QUERY_LIMITS, maxQueryChars: 10, maxTotalChars: 25 });
    store.set('long', '{ 0123456789 }');
    expect(store.get('long')).toBeUndefined();
    for (const name of ['x', 'y', 'z', 'w']) store.set(name, `{ ${name}234 }`); // 8 characters each: three fit in 25
    expect(['x', 'y', 'z', 'w'].filter((name) => store.get(name) !== undefined)).toEqual(['y', 'z', 'w']);
  });
});

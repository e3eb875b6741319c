// Property-based tests of the GraphQL API with hostile input (fast-check), over real HTTP: random
// dimensions, numbers JSON turns into Infinity, huge and empty strings, deep and odd JSON,
// malformed base64 vectors and index keys, random filter documents, random query text.
// The same hostile operations also go over one graphql-ws socket, which must stay open.
// Invariants, for every generated request:
// - never a 5xx, never an unexpected (masked) error, nothing logged as unexpected, and no stack
//   trace, file path or module name in the body;
// - a rejected mutation changes nothing: every index, id, vector, contents and metadata reads back
//   as before;
// - an accepted upsert reads back exactly, and searches keep agreeing with brute force.

import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { print } from 'graphql';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateIndexDocument,
  DeleteIndexDocument,
  DeleteItemsDocument,
  IndexDocument,
  IndexesDocument,
  ItemIdsDocument,
  ItemsDocument,
  SearchDocument,
  TrainingStatusDocument,
  UpsertDocument,
} from '../generated/graphql.js';
import { newIndexKey, startTestServer, type TestServer } from '../server/harness.js';
import { RawSocket } from './raw-graphql-ws.js';
import { toBase64 } from './vectors.js';

const DIM = 4;
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LIMIT_ENV = { MAX_BATCH_ITEMS: '8', MAX_CONTENTS_BYTES: '4096', MAX_METADATA_BYTES: '2048', MAX_ID_BYTES: '64', MAX_TOP_K: '50', MAX_DIMENSION: '64' };

interface Answer {
  status: number;
  text: string;
  body: { data?: Record<string, { __typename?: string } & Record<string, unknown>> | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
}

interface ModelItem {
  vector: number[];
  contents: string | null;
  metadata: unknown;
}

/** JSON text with raw number tokens spliced in where `rawTokens` has placeholders (JSON.parse turns 1e400 into Infinity). */
function withRawTokens(variables: unknown, rawTokens: Map<string, string>): string {
  let text = JSON.stringify(variables);
  for (const [placeholder, raw] of rawTokens) text = text.replace(JSON.stringify(placeholder), raw);
  return text;
}

// ---------------------------------------------------------------------------------------------
// Arbitraries.

const goodComponents = fc.array(fc.integer({ min: -64, max: 64 }).map((n) => n / 8), { minLength: DIM, maxLength: DIM });
const numberToken = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.constantFrom('1e400', '-1e400', '1e-400', '-0', '3.5e38', '-3.4e38', '1e16', '0.1', '12345678901234567890'),
  fc.integer({ min: -1000, max: 1000 }).map(String),
);
/** A vector argument: good, or bad in one of the ways JSON and base64 allow. */
const vectorArg = fc.oneof(
  { arbitrary: goodComponents.map((values) => ({ json: values as unknown, raw: null as string | null })), weight: 4 },
  goodComponents.map((values) => ({ json: toBase64(Float32Array.from(values)) as unknown, raw: null })),
  fc.array(numberToken, { maxLength: DIM + 2 }).map((tokens) => ({ json: null, raw: `[${tokens.join(',')}]` })),
  fc.uint8Array({ maxLength: 4 * DIM + 5 }).map((bytes) => ({ json: Buffer.from(bytes).toString('base64') as unknown, raw: null })),
  fc.float32Array({ minLength: DIM, maxLength: DIM }).map((values) => ({ json: toBase64(values) as unknown, raw: null })),
  fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('', '====', 'AAAA', 'AAA=', 'A', '////////////////////w==', 'AAAAAAAAAAAAAAAAAAAAAA==\n')).map((text) => ({ json: text as unknown, raw: null })),
  fc.jsonValue({ maxDepth: 2 }).map((value) => ({ json: value, raw: null })),
);

let deepCounter = 0;
/** Deep JSON: within the metadata limit (32 levels), past it, and far past it (thousands). */
const deepJson = fc.constantFrom(5, 31, 33, 60, 2000).map((depth) => {
  deepCounter += 1;
  let value: unknown = `bottom${deepCounter}`;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { d: value } : [value];
  return { deep: value };
});
const anyString = (around: number) =>
  fc.oneof(
    fc.string({ maxLength: 10 }),
    fc.string({ unit: 'binary', maxLength: 10 }),
    fc.string({ minLength: around - 3, maxLength: around + 3 }),
    fc.constantFrom('', '__proto__', '\u0000', '\ud800', 'x'.repeat(200_000)),
  );
const metadataArg = fc.oneof(
  fc.record({ shelf: fc.integer({ min: 0, max: 3 }), label: fc.string({ maxLength: 8 }) }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  deepJson,
  fc.constant(null),
  fc.constant(undefined),
);
const itemArg = fc.record({
  id: fc.oneof({ arbitrary: fc.integer({ min: 0, max: 40 }).map((n) => `item-${n}` as unknown), weight: 3 }, anyString(64), fc.integer(), fc.constant(null)),
  vector: vectorArg,
  contents: fc.oneof(fc.constant(undefined), fc.constant(null), anyString(4096), fc.integer()),
  metadata: metadataArg,
});
/** An item every upsert must take: without these, a batch of hostile items is all but never valid as a whole (about 1 run in 100). */
const wellFormedItem = fc.record({
  id: fc.integer({ min: 0, max: 40 }).map((n) => `item-${n}` as unknown),
  vector: fc.oneof(
    goodComponents.map((values) => ({ json: values as unknown, raw: null as string | null })),
    goodComponents.map((values) => ({ json: toBase64(Float32Array.from(values)) as unknown, raw: null as string | null })),
  ),
  contents: fc.oneof(fc.constant(undefined), fc.string({ maxLength: 40 })),
  metadata: fc.oneof(fc.record({ shelf: fc.integer({ min: 0, max: 3 }), label: fc.string({ maxLength: 8 }) }), fc.constant(null)),
});
/** An upsert's items: hostile ones, or well-formed ones the index must take. */
const upsertItems = fc.oneof(fc.array(itemArg, { maxLength: 9 }), fc.array(wellFormedItem, { minLength: 1, maxLength: 4 }));
const keyArg = fc.oneof(
  fc.string({ maxLength: 70 }),
  fc.string({ unit: 'binary', maxLength: 10 }),
  fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes).toString('base64')),
  fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes).toString('hex')),
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes).toString('base64url')),
  fc.constantFrom('', 'g'.repeat(64), '='.repeat(44), 'x'.repeat(100_000)),
  fc.integer(),
  fc.constant(null),
);
const filterArg = fc.oneof(
  fc.record({ shelf: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.record({ $gte: fc.integer({ min: 0, max: 3 }) })) }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.dictionary(fc.constantFrom('$and', '$or', '$eq', '$where', 'shelf', 'a.b', '', '..', 'label'), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 3 }),
  deepJson,
  fc.constant(null),
);
/** Mostly the index's own key (undefined), sometimes a hostile one. */
const maybeWrongKey = fc.oneof({ arbitrary: fc.constant(undefined), weight: 6 }, keyArg);
const intArg = fc.oneof(fc.integer({ min: -3, max: 60 }), fc.integer(), fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 1.5, Number.MAX_SAFE_INTEGER), fc.constant(null), fc.string({ maxLength: 3 }));

// ---------------------------------------------------------------------------------------------

describe('API properties under hostile input', () => {
  let server: TestServer;
  const key = newIndexKey();
  const index = 'hostile';
  const model = new Map<string, ModelItem>();
  let unexpectedLogs = 0;

  /** A search, read or refused mutation with hostile arguments, or hostile query text: { query, variables as JSON text }. */
  const hostileRequest = fc.oneof(
    fc.record({ vector: vectorArg, topK: intArg, nProbes: intArg, filter: filterArg, key: maybeWrongKey }).map((args) => {
      const raw = new Map<string, string>();
      if (args.vector.raw !== null) raw.set('@@v@@', args.vector.raw);
      const variables = { index, key: args.key === undefined ? key : args.key, vector: args.vector.raw !== null ? '@@v@@' : args.vector.json, topK: args.topK, nProbes: args.nProbes, filter: args.filter };
      return { query: print(SearchDocument), variables: withRawTokens(variables, raw) };
    }),
    fc.record({ ids: fc.oneof(fc.array(anyString(64), { maxLength: 10 }), fc.jsonValue({ maxDepth: 1 })), include: fc.oneof(fc.constant(['VECTOR']), fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 })), key: keyArg }).map(
      (args) => ({ query: print(ItemsDocument), variables: JSON.stringify({ index, ...args }) }),
    ),
    fc.record({ name: anyString(128), key: keyArg }).map((args) => ({ query: print(IndexDocument), variables: JSON.stringify(args) })),
    // Mutations that must be refused: a wrong or malformed key, or an index that is not there.
    fc.record({ ids: fc.array(fc.integer({ min: 0, max: 40 }).map((n) => `item-${n}`), { minLength: 1, maxLength: 3 }), key: keyArg }).map((args) => ({ query: print(DeleteItemsDocument), variables: JSON.stringify({ index, ...args }) })),
    fc.record({ name: fc.constantFrom(index, 'missing'), key: keyArg }).map((args) => ({ query: print(DeleteIndexDocument), variables: JSON.stringify(args) })),
    // Query text that is not (quite) GraphQL.
    fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('{', '{ indexes', 'query { __typename @skip }', '{ health { status } }}}', 'subscription { trainingStatus }', '{ index(name: 1, key: 2) }')).map((query) => ({ query, variables: '{}' })),
    // Metadata and filters written inline in the query text, parsed as literals.
    fc.record({ shelf: fc.integer({ min: 0, max: 3 }), topK: fc.integer({ min: -2, max: 60 }) }).map((args) => ({
      query: `{ search(index: "${index}", key: "${key}", vector: [0, 0, 0, 0], topK: ${args.topK}, filter: { shelf: { $lte: ${args.shelf} } }) { __typename } }`,
      variables: '{}',
    })),
  );

  async function send(query: string, variablesText = '{}'): Promise<Answer> {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', 'x-api-key': server.apiKey },
      body: `{"query":${JSON.stringify(query)},"variables":${variablesText}}`,
    });
    const text = await response.text();
    return { status: response.status, text, body: JSON.parse(text) as Answer['body'] };
  }

  /** The invariants every answer must keep, whatever was sent. */
  function expectWellBehaved(answer: Answer): void {
    expect(answer.status, answer.text.slice(0, 500)).toBeLessThan(500);
    for (const error of answer.body.errors ?? []) {
      expect(error.extensions?.code, error.message).not.toBe('INTERNAL_SERVER_ERROR');
      expect(error.message).not.toBe('Unexpected error.');
    }
    expect(answer.text).not.toContain(REPO_ROOT);
    expect(answer.text).not.toMatch(/node_modules|"stack"|\n\s+at \S|\\n\s+at \S/);
    // Anything masked is also logged: the log must stay free of it.
    expect(server.logs.slice(unexpectedLogs).filter((line) => /unexpected|error/i.test(line))).toEqual([]);
  }

  async function snapshot(): Promise<unknown> {
    const indexes = (await send(print(IndexesDocument))).body.data?.indexes;
    const idsAnswer = await send(print(ItemIdsDocument), JSON.stringify({ index, key }));
    const ids = ((idsAnswer.body.data?.itemIds as { ids?: string[] }).ids ?? []).slice().sort();
    const items: unknown[] = [];
    for (let start = 0; start < ids.length; start += 8) {
      const answer = await send(print(ItemsDocument), JSON.stringify({ index, key, ids: ids.slice(start, start + 8) }));
      items.push(...((answer.body.data?.items as { items: unknown[] }).items ?? []));
    }
    return { indexes, ids, items };
  }

  function modelSnapshotItems(): unknown[] {
    return [...model.keys()].sort().map((id) => ({ id, ...model.get(id)! }));
  }

  beforeAll(async () => {
    server = await startTestServer({ env: { AUTO_TRAIN_DISABLED: 'true', ...LIMIT_ENV } });
    const created = await send(print(CreateIndexDocument), JSON.stringify({ name: index, key, dimension: DIM }));
    expect(created.body.data?.createIndex?.__typename).toBe('Index');
    unexpectedLogs = server.logs.length;
  });
  afterAll(async () => {
    await server.close();
  });

  it('takes or refuses hostile upserts whole, with well-behaved answers', async () => {
    const seen = { accepted: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(upsertItems, maybeWrongKey, async (items, badKey) => {
        const before = await snapshot();
        const raw = new Map<string, string>();
        const variables = {
          index,
          key: badKey === undefined ? key : badKey,
          items: items.map((item, i) => {
            const placeholder = `@@vector-${i}@@`;
            if (item.vector.raw !== null) raw.set(placeholder, item.vector.raw);
            return { id: item.id, vector: item.vector.raw !== null ? placeholder : item.vector.json, contents: item.contents, metadata: item.metadata };
          }),
        };
        const answer = await send(print(UpsertDocument), withRawTokens(variables, raw));
        expectWellBehaved(answer);
        if (answer.body.data?.upsert?.__typename === 'UpsertSuccess') {
          seen.accepted += 1;
          for (const item of items) {
            const sent = item.vector.raw !== null ? (JSON.parse(item.vector.raw) as number[]) : item.vector.json;
            const vector = typeof sent === 'string' ? new Float32Array(new Uint8Array(Buffer.from(sent, 'base64')).buffer) : Float32Array.from(sent as number[]);
            // What comes back over the wire: an Int id as its string, -0 (in JSON) as 0.
            const metadata = item.metadata == null ? null : (JSON.parse(JSON.stringify(item.metadata)) as unknown);
            model.set(String(item.id), { vector: Array.from(vector, (v) => v + 0), contents: (item.contents as string | null | undefined) ?? null, metadata });
          }
          expect(await snapshot()).toEqual({ ...(before as object), ids: [...model.keys()].sort(), items: modelSnapshotItems() });
        } else {
          seen.refused += 1;
          expect(await snapshot()).toEqual(before);
        }
      }),
      { numRuns: 120 },
    );
    expect(seen.accepted).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  });

  it('answers hostile searches, reads and index operations without breaking anything', async () => {
    const before = await snapshot();
    await fc.assert(
      fc.asyncProperty(hostileRequest, async ({ query, variables }) => {
        expectWellBehaved(await send(query, variables));
      }),
      { numRuns: 200 },
    );
    expect(await snapshot()).toEqual(before);
  });

  it('answers hostile operations over graphql-ws one by one, and keeps the socket open', async () => {
    const before = await snapshot();
    const subscription = fc
      .record({ index: fc.oneof(fc.constant(index), anyString(128)), key: fc.oneof(fc.constant(key), keyArg) })
      .map((args) => ({ query: print(TrainingStatusDocument), variables: JSON.stringify(args) }));
    const raw = await RawSocket.open(server.wsUrl);
    let count = 0;
    try {
      await raw.init(server.apiKey);
      await fc.assert(
        fc.asyncProperty(fc.oneof(hostileRequest, subscription), async ({ query, variables }) => {
          const id = `op-${count++}`;
          raw.send(`{"type":"subscribe","id":"${id}","payload":{"query":${JSON.stringify(query)},"variables":${variables}}}`);
          const first = await raw.waitFor((message) => message.id === id);
          // A stream that stays open (a training subscription) is ended by the client.
          raw.send({ type: 'complete', id });
          expect(['next', 'error']).toContain(first.type);
          for (const message of raw.received.filter((candidate) => candidate.id === id)) {
            const text = JSON.stringify(message.payload ?? null);
            expect(text).not.toMatch(/INTERNAL_SERVER_ERROR|Unexpected error\.|node_modules|"stack"/);
            expect(text).not.toContain(REPO_ROOT);
          }
        }),
        { numRuns: 150 },
      );
      raw.send({ type: 'ping' });
      await raw.waitFor((message) => message.type === 'pong');
      expect(raw.socket.readyState).toBe(WebSocket.OPEN);
    } finally {
      raw.close();
    }
    expect(server.logs.slice(unexpectedLogs).filter((line) => /unexpected|error/i.test(line))).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });

  it('creates an index only from a valid request, and a refused create changes nothing', async () => {
    const indexes = async () => (await send(print(IndexesDocument))).body.data?.indexes as unknown as string[];
    const created: string[] = [];
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(anyString(128), fc.stringMatching(/^[a-z][a-z0-9_.-]{0,12}$/)),
        fc.oneof({ arbitrary: fc.constant(newIndexKey()), weight: 3 }, keyArg),
        intArg,
        fc.constantFrom('EUCLIDEAN', 'COSINE', 'MANHATTAN', null, 3),
        async (name, createKey, dimension, metric) => {
          const before = await indexes();
          const answer = await send(print(CreateIndexDocument), JSON.stringify({ name, key: createKey, dimension, metric }));
          expectWellBehaved(answer);
          const after = await indexes();
          if (answer.body.data?.createIndex?.__typename === 'Index') {
            expect(after.slice().sort()).toEqual([...before, name].sort());
            created.push(name as string);
          } else {
            expect(after).toEqual(before);
          }
        },
      ),
      // A valid create comes up in about one run in twenty: the example makes sure the success
      // side is exercised (100 runs without one failed CI once).
      { numRuns: 100, examples: [['made-by-example', newIndexKey(), 8, 'COSINE']] },
    );
    expect(created).toContain('made-by-example');
  });

  it('keeps the index searchable with brute-force results, from list and base64 vectors', async () => {
    expect(model.size).toBeGreaterThan(0);
    const ids = [...model.keys()];
    await fc.assert(
      fc.asyncProperty(goodComponents, fc.integer({ min: 1, max: 20 }), fc.boolean(), async (query, topK, asBase64) => {
        const answer = await send(print(SearchDocument), JSON.stringify({ index, key, vector: asBase64 ? toBase64(Float32Array.from(query)) : query, topK }));
        expectWellBehaved(answer);
        const hits = (answer.body.data?.search as { hits: Array<{ id: string; distance: number }> }).hits;
        const reference = ids.map((id) => Math.hypot(...model.get(id)!.vector.map((v, i) => v - query[i]!))).sort((a, b) => a - b).slice(0, topK);
        // float32 distances against a double reference: equal up to float32 rounding.
        expect(hits).toHaveLength(reference.length);
        hits.forEach((hit, i) => expect(Math.abs(hit.distance - reference[i]!)).toBeLessThanOrEqual(1e-4 * Math.max(1, reference[i]!)));
      }),
      { numRuns: 60 },
    );
  });

  it('accepts metadata and filters written as literals in the query text', async () => {
    const upsert = await send(
      `mutation { upsert(index: "${index}", key: "${key}", items: [{ id: "literal", vector: [1, 1, 1, 1], metadata: { shelf: 2, tags: ["x"], nested: { ok: true } } }]) { __typename } }`,
    );
    expectWellBehaved(upsert);
    expect(upsert.body.data?.upsert?.__typename).toBe('UpsertSuccess');
    model.set('literal', { vector: [1, 1, 1, 1], contents: null, metadata: { shelf: 2, tags: ['x'], nested: { ok: true } } });
    const search = await send(`{ search(index: "${index}", key: "${key}", vector: [1, 1, 1, 1], topK: 1, filter: { nested: { ok: true } }) { ... on SearchResults { hits { id metadata } } } }`);
    expect(search.body.data?.search).toEqual({ hits: [{ id: 'literal', metadata: { shelf: 2, tags: ['x'], nested: { ok: true } } }] });
  });

  it('is still up and answering', async () => {
    const health = await send('{ health { status } }');
    expect(health.body.data).toEqual({ health: { status: 'ok' } });
  });
});

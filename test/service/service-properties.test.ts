// Property-based tests of the index service with hostile input (fast-check): random dimensions,
// NaN and infinite components, huge, empty and ill-formed strings, deep and odd JSON metadata,
// malformed keys, random filter documents. Invariants, checked after every generated call:
// - the service answers with a result or a typed CipherdexError, never anything else;
// - a rejected call changes nothing (every id, vector, contents and metadata read back as before);
// - an accepted upsert reads back exactly as written (vectors as float32);
// - searches agree with a brute-force reference over a model the test keeps, before and after
//   training, with and without metadata filters.
// Runs on SQLite (validation happens before the store is touched, so the store does not matter).

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIndexService } from '../../src/service/create-index-service.js';
import { MAX_RERANK_MULT } from '../../src/service/input/input-validation.js';
import { CipherdexError } from '../../src/service/errors.js';
import type { CipherdexIndexService } from '../../src/service/index-service.js';
import type { Filter, ItemInput, JsonObject, JsonValue, Metric } from '../../src/service/types.js';
import { distance } from './reference-search.js';
import { serviceConfig } from './service-harness.js';

const DIM = 4;
const LIMITS = { maxBatchItems: 8, maxQueriesPerBatch: 4, maxTopK: 50, maxDimension: 64, maxIdBytes: 64, maxContentsBytes: 2048, maxMetadataBytes: 1024 };

// ---------------------------------------------------------------------------------------------
// The model: what the test believes each index holds.

interface ModelItem {
  vector: number[];
  contents: string | null;
  metadata: JsonObject | null;
}
type Model = Map<string, ModelItem>;

function remember(model: Model, items: readonly ItemInput[]): void {
  for (const item of items) {
    model.set(item.id, {
      vector: Array.from(Float32Array.from(item.vector)),
      contents: item.contents ?? null,
      // What JSON can carry: -0 becomes 0, and so on.
      metadata: item.metadata == null ? null : (JSON.parse(JSON.stringify(item.metadata)) as JsonObject),
    });
  }
}

/** Every field of `ids`, read in batches of at most maxBatchItems. */
async function getAll(service: CipherdexIndexService, name: string, key: string, ids: string[]): Promise<unknown[]> {
  const items: unknown[] = [];
  for (let start = 0; start < ids.length; start += LIMITS.maxBatchItems) {
    items.push(...(await service.get(name, key, ids.slice(start, start + LIMITS.maxBatchItems), ['vector', 'contents', 'metadata'])));
  }
  return items;
}

async function snapshot(service: CipherdexIndexService, name: string, key: string): Promise<unknown> {
  const ids = (await service.listIds(name, key)).sort();
  return { ids, items: await getAll(service, name, key, ids) };
}

async function expectMatchesModel(service: CipherdexIndexService, name: string, key: string, model: Model): Promise<void> {
  const ids = [...model.keys()].sort();
  expect((await service.listIds(name, key)).sort()).toEqual(ids);
  expect(await getAll(service, name, key, ids)).toEqual(ids.map((id) => ({ id, ...model.get(id)! })));
}

/** Runs `call`; a non-Cipherdex failure is a crash, and fails the property with its stack. */
async function outcome<T>(call: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: CipherdexError }> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    if (error instanceof CipherdexError) return { ok: false, error };
    throw error;
  }
}

/** The engine computes in float32, the reference in double: equal up to float32 rounding. */
function sameDistance(actual: number, reference: number): boolean {
  return Math.abs(actual - reference) <= 1e-4 * Math.max(1, Math.abs(reference));
}

// ---------------------------------------------------------------------------------------------
// A reference for the filters the test generates (over the metadata shape below), written from
// the documented semantics and independent of src/service/metadata-filter.ts.

type Scalar = string | number | boolean | null;
const COLORS = ['red', 'green', 'blue'];
const TAGS = ['a', 'b', 'c', 'd'];
const FIELDS = ['color', 'size', 'tags', 'spec.level'] as const;

function fieldValues(metadata: JsonObject | null, path: string): JsonValue[] {
  let value: JsonValue | undefined = metadata ?? undefined;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, part)) return [];
    value = value[part];
  }
  return value === undefined ? [] : [value];
}

function scalarEquals(values: JsonValue[], expected: Scalar): boolean {
  if (expected === null) return values.length === 0 || values.includes(null);
  return values.some((value) => value === expected || (Array.isArray(value) && value.includes(expected)));
}

function inRange(values: JsonValue[], operator: string, bound: number | string): boolean {
  const holds = (value: JsonValue) =>
    typeof value === typeof bound &&
    (operator === '$gt' ? value! > bound : operator === '$gte' ? value! >= bound : operator === '$lt' ? value! < bound : value! <= bound);
  return values.some((value) => holds(value) || (Array.isArray(value) && value.some(holds)));
}

function referenceMatches(filter: Filter, metadata: JsonObject | null): boolean {
  return Object.entries(filter).every(([key, operand]) => {
    if (key === '$and') return (operand as Filter[]).every((part) => referenceMatches(part, metadata));
    if (key === '$or') return (operand as Filter[]).some((part) => referenceMatches(part, metadata));
    const values = fieldValues(metadata, key);
    if (operand === null || typeof operand !== 'object' || Array.isArray(operand)) return scalarEquals(values, operand as Scalar);
    return Object.entries(operand).every(([operator, argument]) => {
      switch (operator) {
        case '$eq':
          return scalarEquals(values, argument as Scalar);
        case '$ne':
          return !scalarEquals(values, argument as Scalar);
        case '$in':
          return (argument as Scalar[]).some((option) => scalarEquals(values, option));
        case '$nin':
          return !(argument as Scalar[]).some((option) => scalarEquals(values, option));
        case '$exists':
          return (values.length > 0) === argument;
        default:
          return inRange(values, operator, argument as number | string);
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Arbitraries.

/** Components that are exact in float32 and small, so the double-precision reference agrees. */
const goodVector = fc.array(fc.integer({ min: -64, max: 64 }).map((n) => n / 8), { minLength: DIM, maxLength: DIM });
const goodMetadata: fc.Arbitrary<JsonObject> = fc.record(
  {
    color: fc.constantFrom(...COLORS, null),
    size: fc.integer({ min: 0, max: 9 }),
    tags: fc.uniqueArray(fc.constantFrom(...TAGS), { maxLength: 3 }),
    spec: fc.record({ level: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom('low', 'high')) }),
  },
  { requiredKeys: [] },
);
const goodItem = (idPrefix: string) =>
  fc.record({
    id: fc.integer({ min: 0, max: 400 }).map((n) => `${idPrefix}${n}`),
    vector: goodVector,
    contents: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
    metadata: fc.option(goodMetadata, { nil: undefined }),
  });

const scalarFor = (field: (typeof FIELDS)[number]): fc.Arbitrary<Scalar> =>
  field === 'size'
    ? fc.integer({ min: -1, max: 10 })
    : field === 'spec.level'
      ? fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom('low', 'high', null))
      : field === 'tags'
        ? fc.constantFrom(...TAGS, 'z')
        : fc.constantFrom(...COLORS, 'none', null);

const fieldClause: fc.Arbitrary<Filter> = fc.constantFrom(...FIELDS).chain((field) =>
  fc.oneof(
    scalarFor(field).map((value) => ({ [field]: value })),
    fc.constantFrom('$eq', '$ne').chain((op) => scalarFor(field).map((value) => ({ [field]: { [op]: value } }))),
    fc.constantFrom('$in', '$nin').chain((op) => fc.array(scalarFor(field), { minLength: 1, maxLength: 3 }).map((values) => ({ [field]: { [op]: values } }))),
    fc.constantFrom('$gt', '$gte', '$lt', '$lte').chain((op) =>
      (field === 'size' || field === 'spec.level' ? fc.integer({ min: -1, max: 10 }) : fc.constantFrom(...COLORS, ...TAGS)).map((bound) => ({ [field]: { [op]: bound } })),
    ),
    fc.boolean().map((exists) => ({ [field]: { $exists: exists } })),
  ),
);
const goodFilter: fc.Arbitrary<Filter> = fc.letrec<{ filter: Filter }>((tie) => ({
  filter: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fieldClause,
    fc.constantFrom('$and', '$or').chain((op) => fc.array(tie('filter'), { minLength: 1, maxLength: 3 }).map((parts) => ({ [op]: parts }))),
  ),
})).filter;

const hostileNumber = fc.oneof(
  fc.double(),
  fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, 3.4e38, -3.4e38, 3.5e38, 1e-46, Number.MAX_VALUE, Number.MIN_VALUE),
  fc.integer(),
);
const hostileVector = fc.oneof(
  { arbitrary: goodVector, weight: 4 },
  fc.array(hostileNumber, { maxLength: DIM + 2 }),
  fc.array(fc.oneof(hostileNumber, fc.string({ maxLength: 3 }), fc.constant(null)), { minLength: DIM, maxLength: DIM }),
  fc.float32Array({ minLength: DIM, maxLength: DIM }),
);
/** Nested `depth` levels: the limit is 32. */
const deepObject = fc.integer({ min: 1, max: 48 }).map((depth) => {
  let value: JsonValue = 'bottom';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { nested: value } : [value];
  return { deep: value } as JsonObject;
});
const hostileString = (maxLength: number) =>
  fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.string({ minLength: maxLength - 4, maxLength: maxLength + 4 }),
    fc.constantFrom('', ' ', '__proto__', 'constructor', '\u0000', '\ud800', 'é'.repeat(maxLength / 2)),
  );
const hostileItem = fc.record(
  {
    id: fc.oneof(hostileString(LIMITS.maxIdBytes), { arbitrary: fc.integer({ min: 0, max: 30 }).map((n) => `h${n}`), weight: 3 }, fc.integer(), fc.constant(null)),
    vector: hostileVector,
    contents: fc.oneof(hostileString(LIMITS.maxContentsBytes), fc.constant(null), fc.integer()),
    metadata: fc.oneof(goodMetadata, fc.jsonValue({ maxDepth: 4 }), deepObject, fc.object({ maxDepth: 3 }), fc.constant(null)),
  },
  { requiredKeys: ['id'] },
);

const hostileKey = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes).toString('base64')),
  fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes).toString('hex')),
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes).toString('base64')),
  fc.uint8Array({ maxLength: 40 }),
);

// ---------------------------------------------------------------------------------------------

describe('index service properties', () => {
  let dir: string;
  let service: CipherdexIndexService;
  const key = randomBytes(32).toString('base64');
  const refModel: Model = new Map();
  const hostileModel: Model = new Map();
  const metric: Metric = 'euclidean';

  /** Checks a search answer against brute force over `model`, with `filter` applied to metadata. */
  async function expectSearchCorrect(
    name: string, model: Model, query: number[], topK: number, filter: Filter | null, nProbes?: number, rerankMult?: number,
  ): Promise<void> {
    const [result] = await service.search(name, key, [query], { topK, filter, nProbes, rerankMult, include: ['metadata'] });
    const candidates = [...model].filter(([, item]) => filter === null || referenceMatches(filter, item.metadata));
    const expected = candidates.map(([, item]) => distance(metric, item.vector, query)).sort((a, b) => a - b).slice(0, topK);
    expect(result!.exact).toBe(true);
    expect(result!.hits).toHaveLength(expected.length);
    result!.hits.forEach((hit, i) => expect(sameDistance(hit.distance!, expected[i]!), `hit ${i}: ${hit.distance} vs ${expected[i]}`).toBe(true));
    for (const hit of result!.hits) {
      const item = model.get(hit.id)!;
      expect(sameDistance(hit.distance!, distance(metric, item.vector, query)), `${hit.id}: ${hit.distance}`).toBe(true);
      if (filter !== null) expect(referenceMatches(filter, item.metadata)).toBe(true);
    }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cipherdex-properties-'));
    const base = serviceConfig({ CIPHERDEX_DATA_DIR: dir });
    service = await createIndexService({ ...base, limits: { ...base.limits, ...LIMITS } });
    await service.createIndex('ref', key, { dimension: DIM, metric });
    await service.createIndex('hostile', key, { dimension: DIM, metric });
  });
  afterAll(async () => {
    await service?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts every valid batch whole and reads it back exactly', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(goodItem('r'), { minLength: 1, maxLength: LIMITS.maxBatchItems, selector: (item) => item.id }), async (items) => {
        const result = await service.upsert('ref', key, items);
        expect(result.upsertedCount).toBe(items.length);
        remember(refModel, items);
        expect(result.index.vectorCount).toBe(refModel.size);
      }),
      { numRuns: 40 },
    );
    await expectMatchesModel(service, 'ref', key, refModel);
  });

  it('takes or refuses a hostile batch whole: accepted reads back exactly, refused changes nothing', async () => {
    const seen = { accepted: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(hostileItem, { minLength: 0, maxLength: LIMITS.maxBatchItems + 1 }), async (items) => {
        const before = await snapshot(service, 'hostile', key);
        const result = await outcome(() => service.upsert('hostile', key, items as ItemInput[]));
        seen[result.ok ? 'accepted' : 'refused'] += 1;
        if (result.ok) {
          remember(hostileModel, items as ItemInput[]);
          await expectMatchesModel(service, 'hostile', key, hostileModel);
        } else {
          expect(await snapshot(service, 'hostile', key)).toEqual(before);
        }
      }),
      // One valid and one invalid batch always run first: a random run may draw only refusals
      // (seen once), and the property is about both sides.
      { numRuns: 150, examples: [[[{ id: 'h0', vector: [0.5, -1, 2, 0.25] }]], [[{ id: 'h1', vector: [0.5, -1, 2] }]]] },
    );
    await expectMatchesModel(service, 'hostile', key, hostileModel);
    // Both sides of the property were exercised.
    expect(seen.accepted).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  });

  it('answers hostile searches with results or typed errors, and valid ones as brute force does', async () => {
    const hostileSearch = fc.record({
      vectors: fc.oneof(fc.array(hostileVector, { maxLength: LIMITS.maxQueriesPerBatch + 1 }), fc.constant(null)),
      topK: fc.oneof(fc.integer({ min: -2, max: LIMITS.maxTopK + 2 }), hostileNumber, fc.constant(undefined)),
      nProbes: fc.oneof(fc.integer({ min: -2, max: 4 }), hostileNumber, fc.constant(undefined)),
      filter: fc.oneof(goodFilter, fc.jsonValue({ maxDepth: 3 }), fc.dictionary(fc.constantFrom('$and', '$or', '$eq', '$regex', 'color', 'a.b', '', '.x'), fc.jsonValue({ maxDepth: 2 })), fc.constant(null)),
      include: fc.oneof(fc.constant(undefined), fc.subarray(['vector', 'contents', 'metadata']), fc.array(fc.string({ maxLength: 8 }), { maxLength: 2 })),
    });
    const before = await snapshot(service, 'hostile', key);
    await fc.assert(
      fc.asyncProperty(hostileSearch, async (search) => {
        await outcome(() => service.search('hostile', key, search.vectors as number[][], search as Parameters<CipherdexIndexService['search']>[3]));
      }),
      { numRuns: 150 },
    );
    expect(await snapshot(service, 'hostile', key)).toEqual(before);

    await fc.assert(
      fc.asyncProperty(goodVector, fc.integer({ min: 1, max: 20 }), fc.option(goodFilter, { nil: null }), async (query, topK, filter) => {
        await expectSearchCorrect('ref', refModel, query, topK, filter);
      }),
      { numRuns: 100 },
    );
    if (hostileModel.size > 0) {
      await fc.assert(
        fc.asyncProperty(goodVector, fc.integer({ min: 1, max: 20 }), async (query, topK) => {
          await expectSearchCorrect('hostile', hostileModel, query, topK, null);
        }),
        { numRuns: 30 },
      );
    }
  });

  it('refuses malformed and wrong keys with a typed error, and opens the index with its key in any encoding', async () => {
    await fc.assert(
      fc.asyncProperty(hostileKey, async (candidate) => {
        const result = await outcome(() => service.describeIndex('ref', candidate));
        if (result.ok) {
          // Only the right 32 bytes can open it.
          expect(Buffer.from(candidate as string, typeof candidate === 'string' && candidate.length === 64 ? 'hex' : 'base64')).toEqual(Buffer.from(key, 'base64'));
        } else {
          expect(['VALIDATION_ERROR', 'INVALID_INDEX_KEY']).toContain(result.error.code);
        }
      }),
      { numRuns: 150 },
    );
    const raw = Buffer.from(key, 'base64');
    for (const encoding of [raw.toString('hex'), raw.toString('base64url'), raw.toString('base64').replace(/=+$/, ''), new Uint8Array(raw)]) {
      expect((await service.describeIndex('ref', encoding)).vectorCount).toBe(refModel.size);
    }
    await expectMatchesModel(service, 'ref', key, refModel);
  });

  it('creates indexes only from valid names and dimensions, and a refused create leaves the list as it was', async () => {
    const created = new Set(await service.listIndexes());
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ maxLength: 140 }), fc.stringMatching(/^[a-z][a-z0-9_.-]{0,20}$/), fc.string({ unit: 'binary', maxLength: 10 })),
        fc.oneof(fc.integer({ min: -2, max: LIMITS.maxDimension + 2 }), hostileNumber),
        fc.constantFrom<Metric | 'manhattan' | undefined>('euclidean', 'cosine', 'squared_euclidean', 'manhattan', undefined),
        async (name, dimension, createMetric) => {
          const before = await service.listIndexes();
          const result = await outcome(() => service.createIndex(name, key, { dimension, metric: createMetric as Metric }));
          const after = await service.listIndexes();
          if (result.ok) {
            expect(created.has(name)).toBe(false);
            expect(Number.isInteger(dimension) && dimension >= 1 && dimension <= LIMITS.maxDimension).toBe(true);
            expect(after.sort()).toEqual([...before, name].sort());
            created.add(name);
          } else {
            expect(after).toEqual(before);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('stays searchable with correct results after training (every list probed, every candidate re-ranked, is exact)', async () => {
    const run = await service.train('ref', key, { nLists: 4, wait: true });
    expect(run.phase).toBe('COMPLETED');
    // The default type keeps int8 codes and re-ranks the best rerankMult x topK by them: on this
    // grid of near ties the true nearest can rank past the default window of 2 x topK (seen once in
    // CI: 1.798 returned against 1.772). The widest window re-ranks every item, which is exact.
    const everyCandidate = MAX_RERANK_MULT;
    await fc.assert(
      fc.asyncProperty(goodVector, fc.integer({ min: 1, max: 20 }), fc.option(goodFilter, { nil: null }), async (query, topK, filter) => {
        await expectSearchCorrect('ref', refModel, query, topK, filter, 4, everyCandidate);
      }),
      { numRuns: 100 },
    );
    // Writes after training land in the trained lists and are found.
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(goodItem('t'), { minLength: 1, maxLength: LIMITS.maxBatchItems, selector: (item) => item.id }), goodVector, async (items, query) => {
        await service.upsert('ref', key, items);
        remember(refModel, items);
        await expectSearchCorrect('ref', refModel, query, 10, null, 4, everyCandidate);
      }),
      { numRuns: 20 },
    );
    await expectMatchesModel(service, 'ref', key, refModel);
  });
});

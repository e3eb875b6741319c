// Argument validation: every rule throws a typed error that names the argument, the item and the
// allowed range, and valid input comes back normalized.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { DimensionMismatchError, ValidationError } from '../../../src/service/errors.js';
import {
  parseKeyArgument,
  validateCreateOptions,
  validateIds,
  validateInclude,
  validateIndexName,
  validateItems,
  validateNProbes,
  validateQueries,
  requireInteger,
  validateTopK,
} from '../../../src/service/input/input-validation.js';

const limits = { ...loadConfig({}).limits, maxBatchItems: 4, maxIdBytes: 8, maxContentsBytes: 10, maxMetadataBytes: 40, maxQueriesPerBatch: 2, maxTopK: 50, maxDimension: 16 };

function caught(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

function validation(run: () => unknown, argument: string, message?: RegExp): ValidationError {
  const error = caught(run);
  expect(error).toBeInstanceOf(ValidationError);
  expect((error as ValidationError).argument).toBe(argument);
  if (message) expect((error as ValidationError).message).toMatch(message);
  return error as ValidationError;
}

describe('input validation', () => {
  it('accepts plain index names and refuses others', () => {
    expect(validateIndexName('docs_v2.en-1')).toBe('docs_v2.en-1');
    for (const bad of ['', '-x', '.x', 'a b', 'a:b', 'x'.repeat(129), 'ü']) validation(() => validateIndexName(bad), 'name');
  });

  it('parses keys and reports a malformed one on `key` without echoing it', () => {
    const hex = 'ab'.repeat(32);
    expect(parseKeyArgument(hex)).toEqual(Buffer.from(hex, 'hex'));
    const error = validation(() => parseKeyArgument('secret-but-short'), 'key');
    expect(error.message).not.toContain('secret-but-short');
  });

  it('says what is wrong with an integer argument without repeating the value sent', () => {
    for (const [value, what] of [
      [987654321, /outside that range/],
      [12.5, /not a whole number/],
      ['31337', /not a number/],
    ] as const) {
      const error = validation(() => requireInteger('topK', value, 1, 50), 'topK', /topK must be an integer from 1 to 50/);
      expect(error.message).toMatch(what);
      expect(error.message).not.toContain(String(value));
    }
    expect(validation(() => validateTopK(123456789, limits), 'topK').message).not.toContain('123456789');
  });

  it('normalizes create options with defaults and checks each range', () => {
    expect(validateCreateOptions({ dimension: 8 }, limits)).toEqual({
      dimension: 8,
      metric: 'euclidean',
      type: 'ivf_sq8',
      nLists: null,
      pqSubvectors: null,
      pqBits: null,
      textSearch: false,
      textFields: [],
      textLanguage: null,
    });
    expect(validateCreateOptions({ dimension: 8, textSearch: true }, limits)).toMatchObject({ textSearch: true, textFields: [], textLanguage: 'english' });
    expect(validateCreateOptions({ dimension: 8, metric: 'cosine', nLists: 4 }, limits)).toMatchObject({ metric: 'cosine', nLists: 4 });
    expect(validateCreateOptions({ dimension: 16, type: 'ivf_pq' }, limits)).toMatchObject({ type: 'ivf_pq', pqSubvectors: 2, pqBits: 8 });
    expect(validateCreateOptions({ dimension: 16, type: 'ivf_sq8' }, limits)).toMatchObject({ type: 'ivf_sq8', pqSubvectors: null, pqBits: null });
    expect(validation(() => validateCreateOptions({ dimension: 16, type: 'ivf_pq', pqSubvectors: 3 }, limits), 'pqSubvectors').range).toEqual({ min: 1, max: 16 });
    expect(validation(() => validateCreateOptions({ dimension: 16, type: 'ivf_pq', pqBits: 0 }, limits), 'pqBits').range).toEqual({ min: 1, max: 8 });
    validation(() => validateCreateOptions({ dimension: 16, pqBits: 8 }, limits), 'pqBits');
    expect(validation(() => validateCreateOptions({ dimension: 17 }, limits), 'dimension').range).toEqual({ min: 1, max: 16 });
    validation(() => validateCreateOptions({ dimension: 2.5 }, limits), 'dimension');
    validation(() => validateCreateOptions({ dimension: 4, metric: 'manhattan' as 'cosine' }, limits), 'metric');
    validation(() => validateCreateOptions({ dimension: 4, type: 'hnsw' as 'ivf_flat' }, limits), 'type');
    expect(validation(() => validateCreateOptions({ dimension: 4, nLists: 0 }, limits), 'nLists').range).toEqual({ min: 1, max: 65536 });
  });

  it('converts a valid batch to float32 and serialized metadata', () => {
    const [item] = validateItems([{ id: 'a', vector: [1, 2], contents: 'hi', metadata: { k: [1, 'x'] } }], 2, 'euclidean', limits);
    expect(item.vector).toBeInstanceOf(Float32Array);
    expect(Array.from(item.vector)).toEqual([1, 2]);
    expect(item).toMatchObject({ id: 'a', contents: 'hi', metadata: { k: [1, 'x'] }, metadataJson: '{"k":[1,"x"]}' });
  });

  it('refuses empty, oversized and duplicate batches', () => {
    validation(() => validateItems([], 2, 'euclidean', limits), 'items', /1 to 4/);
    const five = Array.from({ length: 5 }, (_, i) => ({ id: `i${i}`, vector: [1, 2] }));
    validation(() => validateItems(five, 2, 'euclidean', limits), 'items', /got 5/);
    validation(() => validateItems([{ id: 'a', vector: [1, 2] }, { id: 'b', vector: [1, 2] }, { id: 'a', vector: [3, 4] }], 2, 'euclidean', limits), 'items[2].id', /^items\[2\]\.id repeats items\[0\]\.id; a batch holds each id at most once$/);
  });

  it('names the item and position of a bad vector component', () => {
    validation(() => validateItems([{ id: 'ok', vector: [1, 2] }, { id: 'bad', vector: [1, Number.NaN] }], 2, 'euclidean', limits), 'items[1].vector', /^items\[1\]\.vector\[1\] is not finite/);
    validation(() => validateItems([{ id: 'inf', vector: [Infinity, 2] }], 2, 'euclidean', limits), 'items[0].vector', /\[0\] is not finite/);
    validation(() => validateItems([{ id: 'big', vector: [1e39, 2] }], 2, 'euclidean', limits), 'items[0].vector', /float32 range/);
    validation(() => validateItems([{ id: 'text', vector: [1, '2' as unknown as number] }], 2, 'euclidean', limits), 'items[0].vector', /\[1\] is a string, not a number/);
    validation(() => validateItems([{ id: 'huge', vector: [1, -1e16] }], 2, 'euclidean', limits), 'items[0].vector', /\[1\].*beyond/);
    validation(() => validateItems([{ id: 'zero', vector: [0, 0] }], 2, 'cosine', limits), 'items[0].vector', /all zeros/);
    expect(validateItems([{ id: 'zero', vector: [0, 0] }], 2, 'euclidean', limits)).toHaveLength(1);
  });

  it('throws DimensionMismatchError with expected and actual', () => {
    const error = caught(() => validateItems([{ id: 'a', vector: [1, 2, 3] }], 2, 'euclidean', limits));
    expect(error).toBeInstanceOf(DimensionMismatchError);
    expect(error).toMatchObject({ expected: 2, actual: 3, argument: 'items[0].vector' });
  });

  it('enforces id, contents and metadata limits', () => {
    validation(() => validateItems([{ id: '', vector: [1, 2] }], 2, 'euclidean', limits), 'items[0].id');
    validation(() => validateItems([{ id: 'ééééé', vector: [1, 2] }], 2, 'euclidean', limits), 'items[0].id', /10 bytes.*at most 8/);
    validation(() => validateItems([{ id: 'a', vector: [1, 2], contents: 'x'.repeat(11) }], 2, 'euclidean', limits), 'items[0].contents', /11 bytes/);
    validation(() => validateItems([{ id: 'a', vector: [1, 2], metadata: { text: 'x'.repeat(40) } }], 2, 'euclidean', limits), 'items[0].metadata', /as JSON/);
    validation(() => validateItems([{ id: 'a', vector: [1, 2], metadata: [1] as never }], 2, 'euclidean', limits), 'items[0].metadata', /JSON object/);
    validation(() => validateItems([{ id: 'a', vector: [1, 2], metadata: { n: Number.NaN } }], 2, 'euclidean', limits), 'items[0].metadata[key 0]');
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 40; i++) deep = { d: deep };
    validation(() => validateItems([{ id: 'a', vector: [1, 2], metadata: deep as never }], 2, 'euclidean', { ...limits, maxMetadataBytes: 1000 }), 'items[0].metadata' + '[key 0]'.repeat(33), /deeper/);
  });

  it('accepts metadata objects without a prototype (JSON literals parsed by graphql-scalars)', () => {
    const metadata = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1, nested: Object.assign(Object.create(null) as object, { b: 'x' }) });
    const [item] = validateItems([{ id: 'a', vector: [1, 2], metadata: metadata as never }], 2, 'euclidean', limits);
    expect(item.metadataJson).toBe('{"a":1,"nested":{"b":"x"}}');
    validation(() => validateItems([{ id: 'a', vector: [1, 2], metadata: { when: new Date(0) } as never }], 2, 'euclidean', limits), 'items[0].metadata[key 0]');
  });

  it('validates ids to read or delete', () => {
    expect(validateIds(['a', 'a', 'b'], limits)).toEqual(['a', 'a', 'b']);
    validation(() => validateIds([], limits), 'ids');
    validation(() => validateIds(['a', 3], limits), 'ids[1]');
  });

  it('packs query vectors and checks each', () => {
    expect(Array.from(validateQueries([[1, 2], new Float32Array([3, 4])], 2, 'euclidean', limits))).toEqual([1, 2, 3, 4]);
    validation(() => validateQueries([], 2, 'euclidean', limits), 'vectors');
    validation(() => validateQueries([[1, 2], [1, 2], [1, 2]], 2, 'euclidean', limits), 'vectors');
    validation(() => validateQueries([[1, 2], [Number.NaN, 2]], 2, 'euclidean', limits), 'vectors[1]', /^vectors\[1\]\[0\] is not finite/);
    expect(caught(() => validateQueries([[1]], 2, 'euclidean', limits))).toBeInstanceOf(DimensionMismatchError);
  });

  it('checks topK, nProbes and include', () => {
    expect(validateTopK(undefined, limits)).toBe(10);
    expect(validation(() => validateTopK(51, limits), 'topK').range).toEqual({ min: 1, max: 50 });
    validation(() => validateTopK(0, limits), 'topK');
    expect(validateNProbes(undefined, 8)).toBeUndefined();
    expect(validateNProbes(8, 8)).toBe(8);
    expect(validation(() => validateNProbes(9, 8), 'nProbes').range).toEqual({ min: 1, max: 8 });
    expect(validateNProbes(500, null)).toBe(500);
    validation(() => validateNProbes(0, null), 'nProbes');
    expect([...validateInclude(undefined, ['vector'])]).toEqual(['vector']);
    expect([...validateInclude(['contents', 'metadata'], [])]).toEqual(['contents', 'metadata']);
    validation(() => validateInclude(['distance'], []), 'include', /distance/);
  });
});

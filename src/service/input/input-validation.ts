// Validation of every caller-supplied argument, before anything is sealed or written: each rule
// throws a typed error naming the argument, the item and the allowed range, so a bad request
// changes nothing (batches are all-or-nothing because they are checked whole, up front).
// Messages say where (items[3].vector[7]) and what is wrong, never the value: ids, vectors,
// contents and metadata are the caller's data, and errors travel further than data should.

import { IndexKeyFormatError, parseIndexKey } from '../../crypto/index.js';
import type { Config } from '../../config.js';
import { DEFAULT_PQ_BITS, defaultPqSubvectors } from '../../engine/index.js';
import { DimensionMismatchError, ValidationError } from '../errors.js';
import { DEFAULT_INDEX_TYPE, FUSIONS, INDEX_TYPES, ITEM_FIELDS, METRICS, TEXT_LANGUAGES, isOneOf } from '../enumerations.js';
import type { CreateIndexOptions, Fusion, IndexKeyInput, IndexType, ItemField, ItemInput, JsonObject, Metric, TextLanguage, VectorInput } from '../types.js';

export type Limits = Config['limits'];

/** Metadata paths one index may name for text search, and the length of each. */
export const MAX_TEXT_FIELDS = 32;
export const MAX_TEXT_FIELD_LENGTH = 256;

/** Index names are stored and listed in plaintext and appear in associated data: keep them plain. */
export const INDEX_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
export const MAX_LISTS = 65_536;
export const MAX_TRAIN_ITERS = 10_000;
/**
 * Vector components beyond this magnitude are refused: the engine computes distances in float32,
 * where a squared distance between such vectors overflows to Infinity (or NaN), and those items
 * would drop out of or scramble search results. 4 * dimension * 1e30 stays finite up to 8e7
 * dimensions; real embeddings are many orders of magnitude smaller.
 */
export const MAX_COMPONENT_MAGNITUDE = 1e15;
/** Metadata deeper than this is refused; real metadata is shallow and recursion must stay bounded. */
export const MAX_METADATA_DEPTH = 32;

export function validateIndexName(name: unknown): string {
  if (typeof name !== 'string' || !INDEX_NAME_PATTERN.test(name)) {
    throw new ValidationError(
      'name',
      'an index name is 1 to 128 characters of letters, digits, "_", "." and "-", not starting with "." or "-"',
      { min: 1, max: 128 },
    );
  }
  return name;
}

/** The 32 key bytes; a malformed key is a ValidationError on `key` (its text is never echoed). */
export function parseKeyArgument(key: IndexKeyInput, argument = 'key'): Buffer {
  try {
    return parseIndexKey(key);
  } catch (error) {
    if (error instanceof IndexKeyFormatError) throw new ValidationError(argument, error.message, { min: 32, max: 32 });
    throw error;
  }
}

export interface ValidCreateOptions {
  dimension: number;
  metric: Metric;
  type: IndexType;
  nLists: number | null;
  pqSubvectors: number | null;
  pqBits: number | null;
  textSearch: boolean;
  textFields: string[];
  textLanguage: TextLanguage | null;
}

export function validateCreateOptions(options: CreateIndexOptions, limits: Limits): ValidCreateOptions {
  const dimension = options?.dimension;
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > limits.maxDimension) {
    throw new ValidationError('dimension', `dimension must be an integer from 1 to ${limits.maxDimension}`, {
      min: 1,
      max: limits.maxDimension,
    });
  }
  const metric = options.metric ?? 'euclidean';
  if (!isOneOf(METRICS, metric)) throw new ValidationError('metric', `metric must be one of ${METRICS.join(', ')}`, { allowed: METRICS });
  const type = options.type ?? DEFAULT_INDEX_TYPE;
  if (!isOneOf(INDEX_TYPES, type)) throw new ValidationError('type', `type must be one of ${INDEX_TYPES.join(', ')}`, { allowed: INDEX_TYPES });
  const nLists = options.nLists ?? null;
  if (nLists !== null) requireInteger('nLists', nLists, 1, MAX_LISTS);
  return { dimension, metric, type, nLists, ...validatePqOptions(type, dimension, options), ...validateTextOptions(options) };
}

/** IVF_PQ's shape: subvectors dividing the dimension, 1 to 8 bits; refused on the other types. */
function validatePqOptions(type: IndexType, dimension: number, options: CreateIndexOptions): Pick<ValidCreateOptions, 'pqSubvectors' | 'pqBits'> {
  if (type !== 'ivf_pq') {
    for (const argument of ['pqSubvectors', 'pqBits'] as const) {
      if (options[argument] !== undefined && options[argument] !== null) throw new ValidationError(argument, `${argument} applies to type IVF_PQ only`);
    }
    return { pqSubvectors: null, pqBits: null };
  }
  const pqSubvectors = options.pqSubvectors ?? defaultPqSubvectors(dimension);
  requireInteger('pqSubvectors', pqSubvectors, 1, dimension);
  if (dimension % pqSubvectors !== 0) {
    throw new ValidationError('pqSubvectors', `pqSubvectors must divide the dimension ${dimension}`, { min: 1, max: dimension });
  }
  const pqBits = options.pqBits ?? DEFAULT_PQ_BITS;
  requireInteger('pqBits', pqBits, 1, 8);
  return { pqSubvectors, pqBits };
}

/** textSearch, and the fields and language that only mean something with it. */
function validateTextOptions(options: CreateIndexOptions): Pick<ValidCreateOptions, 'textSearch' | 'textFields' | 'textLanguage'> {
  const textSearch = options.textSearch ?? false;
  if (typeof textSearch !== 'boolean') throw new ValidationError('textSearch', 'textSearch must be true or false');
  const { textFields, textLanguage } = options;
  if (!textSearch) {
    for (const [argument, value] of [['textFields', textFields], ['textLanguage', textLanguage]] as const) {
      if (value !== undefined && value !== null) throw new ValidationError(argument, `${argument} needs textSearch: true`);
    }
    return { textSearch, textFields: [], textLanguage: null };
  }
  const language = textLanguage ?? 'english';
  if (!isOneOf(TEXT_LANGUAGES, language)) {
    throw new ValidationError('textLanguage', `textLanguage must be one of ${TEXT_LANGUAGES.join(', ')}`, { allowed: TEXT_LANGUAGES });
  }
  const fields = textFields ?? [];
  if (!Array.isArray(fields) || fields.length > MAX_TEXT_FIELDS) {
    throw new ValidationError('textFields', `textFields lists at most ${MAX_TEXT_FIELDS} metadata paths`, { max: MAX_TEXT_FIELDS });
  }
  fields.forEach((field: unknown, i) => {
    const argument = `textFields[${i}]`;
    if (typeof field !== 'string' || field.length === 0 || field.length > MAX_TEXT_FIELD_LENGTH || field.split('.').some((part) => part === '')) {
      throw new ValidationError(argument, `${argument} must be a dotted metadata path such as "title" or "author.name" (1 to ${MAX_TEXT_FIELD_LENGTH} characters)`, {
        min: 1,
        max: MAX_TEXT_FIELD_LENGTH,
      });
    }
    if (fields.indexOf(field) !== i) throw new ValidationError(argument, `${argument} ("${field}") appears twice in textFields`);
  });
  return { textSearch, textFields: [...fields], textLanguage: language };
}

export function requireInteger(argument: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const upper = max === Number.MAX_SAFE_INTEGER ? '' : ` to ${max}`;
    // What was sent is not repeated (it may be anything a client typed); only what is wrong with it.
    const got = typeof value !== 'number' ? 'not a number' : !Number.isInteger(value) ? 'not a whole number' : 'outside that range';
    throw new ValidationError(argument, `${argument} must be an integer from ${min}${upper}; the value sent is ${got}`, {
      min,
      ...(max === Number.MAX_SAFE_INTEGER ? {} : { max }),
    });
  }
  return value;
}

// With the u flag a surrogate pair is one code point, so only an unpaired surrogate is in Cs.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Strings must be well-formed UTF-16: a lone surrogate has no UTF-8 form, so it would be stored
 * as U+FFFD while memory kept the original, and two ids differing only there would collide in
 * the store (one acknowledged item lost at the next load).
 */
export function requireWellFormed(value: string, argument: string): string {
  if (LONE_SURROGATE.test(value)) {
    throw new ValidationError(argument, `${argument} is not well-formed UTF-16 (it holds a lone surrogate, which has no UTF-8 form)`);
  }
  return value;
}

function checkId(id: unknown, argument: string, limits: Limits): string {
  if (typeof id !== 'string' || id.length === 0) throw new ValidationError(argument, `${argument} must be a non-empty string`, { min: 1 });
  requireWellFormed(id, argument);
  const bytes = Buffer.byteLength(id, 'utf8');
  if (bytes > limits.maxIdBytes) {
    throw new ValidationError(argument, `${argument} is ${bytes} bytes of UTF-8; ids are at most ${limits.maxIdBytes}`, {
      min: 1,
      max: limits.maxIdBytes,
    });
  }
  return id;
}

/** Ids to read or delete: non-empty list, each a valid id. Repeats are allowed (they are harmless here). */
export function validateIds(ids: unknown, limits: Limits): string[] {
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > limits.maxBatchItems) {
    throw new ValidationError('ids', `ids must list 1 to ${limits.maxBatchItems} ids`, { min: 1, max: limits.maxBatchItems });
  }
  return ids.map((id, i) => checkId(id, `ids[${i}]`, limits));
}

/**
 * Converts a vector to float32 (into `into` when given) and checks its length and every
 * component. `label` names the argument (`items[3].vector`), `who` the item for messages (`item "doc-7"`).
 */
export function toFloat32Vector(input: VectorInput, dimension: number, metric: Metric, label: string, into?: Float32Array): Float32Array {
  if (input === null || typeof input !== 'object' || typeof input.length !== 'number') {
    throw new ValidationError(label, `${label} must be a list of numbers`);
  }
  if (input.length !== dimension) throw new DimensionMismatchError(dimension, input.length, label);
  // set() copies typed arrays as memory and plain arrays without the iterator protocol.
  const vector = into ?? new Float32Array(dimension);
  vector.set(input as ArrayLike<number>);
  // Typed arrays hold numbers by construction; a plain array might hold strings that set() coerced.
  const typed = ArrayBuffer.isView(input);
  let normSquared = 0;
  for (let i = 0; i < dimension; i++) {
    const value = vector[i];
    if (!Number.isFinite(value) || (!typed && typeof input[i] !== 'number')) {
      const original = input[i];
      const why =
        typeof original !== 'number' ? `is a ${typeof original}, not a number` : Number.isFinite(original) ? 'is outside the float32 range' : 'is not finite';
      throw new ValidationError(label, `${label}[${i}] ${why}; components must be finite numbers`);
    }
    if (Math.abs(value) > MAX_COMPONENT_MAGNITUDE) {
      throw new ValidationError(
        label,
        `${label}[${i}] is beyond ±${MAX_COMPONENT_MAGNITUDE}; distances between such vectors overflow float32`,
        { min: -MAX_COMPONENT_MAGNITUDE, max: MAX_COMPONENT_MAGNITUDE },
      );
    }
    normSquared += value * value;
  }
  if (metric === 'cosine' && normSquared === 0) {
    throw new ValidationError(label, `${label} is all zeros; cosine distance needs a non-zero vector`);
  }
  return vector;
}

export interface ValidItem {
  id: string;
  vector: Float32Array;
  contents: string | null;
  metadata: JsonObject | null;
  metadataJson: string | null;
}

/** The whole batch or an error: size, ids, duplicates, vectors, contents and metadata limits. */
export function validateItems(items: unknown, dimension: number, metric: Metric, limits: Limits): ValidItem[] {
  if (!Array.isArray(items) || items.length === 0 || items.length > limits.maxBatchItems) {
    const count = Array.isArray(items) ? `; got ${items.length}` : '';
    throw new ValidationError('items', `a batch holds 1 to ${limits.maxBatchItems} items${count}`, { min: 1, max: limits.maxBatchItems });
  }
  const seen = new Map<string, number>();
  // One array for the batch's vectors, each item's a view of it: one allocation, not one per item.
  const vectors = new Float32Array(items.length * dimension);
  return items.map((raw: unknown, i): ValidItem => {
    const at = `items[${i}]`;
    if (raw === null || typeof raw !== 'object') throw new ValidationError(at, `${at} must be an object with id and vector`);
    const item = raw as Partial<ItemInput>;
    const id = checkId(item.id, `${at}.id`, limits);
    const first = seen.get(id);
    if (first !== undefined) {
      throw new ValidationError(`${at}.id`, `${at}.id repeats items[${first}].id; a batch holds each id at most once`);
    }
    seen.set(id, i);
    if (item.vector === undefined) throw new ValidationError(`${at}.vector`, `${at}.vector is required`);
    const vector = toFloat32Vector(item.vector, dimension, metric, `${at}.vector`, vectors.subarray(i * dimension, (i + 1) * dimension));
    const contents = validateContents(item.contents, `${at}.contents`, limits);
    const { metadata, metadataJson } = validateMetadata(item.metadata, `${at}.metadata`, limits);
    return { id, vector, contents, metadata, metadataJson };
  });
}

export function validateContents(contents: unknown, argument: string, limits: Limits): string | null {
  if (contents === undefined || contents === null) return null;
  if (typeof contents !== 'string') throw new ValidationError(argument, `${argument} must be a string`);
  requireWellFormed(contents, argument);
  const bytes = Buffer.byteLength(contents, 'utf8');
  if (bytes > limits.maxContentsBytes) {
    throw new ValidationError(argument, `${argument} is ${bytes} bytes; contents are at most ${limits.maxContentsBytes}`, {
      max: limits.maxContentsBytes,
    });
  }
  return contents;
}

export function validateMetadata(
  metadata: unknown,
  argument: string,
  limits: Limits,
): { metadata: JsonObject | null; metadataJson: string | null } {
  if (metadata === undefined || metadata === null) return { metadata: null, metadataJson: null };
  if (typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new ValidationError(argument, `${argument} must be a JSON object`);
  }
  checkJsonValue(metadata, argument, 0);
  const json = JSON.stringify(metadata);
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > limits.maxMetadataBytes) {
    throw new ValidationError(argument, `${argument} is ${bytes} bytes as JSON; metadata is at most ${limits.maxMetadataBytes}`, {
      max: limits.maxMetadataBytes,
    });
  }
  // Keep the parsed copy of what is stored, so memory and storage agree after a reload.
  return { metadata: JSON.parse(json) as JsonObject, metadataJson: json };
}

/** Paths name object members by position (metadata[key 2]), since the keys are data too. */
function checkJsonValue(value: unknown, path: string, depth: number): void {
  if (depth > MAX_METADATA_DEPTH) throw new ValidationError(path, `${path} nests deeper than ${MAX_METADATA_DEPTH} levels`);
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'string') {
    requireWellFormed(value, path);
    return;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ValidationError(path, `${path} is not finite; JSON numbers are finite`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((element, i) => checkJsonValue(element, `${path}[${i}]`, depth + 1));
    return;
  }
  // Plain objects, and prototype-less ones: graphql-scalars builds JSON literals written in the
  // query text with Object.create(null).
  if (typeof value === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    Object.entries(value).forEach(([key, element], i) => {
      requireWellFormed(key, `${path}[key ${i}]`);
      checkJsonValue(element, `${path}[key ${i}]`, depth + 1);
    });
    return;
  }
  throw new ValidationError(path, `${path} is a ${typeof value}, not a JSON value`);
}

/** Query vectors for one search: 1..maxQueriesPerBatch, packed row-major for the engine. */
export function validateQueries(vectors: unknown, dimension: number, metric: Metric, limits: Limits): Float32Array {
  if (!Array.isArray(vectors) || vectors.length === 0 || vectors.length > limits.maxQueriesPerBatch) {
    throw new ValidationError('vectors', `a search takes 1 to ${limits.maxQueriesPerBatch} query vectors`, {
      min: 1,
      max: limits.maxQueriesPerBatch,
    });
  }
  if (vectors.length === 1) return toFloat32Vector(vectors[0] as VectorInput, dimension, metric, 'vectors[0]');
  const packed = new Float32Array(vectors.length * dimension);
  vectors.forEach((vector: VectorInput, i) => {
    toFloat32Vector(vector, dimension, metric, `vectors[${i}]`, packed.subarray(i * dimension, (i + 1) * dimension));
  });
  return packed;
}

/** A keyword query is at most this many bytes of UTF-8. */
export const MAX_QUERY_TEXT_BYTES = 16 << 10;

export interface ValidQueries {
  /** Query vectors packed row-major (n x dimension), or null when every query is a text. */
  vectors: Float32Array | null;
  /** One keyword query per query (null: vector only), or null when no query has text. */
  texts: (string | null)[] | null;
  count: number;
}

/**
 * The queries of one search: vectors, texts, or both side by side (query i is vectors[i] with
 * texts[i]). Every query needs at least one of the two.
 */
export function validateSearchQueries(vectors: unknown, texts: unknown, dimension: number, metric: Metric, limits: Limits): ValidQueries {
  const hasVectors = Array.isArray(vectors) && vectors.length > 0;
  if (texts === undefined || texts === null) {
    if (!hasVectors && (vectors === undefined || vectors === null || Array.isArray(vectors))) {
      throw new ValidationError('vectors', 'a search takes a query vector, a text, or both');
    }
    const packed = validateQueries(vectors, dimension, metric, limits);
    return { vectors: packed, texts: null, count: packed.length / dimension };
  }
  const max = limits.maxQueriesPerBatch;
  if (!Array.isArray(texts) || texts.length === 0 || texts.length > max) {
    throw new ValidationError('texts', `a search takes 1 to ${max} texts`, { min: 1, max });
  }
  const valid = texts.map((text: unknown, i): string | null => {
    const argument = `texts[${i}]`;
    if (text === null || text === undefined) {
      if (!hasVectors) throw new ValidationError(argument, `${argument} is null and there is no query vector; each query needs a vector, a text, or both`);
      return null;
    }
    if (typeof text !== 'string') throw new ValidationError(argument, `${argument} must be a string`);
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > MAX_QUERY_TEXT_BYTES) {
      throw new ValidationError(argument, `${argument} is ${bytes} bytes; a keyword query is at most ${MAX_QUERY_TEXT_BYTES}`, { max: MAX_QUERY_TEXT_BYTES });
    }
    return text;
  });
  if (!hasVectors) return { vectors: null, texts: valid, count: valid.length };
  const packed = validateQueries(vectors, dimension, metric, limits);
  if (packed.length / dimension !== valid.length) {
    throw new ValidationError('texts', `texts has ${valid.length} entries and vectors ${packed.length / dimension}: one text (or null) per query vector`);
  }
  return { vectors: packed, texts: valid, count: valid.length };
}

/**
 * Candidates re-ranked per hit wanted on a codes-only index (IVF_SQ8, IVF_PQ), when a search
 * names none: chosen from the tiers benchmark (docs/benchmarks.md).
 */
export const DEFAULT_RERANK_MULT = { ivf_flat: 0, ivf_sq8: 2, ivf_pq: 20 } as const satisfies Record<IndexType, number>;
export const MAX_RERANK_MULT = 1_000;

export function validateRerankMult(rerankMult: unknown, type: IndexType): number {
  if (rerankMult === undefined || rerankMult === null) return DEFAULT_RERANK_MULT[type];
  return requireInteger('rerankMult', rerankMult, 0, MAX_RERANK_MULT);
}

/** The vector ranking's weight in a hybrid query: 0 (keyword only) to 1 (vector only). */
export function validateAlpha(alpha: unknown): number {
  if (alpha === undefined || alpha === null) return 0.5;
  if (typeof alpha !== 'number' || !(alpha >= 0 && alpha <= 1)) {
    throw new ValidationError('alpha', `alpha must be a number from 0 (keyword only) to 1 (vector only); got ${String(alpha)}`, { min: 0, max: 1 });
  }
  return alpha;
}

export function validateFusion(fusion: unknown): Fusion {
  if (fusion === undefined || fusion === null) return 'rrf';
  if (!isOneOf(FUSIONS, fusion)) throw new ValidationError('fusion', `fusion must be one of ${FUSIONS.join(', ')}`, { allowed: FUSIONS });
  return fusion;
}

export function validateInclude(include: unknown, fallback: readonly ItemField[]): ReadonlySet<ItemField> {
  if (include === undefined || include === null) return new Set(fallback);
  if (!Array.isArray(include)) throw new ValidationError('include', 'include must be a list of fields', { allowed: ITEM_FIELDS });
  for (const field of include) {
    if (!isOneOf(ITEM_FIELDS, field)) {
      throw new ValidationError('include', `unknown field "${String(field)}"; include takes ${ITEM_FIELDS.join(', ')}`, {
        allowed: ITEM_FIELDS,
      });
    }
  }
  return new Set(include as ItemField[]);
}

export function validateTopK(topK: unknown, limits: Limits): number {
  return requireInteger('topK', topK ?? 10, 1, limits.maxTopK);
}

/** nProbes is bounded by the trained lists; on an untrained index (exact scan) only its form is checked. */
export function validateNProbes(nProbes: unknown, nLists: number | null): number | undefined {
  if (nProbes === undefined || nProbes === null) return undefined;
  return requireInteger('nProbes', nProbes, 1, nLists ?? Number.MAX_SAFE_INTEGER);
}

/** Items one page holds at most (browse, paged itemIds). */
export const MAX_PAGE_SIZE = 1000;
export const DEFAULT_PAGE_SIZE = 100;

export function validateFirst(first: unknown): number {
  return requireInteger('first', first ?? DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE);
}

/** A distance bound: finite and not negative (no metric here has negative distances). */
export function validateMaxDistance(maxDistance: unknown): number | undefined {
  if (maxDistance === undefined || maxDistance === null) return undefined;
  if (typeof maxDistance !== 'number' || !Number.isFinite(maxDistance) || maxDistance < 0) {
    throw new ValidationError('maxDistance', `maxDistance must be a finite number of at least 0; got ${String(maxDistance)}`, { min: 0 });
  }
  return maxDistance;
}

// An in-memory index of the resident metadata, by item slot: for every dotted path, which slots
// hold each scalar value (directly or as an array element), and, built lazily per path, the
// numbers in order for range lookups. Filters ask it for their candidates (metadata-filter.ts
// plans the lookups), so count, browse, delete and selective searches with a filter on indexed
// equality or range fields touch only the matching items instead of every item's metadata.
//
// It holds what the records hold (plaintext, in memory only) and follows every write of the open
// index. Paths are collected as the filters resolve them: through nested objects and through
// arrays of objects; only scalars are indexed (equality on whole arrays or objects, null, and
// strings longer than MAX_INDEXED_STRING are answered by testing the items themselves).

import type { MetadataLookup, RangeBound } from '../input/metadata-filter.js';
import type { JsonObject, JsonValue } from '../types.js';

type Scalar = string | number | boolean;

/** Longer strings are not indexed (long text would cost memory and is rarely matched exactly). */
export const MAX_INDEXED_STRING = 256;

const EMPTY: ReadonlySet<number> = new Set();

interface PathIndex {
  byValue: Map<Scalar, Set<number>>;
  /** Numbers ascending with their slots; null until a range lookup needs it, dropped on writes. */
  sorted: { values: Float64Array; slots: Uint32Array } | null;
}

export class MetadataIndex implements MetadataLookup {
  readonly #paths = new Map<string, PathIndex>();

  /** Adds each (path, value) of a slot: one object for the index's life, not a closure per call (an open adds a million items in a row). */
  readonly #adder: ScalarSink = {
    found: (path, value, slot) => {
      let index = this.#paths.get(path);
      if (index === undefined) {
        index = { byValue: new Map(), sorted: null };
        this.#paths.set(path, index);
      }
      const slots = index.byValue.get(value);
      if (slots === undefined) index.byValue.set(value, new Set([slot]));
      else slots.add(slot);
      if (typeof value === 'number') index.sorted = null;
    },
  };

  add(slot: number, metadata: JsonObject | null): void {
    if (metadata === null) return;
    visit(metadata, '', this.#adder, slot);
  }

  remove(slot: number, metadata: JsonObject | null): void {
    if (metadata === null) return;
    visit(metadata, '', {
      found: (path, value) => {
        const index = this.#paths.get(path);
        const slots = index?.byValue.get(value);
        if (index === undefined || slots === undefined) return;
        slots.delete(slot);
        if (slots.size === 0) index.byValue.delete(value);
        if (typeof value === 'number') index.sorted = null;
      },
    }, slot);
  }

  clear(): void {
    this.#paths.clear();
  }

  /** Bytes held, by structure (an estimate: V8 map and set entries at about 50 and 20 bytes). */
  estimateBytes(): number {
    let bytes = 0;
    for (const [path, index] of this.#paths) {
      bytes += 100 + path.length * 2;
      for (const [value, slots] of index.byValue) bytes += 50 + 64 + (typeof value === 'string' ? value.length * 2 : 0) + slots.size * 20;
      if (index.sorted !== null) bytes += index.sorted.values.byteLength + index.sorted.slots.byteLength;
    }
    return bytes;
  }

  equal(path: string, value: Scalar): ReadonlySet<number> | null {
    if (typeof value === 'string' && value.length > MAX_INDEXED_STRING) return null;
    return this.#paths.get(path)?.byValue.get(value) ?? EMPTY;
  }

  range(path: string, lower: RangeBound | null, upper: RangeBound | null): ReadonlySet<number> {
    const index = this.#paths.get(path);
    if (index === undefined) return EMPTY;
    const { values, slots } = (index.sorted ??= sortNumbers(index.byValue));
    const from = lower === null ? 0 : firstAtLeast(values, lower.value, !lower.inclusive);
    const to = upper === null ? values.length : firstAtLeast(values, upper.value, upper.inclusive);
    const found = new Set<number>();
    for (let i = from; i < to; i++) found.add(slots[i]);
    return found;
  }
}

/** What visit reports each (dotted path, scalar) to, with the slot it was given. */
interface ScalarSink {
  found(path: string, value: Scalar, slot: number): void;
}

/** Calls `sink.found` for every (dotted path, scalar) the filters can match, as resolvePath reaches them. */
function visit(value: JsonObject, prefix: string, sink: ScalarSink, slot: number): void {
  // Object.keys, not entries: no [key, value] array per property.
  for (const key of Object.keys(value)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    visitValue(value[key], path, sink, slot, true);
  }
}

function visitValue(value: JsonValue, path: string, sink: ScalarSink, slot: number, arraysOpen: boolean): void {
  if (value === null) return;
  if (typeof value === 'string') {
    if (value.length <= MAX_INDEXED_STRING) sink.found(path, value, slot);
  } else if (typeof value === 'number' || typeof value === 'boolean') {
    sink.found(path, value, slot);
  } else if (Array.isArray(value)) {
    // Elements match as the field's values; arrays within arrays match only as whole arrays.
    if (arraysOpen) for (const element of value) visitValue(element, path, sink, slot, false);
  } else {
    visit(value, path, sink, slot);
  }
}

function sortNumbers(byValue: Map<Scalar, Set<number>>): { values: Float64Array; slots: Uint32Array } {
  const numbers = [...byValue.keys()].filter((key): key is number => typeof key === 'number').sort((a, b) => a - b);
  let total = 0;
  for (const number of numbers) total += byValue.get(number)!.size;
  const values = new Float64Array(total);
  const slots = new Uint32Array(total);
  let at = 0;
  for (const number of numbers) {
    for (const slot of byValue.get(number)!) {
      values[at] = number;
      slots[at++] = slot;
    }
  }
  return { values, slots };
}

/** First position whose value is >= bound (or > bound when `strictly`). */
function firstAtLeast(values: Float64Array, bound: number, strictly: boolean): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (values[mid] < bound || (strictly && values[mid] === bound)) low = mid + 1;
    else high = mid;
  }
  return low;
}

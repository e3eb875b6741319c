// The metadata index against brute force: for random metadata and filters, the candidates it
// plans are always a superset of the true matches, and exactly the matches when it says exact;
// it follows adds and removals.
import { describe, expect, it } from 'vitest';
import { compileFilterPlan } from '../../../src/service/input/metadata-filter.js';
import { MAX_INDEXED_STRING, MetadataIndex } from '../../../src/service/open/metadata-index.js';
import type { Filter, JsonObject } from '../../../src/service/types.js';
import { seededRandom } from '../reference-search.js';

const random = seededRandom(7);
const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];
const COLOURS = ['red', 'green', 'blue'];

function randomMetadata(): JsonObject | null {
  if (random() < 0.05) return null;
  const metadata: JsonObject = {};
  if (random() < 0.9) metadata.colour = pick(COLOURS);
  if (random() < 0.9) metadata.size = Math.floor(random() * 20) - 5;
  if (random() < 0.5) metadata.tags = Array.from({ length: Math.floor(random() * 3) }, () => pick(['a', 'b', 'c', 1, true]));
  if (random() < 0.5) metadata.spec = { level: Math.floor(random() * 4), parts: [{ n: Math.floor(random() * 3) }, { n: 'x' }] };
  if (random() < 0.2) metadata.size = String(metadata.size ?? 1);
  if (random() < 0.1) metadata.long = 'y'.repeat(MAX_INDEXED_STRING + 1);
  if (random() < 0.1) metadata.flag = random() < 0.5;
  return metadata;
}

const FILTERS: Filter[] = [
  { colour: 'red' },
  { colour: { $in: ['red', 'blue'] } },
  { size: { $gte: 3, $lt: 9 } },
  { size: { $gt: 3 } },
  { size: { $lte: -2 } },
  { size: 4, colour: 'green' },
  { tags: 'a' },
  { tags: 1 },
  { tags: true },
  { tags: { $contains: 'b' } },
  { 'spec.level': 2 },
  { 'spec.parts.n': 1 },
  { 'spec.parts.n': { $gte: 1 } },
  { $or: [{ colour: 'red' }, { size: { $lt: 0 } }] },
  { $or: [{ colour: 'red' }, { size: { $ne: 3 } }] },
  { $and: [{ colour: 'blue' }, { tags: { $exists: true } }] },
  { colour: 'red', size: { $not: { $gt: 5 } } },
  { long: 'y'.repeat(MAX_INDEXED_STRING + 1) },
  { flag: false },
  { size: '4' },
  { size: { $gt: '3' } },
  { colour: null },
  { missing: 'x' },
  { size: { $gt: 100 } },
  { $nor: [{ colour: 'red' }] },
];

function check(index: MetadataIndex, docs: Map<number, JsonObject | null>): void {
  let exactPlans = 0;
  for (const filter of FILTERS) {
    const plan = compileFilterPlan(filter);
    const matches = [...docs].filter(([, metadata]) => plan.matches(metadata)).map(([slot]) => slot).sort((a, b) => a - b);
    const candidates = plan.candidates(index);
    if (candidates === null) continue;
    const slots = [...candidates.slots].sort((a, b) => a - b);
    for (const slot of matches) expect(candidates.slots.has(slot), `${JSON.stringify(filter)} misses slot ${slot}`).toBe(true);
    if (candidates.exact) expect(slots, JSON.stringify(filter)).toEqual(matches);
    if (candidates.exact) exactPlans++;
  }
  // Most of these filters are answered from the index alone.
  expect(exactPlans).toBeGreaterThan(12);
}

describe('MetadataIndex', () => {
  it('plans candidates that contain every match, and exactly the matches when exact, through adds and removals', () => {
    const index = new MetadataIndex();
    const docs = new Map<number, JsonObject | null>();
    for (let slot = 0; slot < 400; slot++) {
      const metadata = randomMetadata();
      docs.set(slot, metadata);
      index.add(slot, metadata);
    }
    check(index, docs);
    // Removals and replacements (a replaced item gets a new slot).
    for (let slot = 0; slot < 400; slot += 3) {
      index.remove(slot, docs.get(slot)!);
      docs.delete(slot);
      if (slot % 2 === 0) {
        const metadata = randomMetadata();
        docs.set(1000 + slot, metadata);
        index.add(1000 + slot, metadata);
      }
    }
    check(index, docs);
  });

  it('answers equality and numeric ranges on indexed paths exactly, and declines what it does not index', () => {
    const index = new MetadataIndex();
    index.add(1, { n: 1, s: 'a', nested: { deep: [2, 3] } });
    index.add(2, { n: 2.5, s: 'b' });
    index.add(3, { n: -1 });
    expect([...index.equal('s', 'a')!]).toEqual([1]);
    expect([...index.equal('nested.deep', 3)!]).toEqual([1]);
    expect([...index.range('n', { value: 1, inclusive: true }, { value: 2.5, inclusive: false })]).toEqual([1]);
    expect([...index.range('n', null, { value: 1, inclusive: true })].sort()).toEqual([1, 3]);
    expect([...index.range('n', { value: -1, inclusive: false }, null)].sort()).toEqual([1, 2]);
    expect(index.equal('s', 'z'.repeat(MAX_INDEXED_STRING + 1))).toBeNull();
    expect(index.equal('unknown', 1)!.size).toBe(0);
    const before = index.estimateBytes();
    index.remove(2, { n: 2.5, s: 'b' });
    expect([...index.range('n', { value: 0, inclusive: true }, null)]).toEqual([1]);
    // What it holds shrinks with what it indexes.
    expect(index.estimateBytes()).toBeLessThan(before);
    index.clear();
    expect(index.estimateBytes()).toBe(0);
  });
});

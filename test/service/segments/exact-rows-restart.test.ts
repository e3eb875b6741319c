// IVF_SQ8 items written after training far outside the trained ranges, through the service on
// both stores: each is found first by its own vector in single and batched search, before and after
// a restart from a sealed segment set plus the tail (the set leaves such items to the tail, and the
// engine keeps them exact again: engine/exact-rows.ts), also from a set written after they were;
// deletes and replacements take effect across restarts; and a property test over random
// out-of-range writes, replacements and deletes checks that a restart equals the index before it.

import fc from 'fast-check';
import { expect, it } from 'vitest';
import type { CipherdexIndexService } from '../../../src/service/index-service.js';
import type { ItemInput } from '../../../src/service/types.js';
import { seededVectors } from '../reference-search.js';
import { forEachStore, newKey } from '../service-harness.js';
import { segmentTests } from './segment-tests.js';

const DIM = 16;
const N = 160;
const SEGMENT_BYTES = 4096;

/** A vector far outside the training data (whose values lie within about +-1.2): a scaled data row with a spike. */
function outlier(seed: number, scale: number, spike: number): number[] {
  const [base] = seededVectors(1, DIM, seed);
  return base.map((x, d) => Math.fround(x * scale + (d === seed % DIM ? spike : 0)));
}

forEachStore((fresh) => {
  const key = newKey();
  const tests = segmentTests(fresh, key, SEGMENT_BYTES);
  const { service, openDirect, closeDirect, writeSet } = tests;

  async function trainedIndex(): Promise<void> {
    const s = await service();
    await s.createIndex('docs', key, { dimension: DIM, type: 'ivf_sq8' });
    const items: ItemInput[] = seededVectors(N, DIM, 1).map((vector, i) => ({ id: `item-${i}`, vector, metadata: { i } }));
    await s.upsert('docs', key, items);
    await s.train('docs', key, { nLists: 6, wait: true });
    await s.close();
  }

  /** The first hit of each vector's own search, single (one query per call) and batched (all at once), at `nProbes`. */
  async function firsts(s: CipherdexIndexService, vectors: number[][], nProbes?: number): Promise<{ single: string[]; batched: string[] }> {
    const options = { topK: 5, ...(nProbes === undefined ? {} : { nProbes }) };
    const single: string[] = [];
    for (const vector of vectors) single.push((await s.search('docs', key, [vector], options))[0].hits[0]?.id ?? '');
    const batched = (await s.search('docs', key, vectors, options)).map((r) => r.hits[0]?.id ?? '');
    return { single, batched };
  }

  async function expectFoundFirst(s: CipherdexIndexService, outliers: Map<string, number[]>): Promise<void> {
    const ids = [...outliers.keys()];
    for (const nProbes of [1, undefined]) expect(await firsts(s, [...outliers.values()], nProbes)).toEqual({ single: ids, batched: ids });
  }

  it('an item written after training far outside the ranges is found first by its own vector, before and after restarts from segment sets plus the tail; deletes hold', async () => {
    await trainedIndex();
    await writeSet();
    const outliers = new Map(Array.from({ length: 5 }, (_, i) => [`out-${i}`, outlier(100 + i, 30, 200 * (i % 2 === 0 ? 1 : -1))]));
    let s = await service();
    await s.upsert('docs', key, [...outliers].map(([id, vector]) => ({ id, vector })));
    await expectFoundFirst(s, outliers);
    await s.close();

    // A restart from the set written before them: they are its tail.
    s = await service();
    await expectFoundFirst(s, outliers);
    await s.delete('docs', key, ['out-1']);
    const gone = outliers.get('out-1')!;
    outliers.delete('out-1');
    // A replacement inside the ranges (one more vector of the training data's clusters) leaves the exact rows.
    const inRange = seededVectors(N + 1, DIM, 1)[N];
    await s.upsert('docs', key, [{ id: 'out-3', vector: inRange }]);
    outliers.delete('out-3');
    await expectFoundFirst(s, outliers);
    expect((await s.search('docs', key, [gone], { topK: 20 }))[0].hits.map((h) => h.id)).not.toContain('out-1');
    await s.close();

    let { open } = await openDirect();
    expect(open.loadedFromSegments).toBe(true);
    expect(open.engine.exactRows).toBe(3);
    await closeDirect();

    // A set written after them leaves them out, items and all; the open replays them and keeps them exact again.
    await writeSet();
    ({ open } = await openDirect());
    expect(open.loadedFromSegments).toBe(true);
    expect(open.engine.exactRows).toBe(3);
    expect(open.size).toBe(N + 4);
    // They are not changes a newer set would absorb.
    expect(open.changesSinceSegments).toBe(0);
    await closeDirect();
    s = await service();
    await expectFoundFirst(s, outliers);
    expect((await s.search('docs', key, [gone], { topK: 20 }))[0].hits.map((h) => h.id)).not.toContain('out-1');
    expect((await s.get('docs', key, ['out-0'], ['vector']))[0]?.vector).toEqual(outliers.get('out-0'));
    await s.close();
  });

  type Op = { kind: 'outlier'; id: number; scale: number; spike: number } | { kind: 'normal'; id: number } | { kind: 'delete'; id: number } | { kind: 'set' };
  const op: fc.Arbitrary<Op> = fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant('outlier' as const), id: fc.nat(12), scale: fc.double({ min: 1, max: 100, noNaN: true }), spike: fc.double({ min: -300, max: 300, noNaN: true }) }), weight: 4 },
    { arbitrary: fc.record({ kind: fc.constant('normal' as const), id: fc.nat(12) }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('delete' as const), id: fc.nat(12) }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('set' as const) }), weight: 1 },
  );

  it('a restart from segments plus the tail equals the index before it under random out-of-range writes, replacements and deletes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 10 }), fc.integer({ min: 1, max: 1000 }), async (ops, seed) => {
        await tests.harness.dispose();
        tests.harness = await fresh();
        await trainedIndex();
        await writeSet();
        const written = new Map<string, number[]>();
        let s = await service();
        for (const [i, o] of ops.entries()) {
          if (o.kind === 'set') {
            // A set written now, by a process of its own, as the segment keeper would.
            await s.close();
            await writeSet();
            s = await service();
            continue;
          }
          const id = `x-${o.id}`;
          if (o.kind === 'delete') {
            await s.delete('docs', key, [id]);
            written.delete(id);
          } else {
            const vector = o.kind === 'outlier' ? outlier(seed + i, o.scale, o.spike) : seededVectors(N + 1, DIM, 1)[N];
            await s.upsert('docs', key, [{ id, vector }]);
            written.set(id, vector);
          }
        }
        await s.close();
        const observe = async (s: CipherdexIndexService): Promise<unknown> => {
          const ids = (await s.listIds('docs', key)).sort();
          const queries = [...written.values(), ...seededVectors(3, DIM, 5)];
          const searches = [];
          for (const nProbes of [1, 3]) searches.push((await s.search('docs', key, queries, { topK: 6, nProbes })).map((r) => r.hits.map((h) => [h.id, h.distance])));
          return { ids, searches };
        };
        const before = await service();
        const expected = await observe(before);
        await before.close();
        const after = await service();
        expect(await observe(after)).toEqual(expected);
        // Every item written far outside the ranges is its own first hit (an in-range one may tie with a training item).
        const far = new Map([...written].filter(([id]) => ops.some((o) => o.kind === 'outlier' && `x-${o.id}` === id)));
        const { open } = await openDirect();
        expect(open.loadedFromSegments).toBe(true);
        for (const [id, vector] of far) {
          const [hit] = (await after.search('docs', key, [vector], { topK: 3, nProbes: 1 }))[0].hits;
          // The first hit is the vector itself: its id, or another written with the same vector.
          if (hit.id !== id) expect(written.get(hit.id)).toEqual(vector);
        }
        await after.close();
        await closeDirect();
      }),
      { numRuns: 3, seed: 23 },
    );
  }, 180_000);
});

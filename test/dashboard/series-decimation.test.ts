// The dashboard's series thinning (src/dashboard/series-decimation.js, a browser script that
// defines globalThis.CipherdexSeries): bounded output, first and last point kept, every bucket's
// extremes of every series kept (so spikes survive), values stay aligned with their x.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { runInThisContext } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';

type Series = (number | null)[];
interface CipherdexSeries {
  decimate(xs: number[], series: Series[], buckets: number): [number[], ...Series[]];
}

let decimate: CipherdexSeries['decimate'];

beforeAll(async () => {
  // Run as the browser runs it: a classic script that defines a global.
  const file = fileURLToPath(new URL('../../src/dashboard/series-decimation.js', import.meta.url));
  runInThisContext(await readFile(file, 'utf8'), { filename: file });
  decimate = (globalThis as unknown as { CipherdexSeries: CipherdexSeries }).CipherdexSeries.decimate;
});

/** A 10,000-point noisy decay with a few spikes and gaps, like a long mini-batch run. */
function run(n: number): { xs: number[]; shift: Series; inertia: Series } {
  const xs = Array.from({ length: n }, (_, i) => i + 1);
  let seed = 7;
  const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const shift: Series = xs.map((x) => (x % 997 === 0 ? null : Math.exp(-x / 2000) * (1 + random())));
  const inertia: Series = xs.map((x) => 1000 / Math.sqrt(x) + random());
  shift[4321] = 50; // spikes
  inertia[7777] = -5;
  return { xs, shift, inertia };
}

describe('CipherdexSeries.decimate', () => {
  it('passes short series through unchanged (copies)', () => {
    const xs = [1, 2, 3];
    const ys: Series = [0.5, null, 0.25];
    const [keptXs, keptYs] = decimate(xs, [ys], 10);
    expect(keptXs).toEqual(xs);
    expect(keptYs).toEqual(ys);
    expect(keptXs).not.toBe(xs);
  });

  it('bounds a long series to 2 points per series per bucket plus the ends, keeping first, last and every spike', () => {
    const { xs, shift, inertia } = run(10_000);
    const buckets = 200;
    const [keptXs, keptShift, keptInertia] = decimate(xs, [shift, inertia], buckets);
    expect(keptXs.length).toBeLessThanOrEqual(buckets * 4 + 2);
    expect(keptXs.length).toBeGreaterThanOrEqual(buckets);
    expect(keptXs[0]).toBe(1);
    expect(keptXs.at(-1)).toBe(10_000);
    // Ascending x, and each kept value is the original value at that x.
    keptXs.slice(1).forEach((x, i) => expect(x).toBeGreaterThan(keptXs[i]!));
    keptXs.forEach((x, i) => {
      expect(keptShift![i]).toBe(shift[x - 1]);
      expect(keptInertia![i]).toBe(inertia[x - 1]);
    });
    // The extremes of the whole series (the spikes) survive.
    expect(keptXs).toContain(4322);
    expect(keptXs).toContain(7778);
    expect(Math.max(...(keptShift!.filter((y) => y !== null) as number[]))).toBe(50);
    expect(Math.min(...(keptInertia!.filter((y) => y !== null) as number[]))).toBe(-5);
  });

  it('keeps each bucket\'s minimum and maximum: the thinned line spans the same band everywhere', () => {
    const { xs, shift } = run(10_000);
    const buckets = 100;
    const [keptXs, keptShift] = decimate(xs, [shift], buckets);
    for (let b = 0; b < buckets; b++) {
      const lo = Math.floor((b * xs.length) / buckets);
      const hi = Math.floor(((b + 1) * xs.length) / buckets);
      const original = shift.slice(lo, hi).filter((y): y is number => y !== null);
      const kept = keptXs.flatMap((x, i) => (x - 1 >= lo && x - 1 < hi && keptShift![i] !== null ? [keptShift![i] as number] : []));
      expect(Math.min(...kept)).toBe(Math.min(...original));
      expect(Math.max(...kept)).toBe(Math.max(...original));
    }
  });

  it('treats a bucket of gaps as nothing to keep, without failing', () => {
    const xs = Array.from({ length: 1000 }, (_, i) => i + 1);
    const gaps: Series = xs.map(() => null);
    const [keptXs, keptGaps] = decimate(xs, [gaps], 10);
    expect(keptXs).toEqual([1, 1000]);
    expect(keptGaps).toEqual([null, null]);
  });
});

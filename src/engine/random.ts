// Seeded pseudo-random numbers, so that training with the same seed gives the same model.

/** Seed used when a caller gives none: training is reproducible unless asked otherwise. */
export const DEFAULT_SEED = 0x5eed;

export type Random = () => number;

/** sfc32 (Chris Doty-Humphrey's small fast counter): uniform in [0, 1), 2^128 state. */
export function createRandom(seed: number = DEFAULT_SEED): Random {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = (): number => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    const t = (a + b + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4_294_967_296;
  };
  // The first outputs of a counter generator still echo the seed; discard them.
  for (let i = 0; i < 12; i++) next();
  return next;
}

/** Uniform integer in [0, n). */
export function randomInt(random: Random, n: number): number {
  return Math.floor(random() * n);
}

/** The first `count` entries of a uniformly shuffled 0..n-1 (partial Fisher-Yates). */
export function sampleIndices(random: Random, n: number, count: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  shuffle(random, order, count);
  return order.subarray(0, count);
}

/** Shuffles the first `count` positions of `values` uniformly (all of them by default). */
export function shuffle(random: Random, values: Uint32Array, count: number = values.length): void {
  const n = values.length;
  for (let i = 0; i < Math.min(count, n - 1); i++) {
    const j = i + randomInt(random, n - i);
    const t = values[i];
    values[i] = values[j];
    values[j] = t;
  }
}

// Per-index activity in whole-second buckets: items upserted, query vectors searched and search
// call latencies, so indexStats can report rates and percentiles over the last complete second.
// Only counts and durations are kept; a bucket older than the last complete second is dropped.

/** Latency samples kept per index and second; beyond it, reservoir sampling keeps a fair sample. */
const MAX_SAMPLES = 2048;

interface Bucket {
  second: number;
  upserts: number;
  searches: number;
  samples: number[];
  seen: number;
}

export interface ActivityInterval {
  upserts: number;
  searches: number;
  /** Search call latencies in ms, unsorted (a sample when there were many). */
  latenciesMs: number[];
}

const EMPTY: ActivityInterval = { upserts: 0, searches: 0, latenciesMs: [] };

export class IndexActivity {
  readonly #now: () => number;
  readonly #buckets = new Map<string, { current: Bucket; previous: Bucket | null }>();

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  recordUpsert(index: string, items: number): void {
    this.#bucket(index).upserts += items;
  }

  recordSearch(index: string, queries: number, ms: number): void {
    const bucket = this.#bucket(index);
    bucket.searches += queries;
    bucket.seen++;
    if (bucket.samples.length < MAX_SAMPLES) bucket.samples.push(ms);
    else {
      const slot = Math.floor(Math.random() * bucket.seen);
      if (slot < MAX_SAMPLES) bucket.samples[slot] = ms;
    }
  }

  /** What happened to `index` in the last complete second. */
  lastSecond(index: string): ActivityInterval {
    const wanted = Math.floor(this.#now() / 1000) - 1;
    const entry = this.#buckets.get(index);
    const bucket = entry?.current.second === wanted ? entry.current : entry?.previous?.second === wanted ? entry.previous : null;
    return bucket === null ? EMPTY : { upserts: bucket.upserts, searches: bucket.searches, latenciesMs: bucket.samples };
  }

  forget(index: string): void {
    this.#buckets.delete(index);
  }

  #bucket(index: string): Bucket {
    const second = Math.floor(this.#now() / 1000);
    const entry = this.#buckets.get(index);
    if (entry?.current.second === second) return entry.current;
    const current: Bucket = { second, upserts: 0, searches: 0, samples: [], seen: 0 };
    this.#buckets.set(index, { current, previous: entry?.current.second === second - 1 ? entry.current : null });
    return current;
  }
}

/** The q-quantile (0..1) of `values` by the nearest-rank method, or null when there are none. */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

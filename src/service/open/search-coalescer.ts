// Runs the single-query searches of one index that arrive in the same turn of the event loop as
// one engine batch. Concurrent clients' searches then read each list once for all of them
// (searchBatch answers 1.5-1.8x the queries per second of single searches, and an untrained
// index's exhaustive scan reads every row once per batch instead of once per query), which
// leaves the thread that answers queries more of its time under load.
import type { EngineSearchOptions, EngineSearchResult, EngineStageTimings, VectorIndex } from '../../engine/index.js';

/** The searches this coalesces: no filter, which batched queries cannot share. */
export type CoalescedOptions = Pick<EngineSearchOptions, 'topK' | 'nProbes' | 'timings'>;

interface Group {
  options: CoalescedOptions;
  queries: Float32Array[];
  waiters: { resolve: (result: EngineSearchResult) => void; reject: (error: unknown) => void; timings?: EngineStageTimings }[];
}

export class SearchCoalescer {
  readonly #engine: () => VectorIndex;
  /** Searches waiting for this turn's batch, by their options. */
  #groups = new Map<string, Group>();

  /** `engine` gives the engine at the moment a batch runs (an index may replace its engine). */
  constructor(engine: () => VectorIndex) {
    this.#engine = engine;
  }

  /**
   * The engine's answer to `query`, as `search` gives it. The search runs once the searches that
   * arrived in this turn of the event loop are known (setImmediate: after the I/O already read),
   * with every other one of the same options. Its stage timings get an equal share of the batch's.
   */
  search(query: Float32Array, options: CoalescedOptions): Promise<EngineSearchResult> {
    const key = `${options.topK ?? ''}/${options.nProbes ?? ''}`;
    const group = this.#groups.get(key) ?? { options: { topK: options.topK, nProbes: options.nProbes }, queries: [], waiters: [] };
    if (group.queries.length === 0) {
      this.#groups.set(key, group);
      if (this.#groups.size === 1) setImmediate(() => this.#flush());
    }
    group.queries.push(query);
    return new Promise((resolve, reject) => group.waiters.push({ resolve, reject, timings: options.timings }));
  }

  #flush(): void {
    const groups = [...this.#groups.values()];
    this.#groups.clear();
    for (const { options, queries, waiters } of groups) {
      try {
        const engine = this.#engine();
        const timings = { probe: 0, scan: 0, rerank: 0 };
        const batched = { ...options, timings };
        const results = queries.length === 1 ? [engine.search(queries[0], batched)] : engine.searchBatch(concatenate(queries), batched);
        waiters.forEach((waiter, i) => {
          if (waiter.timings) {
            waiter.timings.probe += timings.probe / queries.length;
            waiter.timings.scan += timings.scan / queries.length;
            waiter.timings.rerank += timings.rerank / queries.length;
          }
          waiter.resolve(results[i]);
        });
      } catch (error) {
        for (const waiter of waiters) waiter.reject(error);
      }
    }
  }
}

function concatenate(queries: Float32Array[]): Float32Array {
  const dimension = queries[0].length;
  const packed = new Float32Array(queries.length * dimension);
  queries.forEach((query, i) => packed.set(query, i * dimension));
  return packed;
}

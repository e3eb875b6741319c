// What the service reports about its own work, for whoever observes it (the server's Prometheus
// registry). An interface, so the service and the layers below never import a metrics library;
// every report names at most the index, never ids, contents, metadata or keys.

import type { StoreFaultKind } from '../storage/index.js';
import type { TrainingRun } from './types.js';

/** Where a search spends its time, in seconds, summed over the queries of one call. */
export interface SearchStageSeconds {
  /** Proving the key and, when the index was not in memory, decrypting it. */
  decrypt: number;
  /** Ranking centroids to choose the lists to scan (0 when the search is exact). */
  probe: number;
  /** Scanning the chosen lists (int8 pre-scan when trained, float32 rows otherwise). */
  scan: number;
  /** Exact distances for the kept candidates, and their final order. */
  rerank: number;
}

export interface ServiceMetrics {
  /** A search call that answered `queries` query vectors. */
  searched(index: string, queries: number, stages: SearchStageSeconds, seconds: number): void;
  /** An upsert acknowledged: `items` written in `seconds` (validation, sealing, store, memory). */
  upserted(index: string, items: number, seconds: number): void;
  /** A local training run reached its final phase (COMPLETED, FAILED or CANCELLED). */
  trainingEnded(run: TrainingRun): void;
  /** One store call and how it ended: `fault` is the kind of store fault, null when it succeeded or failed otherwise. */
  storeCall(operation: string, seconds: number, fault: StoreFaultKind | null, failed: boolean): void;
}

/** The default: nothing observes, nothing is measured. */
export const NO_SERVICE_METRICS: ServiceMetrics = {
  searched: () => {},
  upserted: () => {},
  trainingEnded: () => {},
  storeCall: () => {},
};

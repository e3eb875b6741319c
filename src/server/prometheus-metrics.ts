// Cipherdex's own Prometheus metrics, on a registry of their own (one per server, so several
// servers in one process never share counters): what the service reports through its
// ServiceMetrics interface, gauges read from the service at scrape time, authentication refusals
// and Node's process metrics. Labels carry only fixed vocabularies (stage, outcome, operation,
// fault kind) and, when METRICS_INDEX_LABELS allows it, index names; never ids, contents,
// metadata or keys.

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { IndexService, SearchStageSeconds, ServiceMetrics } from '../service/index.js';
import type { AuthFailureLimiter } from './auth-failure-limiter.js';

export interface PrometheusMetrics {
  readonly registry: Registry;
  /** What the index service reports to (give it to createIndexService). */
  readonly service: ServiceMetrics;
  /** Reads queue depth and resident memory from `service` at every scrape. */
  observe(service: IndexService): void;
  /** The same limiter, counting the wrong keys it is told of and the refusals it answers. */
  countingRefusals(limiter: AuthFailureLimiter): AuthFailureLimiter;
}

export interface PrometheusMetricsOptions {
  /** Label per-index series with the index name (more series: one set per index). */
  indexLabels: boolean;
}

/** Seconds: from a tenth of a millisecond (an in-memory search) to half a minute (a slow store). */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const TRAINING_SECONDS_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
const ITERATION_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];
const STAGES: readonly (keyof SearchStageSeconds)[] = ['decrypt', 'probe', 'scan', 'rerank'];

export function createPrometheusMetrics(options: PrometheusMetricsOptions): PrometheusMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'cipherdex_' });
  const registers = [registry];
  const byIndex = options.indexLabels ? ['index'] : [];
  const indexLabel = options.indexLabels ? (index: string) => ({ index }) : () => ({});

  const searchQueries = new Counter({ name: 'cipherdex_search_queries_total', help: 'Query vectors searched.', labelNames: byIndex, registers });
  const searchSeconds = new Histogram({
    name: 'cipherdex_search_duration_seconds', help: 'Time per search call, key check to results.', labelNames: byIndex, buckets: LATENCY_BUCKETS, registers,
  });
  const stageSeconds = new Histogram({
    name: 'cipherdex_search_stage_seconds',
    help: 'Time per search call in each stage: decrypt (key check, and decrypting a cold index), probe (choosing lists), scan (lists), rerank (exact distances of the candidates).',
    labelNames: ['stage', ...byIndex], buckets: LATENCY_BUCKETS, registers,
  });
  const upsertedItems = new Counter({ name: 'cipherdex_upserted_items_total', help: 'Items written by acknowledged upserts.', labelNames: byIndex, registers });
  const upsertSeconds = new Histogram({
    name: 'cipherdex_upsert_duration_seconds', help: 'Time per acknowledged upsert (validate, seal, store, apply).', labelNames: byIndex, buckets: LATENCY_BUCKETS, registers,
  });
  const trainingRuns = new Counter({ name: 'cipherdex_training_runs_total', help: 'Training runs ended here, by outcome and trigger.', labelNames: ['outcome', 'trigger'], registers });
  const trainingSeconds = new Histogram({
    name: 'cipherdex_training_duration_seconds', help: 'Duration of ended training runs.', labelNames: ['outcome'], buckets: TRAINING_SECONDS_BUCKETS, registers,
  });
  const trainingIterations = new Histogram({
    name: 'cipherdex_training_iterations', help: 'Iterations of ended training runs.', labelNames: ['outcome'], buckets: ITERATION_BUCKETS, registers,
  });
  const storeSeconds = new Histogram({
    name: 'cipherdex_store_call_duration_seconds', help: 'Time per store call, by operation.', labelNames: ['operation'], buckets: LATENCY_BUCKETS, registers,
  });
  const storeFaults = new Counter({
    name: 'cipherdex_store_faults_total', help: 'Store calls that failed because the store was unavailable, by operation and kind of fault.', labelNames: ['operation', 'kind'], registers,
  });
  const storeErrors = new Counter({ name: 'cipherdex_store_errors_total', help: 'Store calls that failed for any reason, by operation.', labelNames: ['operation'], registers });
  const authFailures = new Counter({ name: 'cipherdex_auth_failures_total', help: 'Requests and connections that presented a wrong API key.', registers });
  const rateLimited = new Counter({ name: 'cipherdex_auth_rate_limited_total', help: 'Requests and connections refused by the failed-authentication limit.', registers });

  let observed: IndexService | null = null;
  new Gauge({
    name: 'cipherdex_training_queue_depth', help: 'Training runs of this process, by state.', labelNames: ['state'], registers,
    collect() {
      if (observed === null) return;
      const queue = observed.trainingQueue();
      this.set({ state: 'running' }, queue.running.length);
      this.set({ state: 'queued' }, queue.queued.length);
    },
  });
  new Gauge({
    name: 'cipherdex_open_indexes', help: 'Indexes decrypted in memory.', registers,
    collect() {
      if (observed !== null) this.set(observed.residentMemory().indexes);
    },
  });
  new Gauge({
    name: 'cipherdex_resident_bytes', help: 'Bytes the engines of the open indexes hold (vectors, int8 codes, lists, centroids).', registers,
    collect() {
      if (observed !== null) this.set(observed.residentMemory().bytes);
    },
  });

  const service: ServiceMetrics = {
    searched(index, queries, stages, seconds) {
      const labels = indexLabel(index);
      searchQueries.inc(labels, queries);
      searchSeconds.observe(labels, seconds);
      for (const stage of STAGES) stageSeconds.observe({ stage, ...labels }, stages[stage]);
    },
    upserted(index, items, seconds) {
      const labels = indexLabel(index);
      upsertedItems.inc(labels, items);
      upsertSeconds.observe(labels, seconds);
    },
    trainingEnded(run) {
      const outcome = run.phase.toLowerCase();
      trainingRuns.inc({ outcome, trigger: run.trigger.toLowerCase() });
      trainingSeconds.observe({ outcome }, run.elapsedMs / 1000);
      trainingIterations.observe({ outcome }, run.iteration);
    },
    storeCall(operation, seconds, fault, failed) {
      storeSeconds.observe({ operation }, seconds);
      if (failed) storeErrors.inc({ operation });
      if (fault !== null) storeFaults.inc({ operation, kind: fault });
    },
  };

  return {
    registry,
    service,
    observe(indexService) {
      observed = indexService;
    },
    countingRefusals(limiter) {
      return {
        retryAfterMs(address) {
          const wait = limiter.retryAfterMs(address);
          // Every caller refuses when this is positive (use-api-key-auth.ts).
          if (wait > 0) rateLimited.inc();
          return wait;
        },
        recordFailure(address) {
          authFailures.inc();
          limiter.recordFailure(address);
        },
        get trackedAddresses() {
          return limiter.trackedAddresses;
        },
      };
    },
  };
}

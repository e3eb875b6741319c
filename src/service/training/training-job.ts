// The work of one training run: snapshot the open index's vectors, run k-means and lay out the
// new lists in a worker thread, seal and persist the new model, then swap it in atomically.
// Searches keep using the previous state until the swap; writes made during the run are placed
// by the swap.

import { trainInWorker } from '../../engine/index.js';
import type { Store } from '../../storage/index.js';
import { ConvergenceError } from '../errors.js';
import { toDomainError } from '../lower-layer-errors.js';
import type { OpenIndex } from '../open/open-index.js';
import { sealModelInSteps } from '../records/trained-model-record.js';
import { runBetweenTurns } from '../../runtime/turns.js';
import { sealTagOf } from '../records/index-commitment.js';
import type { TrainingJob, TrainingJobResult } from './training-scheduler.js';
import type { TrainingParams } from './training-status.js';
import type { TrainingRun, TrainingTrigger } from '../types.js';

export interface TrainingJobOptions {
  open: OpenIndex;
  /** Where the model is saved; under a lease, a save fenced by it (training-runs.ts). */
  store: Pick<Store, 'saveModel'>;
  params: TrainingParams;
  trigger: TrainingTrigger;
  /** A run that stops above tolerance is not swapped in and fails with ConvergenceError. */
  requireConvergence: boolean;
  /** Called with the ConvergenceError before the job rejects, so waiters can rethrow it. */
  onConvergenceFailure?: (runId: string, error: ConvergenceError) => void;
}

/** Rows of the snapshot matched to their records between two turns of the event loop. */
const GATHER_STEP_ROWS = 10_000;

class IndexClosedError extends Error {
  constructor(index: string) {
    super(`Index "${index}" was closed or deleted during training.`);
    this.name = 'IndexClosedError';
  }
}

export function createTrainingJob(options: TrainingJobOptions): TrainingJob {
  const { open, store, params } = options;
  return async ({ runId, signal, report }): Promise<TrainingJobResult> => {
    if (open.closed) throw new IndexClosedError(open.name);
    const startedAt = new Date();
    // Copied into shared memory once; the worker reads it without another copy.
    const snapshot = await open.trainingSnapshot();
    const result = await trainInWorker(snapshot.vectors, open.config.dimension, open.config.metric, params, {
      signal,
      // Shift and inertia are NaN until the first iteration: report them as unknown, not as NaN.
      onProgress: (progress) =>
        report({ phase: progress.phase, iteration: progress.iteration, shift: finite(progress.shift), inertia: finite(progress.inertia) }),
    }, { codec: open.engine.spec, lists: { ids: snapshot.ids, layout: snapshot.layout } });
    if (options.requireConvergence && !result.converged) {
      const error = new ConvergenceError(result.iterations, result.shift, params.tolerance);
      options.onConvergenceFailure?.(runId, error);
      throw error;
    }
    report({ phase: 'PERSISTING', iteration: result.iterations, shift: result.shift, inertia: result.inertia });
    await open.lock.run(async () => {
      // The commit point: after the model is durable, the swap must follow, whatever happens.
      signal.throwIfAborted();
      if (open.closed) throw new IndexClosedError(open.name);
      // The stored model keeps the assignments of items still present, by token and revision;
      // gathered in steps with searches answered between them (writes wait for the lock).
      const lists = new Uint32Array(snapshot.ids.length);
      const revisions = new Uint32Array(snapshot.ids.length);
      const tokens: Buffer[] = [];
      for (let row = 0; row < snapshot.ids.length; row++) {
        if (row > 0 && row % GATHER_STEP_ROWS === 0) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (open.closed) throw new IndexClosedError(open.name);
        }
        const record = open.recordAtSlot(snapshot.ids[row]);
        if (record === undefined) continue;
        lists[tokens.length] = result.lists[row];
        revisions[tokens.length] = record.revision;
        tokens.push(record.token);
      }
      const finishedAt = new Date();
      const run: TrainingRun = {
        runId,
        index: open.name,
        trigger: options.trigger,
        phase: 'COMPLETED',
        iteration: result.iterations,
        ...params,
        shift: finite(result.shift) ?? null,
        inertia: finite(result.inertia) ?? null,
        converged: result.converged,
        progress: 1,
        elapsedMs: finishedAt.getTime() - startedAt.getTime(),
        etaMs: 0,
        vectorCount: snapshot.ids.length,
        startedAt,
        finishedAt,
        message: null,
      };
      // Sealed in steps, searches answered between them (120,000 items: 25-40 ms in one).
      const sealed = await runBetweenTurns(sealModelInSteps(open.cipher, {
        nLists: result.nLists,
        dimension: open.config.dimension,
        centroids: result.centroids,
        ...(result.codec ? { codec: result.codec } : {}),
        trainedVectorCount: snapshot.ids.length,
        tokens,
        revisions: revisions.subarray(0, tokens.length),
        lists: lists.subarray(0, tokens.length),
        info: { index: open.name, run },
      }), () => {
        if (open.closed) throw new IndexClosedError(open.name);
      });
      try {
        await store.saveModel(open.name, sealed);
      } catch (error) {
        throw toDomainError(error, open.name);
      }
      // The worker laid out the new lists too: this thread adopts them and places later writes.
      await open.applyModelInSlices(result, { ids: snapshot.ids, lists: result.lists, built: result.built }, { nLists: result.nLists, trainedVectorCount: snapshot.ids.length, run });
      // Any sealed segment set belongs to the previous model now: every item is tail until a new one is written.
      open.modelSealTag = sealTagOf(sealed);
      open.changesSinceSegments = open.size;
    });
    open.onItemsChanged?.();
    return { iterations: result.iterations, shift: result.shift, inertia: result.inertia, converged: result.converged };
  };
}

function finite(value: number): number | undefined {
  return Number.isFinite(value) ? value : undefined;
}

// Builds TrainingStatus snapshots: the IDLE state, a run's QUEUED state, and a run's progress and ETA.
import { isOneOf, TERMINAL_PHASES } from '../enumerations.js';
import type { TrainingPhase, TrainingRun, TrainingStatus, TrainingTrigger } from '../types.js';

export interface TrainingParams {
  nLists: number;
  batchSize: number;
  maxIters: number;
  tolerance: number;
}

/** A run in one of these phases is over: no further event of that run follows. */
export function isTerminalPhase(phase: TrainingPhase): boolean {
  return isOneOf(TERMINAL_PHASES, phase);
}

/** The state of an index that never trained (or whose history was dropped). */
export function idleStatus(index: string): TrainingStatus {
  return {
    runId: null,
    index,
    trigger: null,
    phase: 'IDLE',
    iteration: 0,
    maxIters: 0,
    nLists: 0,
    batchSize: 0,
    tolerance: 0,
    shift: null,
    inertia: null,
    converged: false,
    progress: 0,
    elapsedMs: 0,
    etaMs: null,
    vectorCount: 0,
    startedAt: null,
    finishedAt: null,
    message: null,
  };
}

/** A new run waiting for a slot; it has not started, so it has no start time and no elapsed time. */
export function queuedRun(input: {
  runId: string;
  index: string;
  trigger: TrainingTrigger;
  params: TrainingParams;
  vectorCount: number;
}): TrainingRun {
  return {
    ...idleStatus(input.index),
    runId: input.runId,
    trigger: input.trigger,
    phase: 'QUEUED',
    ...input.params,
    vectorCount: input.vectorCount,
  };
}

// Iterations are the bulk of a k-means run; initialization (seeding) comes before them and the final
// assignment pass and the sealed write after them. These marks split 0..1 between the three.
const ITERATIONS_START = 0.05;
const ASSIGNING_START = 0.9;
const PERSISTING_START = 0.95;

/**
 * Share of the run done when a phase is reached. Never below `previous`, so progress is monotonic
 * even when a run converges early and jumps from iteration 7 of 100 to ASSIGNING; FAILED and
 * CANCELLED keep whatever progress the run had made.
 */
export function trainingProgress(phase: TrainingPhase, iteration: number, maxIters: number, previous = 0): number {
  let reached: number;
  switch (phase) {
    case 'ITERATING':
      reached = ITERATIONS_START + (ASSIGNING_START - ITERATIONS_START) * (maxIters > 0 ? Math.min(iteration, maxIters) / maxIters : 1);
      break;
    case 'ASSIGNING':
      reached = ASSIGNING_START;
      break;
    case 'PERSISTING':
      reached = PERSISTING_START;
      break;
    case 'COMPLETED':
      reached = 1;
      break;
    default:
      reached = 0;
  }
  return Math.min(1, Math.max(previous, reached));
}

/**
 * Milliseconds left, from the mean iteration time. The final assignment is one more pass over the
 * data, so it is priced as one iteration: while iterating, the iterations left up to maxIters (an
 * upper bound, since a run may converge early) plus that pass; while assigning, that pass alone.
 * Persisting is not estimated (0). Null before the first iteration and before a run starts.
 */
export function trainingEtaMs(phase: TrainingPhase, iteration: number, maxIters: number, meanIterationMs: number | null): number | null {
  switch (phase) {
    case 'COMPLETED':
    case 'PERSISTING':
      return 0;
    case 'ITERATING':
      return meanIterationMs === null ? null : Math.round(meanIterationMs * (Math.max(0, maxIters - iteration) + 1));
    case 'ASSIGNING':
      return meanIterationMs === null ? null : Math.round(meanIterationMs);
    default:
      return null;
  }
}

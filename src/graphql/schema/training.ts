// Training as a first-class operation: runs, their live status, the service-wide queue, and the
// trainIndex / cancelTraining mutations and the trainingStatus subscription.

import {
  ConvergenceError,
  IncompatibleIndexError,
  InsufficientResourcesError,
  InsufficientVectorsError,
  TrainingInProgressError,
  TRAINING_PHASES,
  TRAINING_TRIGGERS,
  TrainingNotRunningError,
} from '../../service/index.js';
import type { TrainingQueueInfo, TrainingRun, TrainingStatus } from '../../service/index.js';
import { builder } from '../builder.js';
import { indexAccessErrors } from './errors.js';
import { indexArgs } from './index-args.js';

export const TrainingPhaseEnum = builder.enumType('TrainingPhase', {
  description: 'Where a run is. COMPLETED, FAILED and CANCELLED are final; IDLE means no run is queued or running.',
  values: TRAINING_PHASES,
});

export const TrainingTriggerEnum = builder.enumType('TrainingTrigger', {
  description: 'MANUAL: trainIndex. AUTOMATIC: the index crossed its retrain threshold.',
  values: TRAINING_TRIGGERS,
});

/** What a run and a status event share; a run is a status whose runId and trigger are known. */
const TrainingProgressInterface = builder.interfaceRef<TrainingStatus>('TrainingProgress').implement({
  description: 'The progress of a training run, as carried by TrainingRun and by each TrainingStatus event.',
  fields: (t) => ({
    index: t.exposeString('index'),
    phase: t.field({ type: TrainingPhaseEnum, resolve: (s) => s.phase }),
    iteration: t.exposeInt('iteration', { description: 'Iterations completed so far.' }),
    maxIters: t.exposeInt('maxIters'),
    nLists: t.exposeInt('nLists'),
    batchSize: t.exposeInt('batchSize'),
    tolerance: t.exposeFloat('tolerance'),
    shift: t.exposeFloat('shift', { nullable: true, description: 'Relative centroid shift of the last iteration.' }),
    inertia: t.exposeFloat('inertia', { nullable: true, description: 'Sum of squared distances to the nearest centroid.' }),
    converged: t.exposeBoolean('converged'),
    progress: t.exposeFloat('progress', { description: '0..1' }),
    elapsedMs: t.exposeFloat('elapsedMs'),
    etaMs: t.exposeFloat('etaMs', { nullable: true }),
    vectorCount: t.exposeInt('vectorCount', { description: 'Vectors the run trains on.' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    // Non-null like Error.message, so the two can be selected side by side in a result union.
    message: t.string({
      description: 'What happened, in words; empty when there is nothing to add (e.g. why a run FAILED).',
      resolve: (s) => s.message ?? '',
    }),
    replica: t.string({
      nullable: true,
      description:
        'The replica that runs (or ran) it: its CIPHERDEX_REPLICA_NAME, by default host name:process id. Null when not known (a run recorded in a model saved before replicas named their runs).',
      resolve: (s) => s.replica ?? null,
    }),
  }),
});

export const TrainingRunRef = builder.objectRef<TrainingRun>('TrainingRun').implement({
  description: 'One training run of one index.',
  interfaces: [TrainingProgressInterface],
  fields: (t) => ({
    runId: t.exposeID('runId'),
    trigger: t.field({ type: TrainingTriggerEnum, resolve: (run) => run.trigger }),
  }),
});

export const TrainingStatusRef = builder.objectRef<TrainingStatus>('TrainingStatus').implement({
  description: "One event of an index's training topic: its current state, emitted at every phase change and iteration.",
  interfaces: [TrainingProgressInterface],
  fields: (t) => ({
    runId: t.exposeID('runId', { nullable: true, description: 'Null only for IDLE on an index that never trained.' }),
    trigger: t.field({ type: TrainingTriggerEnum, nullable: true, resolve: (status) => status.trigger }),
  }),
});

export const TrainingQueueRef = builder.objectRef<TrainingQueueInfo>('TrainingQueue').implement({
  description:
    "The training scheduler of the whole service: with several replicas and Redis, every replica's queued and running runs, each naming its replica.",
  fields: (t) => ({
    retrainThreshold: t.exposeInt('retrainThreshold', { description: 'An untrained index is queued once it holds this many vectors; -1 when RETRAIN_THRESHOLD=-1 turned automatic training off.' }),
    autoTrainEnabled: t.exposeBoolean('autoTrainEnabled'),
    retrainGrowthFactor: t.exposeFloat('retrainGrowthFactor', {
      description: 'A trained index is queued again once it holds this many times the vectors it was trained on.',
    }),
    maxConcurrentTrainings: t.exposeInt('maxConcurrentTrainings'),
    running: t.field({ type: [TrainingRunRef], resolve: (queue) => queue.running }),
    queued: t.field({ type: [TrainingRunRef], resolve: (queue) => queue.queued }),
  }),
});

builder.queryField('trainingQueue', (t) =>
  t.field({
    type: TrainingQueueRef,
    description: 'Runs in progress and waiting, and the rule that queues automatic runs.',
    resolve: (_root, _args, { service }) => service.trainingQueue(),
  }),
);

builder.subscriptionField('trainingQueue', (t) =>
  t.field({
    type: TrainingQueueRef,
    description:
      'The training queue now, then again after every change (a run queued, started or ended). A slow client receives the latest state, never a backlog.',
    subscribe: (_root, _args, { service }) => service.trainingQueueUpdates(),
    resolve: (queue) => queue,
  }),
);

builder.mutationField('trainIndex', (t) =>
  t.field({
    type: TrainingRunRef,
    description:
      'Queues a training run (IVF k-means) and returns it at once, or with wait: true when it ends. Omitted parameters take the defaults: batchSize 2048, maxIters 100, tolerance 1e-6, nLists from the vector count.',
    errors: {
      types: [
        ...indexAccessErrors,
        InsufficientVectorsError,
        IncompatibleIndexError,
        TrainingInProgressError,
        InsufficientResourcesError,
        ConvergenceError,
      ],
    },
    args: {
      ...indexArgs,
      nLists: t.arg.int({ description: 'Inverted lists (clusters); chosen from the vector count when absent.' }),
      batchSize: t.arg.int({ description: 'Vectors per training batch (default 2048).' }),
      maxIters: t.arg.int({ description: 'Upper bound on k-means iterations (default 100).' }),
      tolerance: t.arg.float({
        description:
          'Convergence threshold on the relative centroid shift, smoothed over recent batches in mini-batch runs (default 1e-6). Mini-batch runs also converge when their smoothed inertia stops improving; 0 runs all maxIters.',
      }),
      wait: t.arg.boolean({
        defaultValue: false,
        description:
          'Resolve when the run ends instead of when it is queued. When the index already has a run (manual or automatic), waits for that run if it uses every argument given here, else for one follow-up run with these arguments queued when it ends.',
      }),
      requireConvergence: t.arg.boolean({
        defaultValue: false,
        description: 'With wait: a run that stops at maxIters without converging answers ConvergenceError.',
      }),
    },
    resolve: (_root, args, { service }) =>
      service.train(args.index, args.key, {
        nLists: args.nLists ?? undefined,
        batchSize: args.batchSize ?? undefined,
        maxIters: args.maxIters ?? undefined,
        tolerance: args.tolerance ?? undefined,
        wait: args.wait === true,
        requireConvergence: args.requireConvergence === true,
      }),
  }),
);

builder.mutationField('cancelTraining', (t) =>
  t.field({
    type: TrainingRunRef,
    description:
      "Cancels the index's queued or running run, on whichever replica runs it (forwarded over Redis); the index keeps serving from its previous state.",
    errors: { types: [...indexAccessErrors, TrainingNotRunningError] },
    args: indexArgs,
    resolve: (_root, args, { service }) => service.cancelTraining(args.index, args.key),
  }),
);

builder.subscriptionField('trainingStatus', (t) =>
  t.field({
    type: TrainingStatusRef,
    description:
      "The index's training state now (IDLE when nothing runs), then every phase change and iteration of every later run, manual or automatic. A wrong key or unknown index arrives as one typed error event.",
    errors: { types: indexAccessErrors },
    args: indexArgs,
    subscribe: (_root, args, { service }) => service.trainingStatus(args.index, args.key),
    resolve: (status) => status,
  }),
);

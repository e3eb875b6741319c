// The training run history of an index: trainingRuns (newest first, in pages) and trainingRun (one
// run by id, e.g. the activeRunId of a TrainingInProgressError once that run has ended).

import { TrainingRunNotFoundError, type TrainingRunPage } from '../../service/index.js';
import { builder } from '../builder.js';
import { indexAccessErrors } from './errors.js';
import { indexArgs } from './index-args.js';
import { TrainingRunRef } from './training.js';

const TrainingRunPageRef = builder.objectRef<TrainingRunPage>('TrainingRunPage').implement({
  description: "A page of an index's ended training runs, newest first.",
  fields: (t) => ({
    runs: t.field({ type: [TrainingRunRef], resolve: (page) => page.runs }),
    endCursor: t.exposeString('endCursor', { nullable: true, description: 'Pass as `after` for the next page; null on an empty page.' }),
    hasNextPage: t.exposeBoolean('hasNextPage'),
  }),
});

builder.queryField('trainingRuns', (t) =>
  t.field({
    type: TrainingRunPageRef,
    description:
      'Runs of the index that ended (COMPLETED, FAILED or CANCELLED), newest first. Recorded sealed in the store as each run ends, so the history survives restarts.',
    errors: { types: indexAccessErrors },
    args: {
      ...indexArgs,
      first: t.arg.int({ description: 'Runs per page: 1 to 100, default 20.' }),
      after: t.arg.string({ description: 'The endCursor of the previous page.' }),
    },
    resolve: (_root, args, { service }) => service.trainingRuns(args.index, args.key, { first: args.first, after: args.after }),
  }),
);

builder.queryField('trainingRun', (t) =>
  t.field({
    type: TrainingRunRef,
    description: 'One recorded run of the index by id.',
    errors: { types: [...indexAccessErrors, TrainingRunNotFoundError] },
    args: { ...indexArgs, runId: t.arg.id({ required: true }) },
    resolve: (_root, args, { service }) => service.trainingRun(args.index, args.key, String(args.runId)),
  }),
);

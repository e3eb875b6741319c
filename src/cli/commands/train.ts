// `cipherdex train <index>`: starts a training run, and with --follow watches it live through the
// trainingStatus subscription down to a final summary.

import { parseArgs } from 'node:util';
import type { Client } from 'graphql-ws';
import { connectionHelp, connectionOptionSpecs, resolveConnection, resolveIndexKey, type Connection } from '../api/connection-options.js';
import { GraphqlHttpClient } from '../api/graphql-http-client.js';
import {
  CANCEL_TRAINING_MUTATION,
  FINAL_PHASES,
  TRAINING_STATUS_SUBSCRIPTION,
  TRAIN_INDEX_MUTATION,
  type CancelTrainingData,
  type TrainIndexData,
  type TrainingProgress,
  type TrainingStatusData,
} from '../api/operations.js';
import { createSubscriptionClient, subscriptionError } from '../api/subscription-client.js';
import { expectResult } from '../api/typed-result.js';
import { CliError, ExitCode, usageError } from '../exit-codes.js';
import { integerOption, numberOption } from '../option-values.js';
import { trainingSummary } from '../training/training-summary.js';
import { TrainingProgressView } from '../training/training-progress-view.js';

export const trainHelp = `Usage: cipherdex train <index> [options]

Starts a training run (IVF k-means) of the index. Without --follow or --wait it prints the queued
run and returns at once.

Options:
  --n-lists N        inverted lists (clusters); default: chosen from the vector count
  --batch-size N     vectors per training batch (default 2048)
  --max-iters N      upper bound on k-means iterations (default 100)
  --tolerance X      convergence threshold on the relative centroid shift (default 1e-6)
  --follow           watch the run live (phase, progress bar, iteration, shift, inertia, ETA) and
                     print a summary; subscribes before starting the run so no event is missed
  --wait             block until the run ends (no live view), then print the summary
  --cancel           cancel the index's queued or running run instead of starting one

With --follow or --wait the exit code is ${ExitCode.TRAINING_FAILED} when the run ends FAILED or CANCELLED.

${connectionHelp}`;

interface TrainArguments {
  index: string;
  key: string;
  nLists?: number;
  batchSize?: number;
  maxIters?: number;
  tolerance?: number;
}

export async function trainCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      ...connectionOptionSpecs,
      'n-lists': { type: 'string' },
      'batch-size': { type: 'string' },
      'max-iters': { type: 'string' },
      tolerance: { type: 'string' },
      follow: { type: 'boolean', default: false },
      wait: { type: 'boolean', default: false },
      cancel: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1) throw usageError('expected exactly one index name: cipherdex train <index>');
  // Ranges are the server's to enforce (it answers ValidationError with the allowed range);
  // only values that cannot be numbers at all are stopped here.
  const request: TrainArguments = {
    index: positionals[0]!,
    key: resolveIndexKey(values),
    nLists: integerOption(values['n-lists'], '--n-lists', 1),
    batchSize: integerOption(values['batch-size'], '--batch-size', 1),
    maxIters: integerOption(values['max-iters'], '--max-iters', 1),
    tolerance: numberOption(values.tolerance, '--tolerance', (n) => n >= 0, 'a number >= 0'),
  };
  const connection = resolveConnection(values);
  const http = new GraphqlHttpClient(connection);

  if (values.cancel) {
    const data = await http.request<CancelTrainingData>(CANCEL_TRAINING_MUTATION, { index: request.index, key: request.key });
    const run = expectResult(data.cancelTraining, 'TrainingRun');
    console.log(`Cancelled training run ${run.runId} of "${run.index}" (was ${run.phase === 'CANCELLED' ? 'cancelled' : run.phase}).`);
    return ExitCode.OK;
  }
  // --wait also watches the subscription rather than holding an HTTP request open with
  // trainIndex(wait: true): HTTP clients and proxies time out long before a big run ends.
  if (values.follow || values.wait) return watchRun(connection, http, request, values.follow);

  const data = await http.request<TrainIndexData>(TRAIN_INDEX_MUTATION, { ...request, wait: false });
  const run = expectResult(data.trainIndex, 'TrainingRun');
  console.log(`Queued training run ${run.runId} of "${run.index}" (phase ${run.phase}, ${run.nLists} lists, maxIters ${run.maxIters}).`);
  return ExitCode.OK;
}

function exitCodeOf(run: TrainingProgress): number {
  return run.phase === 'COMPLETED' ? ExitCode.OK : ExitCode.TRAINING_FAILED;
}

/** Starts a run and watches it to its end; `live` draws every event, otherwise only the summary is printed. */
async function watchRun(connection: Connection, http: GraphqlHttpClient, request: TrainArguments, live: boolean): Promise<number> {
  const ws: Client = createSubscriptionClient(connection);
  const events = ws.iterate<TrainingStatusData>({ query: TRAINING_STATUS_SUBSCRIPTION, variables: { index: request.index, key: request.key } });
  const view = live ? new TrainingProgressView() : null;
  const detach = onInterrupt(() => {
    view?.stop();
    console.error(`Detached; the run goes on on the server. Cancel it with: cipherdex train ${request.index} --cancel`);
    process.exit(ExitCode.INTERRUPTED);
  });
  try {
    const nextStatus = async (): Promise<TrainingProgress | null> => {
      let result;
      try {
        result = await events.next();
      } catch (error) {
        throw subscriptionError(connection, error);
      }
      if (result.done) return null;
      if (result.value.errors?.length) throw subscriptionError(connection, result.value.errors);
      const event = result.value.data?.trainingStatus;
      if (!event) throw new CliError('the server sent a trainingStatus event without data', ExitCode.SERVER_ERROR);
      return expectResult(event, 'TrainingStatus');
    };

    // The subscription answers with the index's current state first: once it has arrived, every
    // event of the run started below is guaranteed to reach us (graphql-ws queues them).
    const current = await nextStatus();
    if (current === null) throw new CliError('the server closed the subscription at once', ExitCode.SERVER_ERROR);

    const data = await http.request<TrainIndexData>(TRAIN_INDEX_MUTATION, { ...request, wait: false });
    const run = expectResult(data.trainIndex, 'TrainingRun');
    console.error(`Training run ${run.runId} of "${run.index}" started (${run.vectorCount} vectors, ${run.nLists} lists, maxIters ${run.maxIters}).`);
    // The mutation's answer is a snapshot that may be newer than events still queued for us, so
    // only the events drive the view: they arrive in order, from QUEUED on.
    let last: TrainingProgress = run;
    while (!FINAL_PHASES.has(last.phase)) {
      const status = await nextStatus();
      if (status === null) {
        throw new CliError(`the server ended the subscription before run ${run.runId} finished; check it with: cipherdex status ${request.index}`, ExitCode.UNREACHABLE);
      }
      if (status.runId !== run.runId) continue;
      view?.update(status);
      last = status;
    }
    view?.stop();
    console.log(trainingSummary(last));
    return exitCodeOf(last);
  } finally {
    view?.stop();
    detach();
    await events.return?.();
    await ws.dispose();
  }
}

function onInterrupt(handler: () => void): () => void {
  process.once('SIGINT', handler);
  return () => process.off('SIGINT', handler);
}

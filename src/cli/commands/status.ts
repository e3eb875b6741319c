// `cipherdex status [index]`: the server's indexes and training queue, or one index's description
// and its last training run when an index (and its key) is given.

import { parseArgs } from 'node:util';
import { connectionHelp, connectionOptionSpecs, resolveConnection, resolveIndexKey } from '../api/connection-options.js';
import { GraphqlHttpClient } from '../api/graphql-http-client.js';
import { INDEX_QUERY, STATUS_QUERY, type IndexQueryData, type StatusData, type TrainingProgress } from '../api/operations.js';
import { expectResult } from '../api/typed-result.js';
import { ExitCode, usageError } from '../exit-codes.js';
import { formatCount, formatDuration } from '../format.js';
import { trainingSummary } from '../training/training-summary.js';

export const statusHelp = `Usage: cipherdex status [index] [options]

Without an index: the server's indexes and its training queue (running and queued runs, the
auto-training threshold). With an index and its key: dimension, metric, lists, vector count,
trained state and the last training run.

Options:
  --json    print the raw answer as JSON

${connectionHelp}`;

function runLine(run: TrainingProgress): string {
  return `${run.index}: run ${run.runId} ${run.trigger ?? ''} ${run.phase} ${Math.round(run.progress * 100)}% iteration ${run.iteration}/${run.maxIters} ETA ${formatDuration(run.etaMs)}`;
}

export async function statusCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { ...connectionOptionSpecs, json: { type: 'boolean', default: false } },
  });
  if (positionals.length > 1) throw usageError('expected at most one index name: cipherdex status [index]');
  const connection = resolveConnection(values);
  const client = new GraphqlHttpClient(connection);

  if (positionals.length === 1) {
    const key = resolveIndexKey(values);
    const data = await client.request<IndexQueryData>(INDEX_QUERY, { index: positionals[0], key });
    const index = expectResult(data.index, 'Index');
    if (values.json) {
      console.log(JSON.stringify(index, null, 2));
      return ExitCode.OK;
    }
    console.log(`Index "${index.name}"`);
    console.log(`  dimension ${index.dimension}, metric ${index.metric}, type ${index.type}`);
    console.log(`  vectors ${formatCount(index.vectorCount)}, lists ${index.nLists ?? 'chosen at training'}`);
    console.log(`  trained ${index.isTrained ? 'yes' : 'no'}${index.isTraining ? ', training now' : ''}`);
    if (index.lastTrainingRun) console.log(`Last training run:\n${trainingSummary(index.lastTrainingRun).replace(/^/gm, '  ')}`);
    return ExitCode.OK;
  }

  const data = await client.request<StatusData>(STATUS_QUERY);
  if (values.json) {
    console.log(JSON.stringify(data, null, 2));
    return ExitCode.OK;
  }
  const queue = data.trainingQueue;
  console.log(`Server ${connection.url}`);
  console.log(`  indexes (${data.indexes.length}): ${data.indexes.join(', ') || 'none'}`);
  console.log(
    `  auto-training ${queue.autoTrainEnabled ? `on: an untrained index is queued at ${formatCount(queue.retrainThreshold)} vectors` : 'off'}`,
  );
  console.log(`  running (${queue.running.length})${queue.running.map((run) => `\n    ${runLine(run)}`).join('')}`);
  console.log(`  queued (${queue.queued.length})${queue.queued.map((run) => `\n    ${runLine(run)}`).join('')}`);
  return ExitCode.OK;
}

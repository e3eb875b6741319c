// `cipherdex import <file>`: loads a JSON Lines, .fvecs or .npy file into an index through the
// upsert mutation, in batches, with a progress bar, resumable from a sidecar checkpoint.

import { parseArgs } from 'node:util';
import { connectionHelp, connectionOptionSpecs, resolveConnection, resolveIndexKey } from '../api/connection-options.js';
import { GraphqlHttpClient } from '../api/graphql-http-client.js';
import {
  CREATE_INDEX_MUTATION,
  INDEX_QUERY,
  UPSERT_MUTATION,
  type CreateIndexData,
  type IndexDescription,
  type IndexQueryData,
  type ItemInput,
  type UpsertData,
} from '../api/operations.js';
import { domainError, expectResult, isApiError } from '../api/typed-result.js';
import { encodeVector } from '../api/vector-encoding.js';
import { CliError, ExitCode, usageError } from '../exit-codes.js';
import { formatCount, formatDuration } from '../format.js';
import { ImportCheckpoint, checkpointPathFor } from '../import/import-checkpoint.js';
import { ImportProgress } from '../import/import-progress.js';
import { METRICS, type Metric } from '../../service/index.js';
import { enumOption, integerOption, requiredOption } from '../option-values.js';
import { VECTOR_FILE_FORMATS, openVectorFile } from '../vector-files/open-vector-file.js';
import type { VectorFile, VectorRecord } from '../vector-files/vector-file.js';

/** The Metric enum's GraphQL names: the service's metrics in upper case. */
const METRIC_NAMES = METRICS.map((metric) => metric.toUpperCase() as Uppercase<Metric>);

export const importHelp = `Usage: cipherdex import <file> --index NAME [options]

Loads vectors into an index with the upsert mutation, in batches, showing items/s and ETA on stderr.
The index is created with the file's dimension when it does not exist yet.

Input formats (chosen by extension, or --format):
  .jsonl/.ndjson  one {"id", "vector", "contents"?, "metadata"?} object per line; "vector" is a
                  list of numbers or base64 little-endian float32
  .fvecs          int32 dimension + float32 values per row; ids are --id-prefix + row number
  .npy            2-D float32 (or float64) array; ids are --id-prefix + row number

Resuming: after every batch the server acknowledges, the position is saved per index in
<file>.cipherdex-import.json. If the import stops (Ctrl-C, a network error, a crash), rerun the
same command and it continues after the last acknowledged batch. A batch that was in flight is
sent again, which is harmless: an upsert replaces items with the same id.

Options:
  --index NAME        target index (required)
  --format FORMAT     ${VECTOR_FILE_FORMATS.join(' | ')} (default: from the extension)
  --batch-size N      items per upsert request (default 1000)
  --id-prefix TEXT    prefix of the ids of .fvecs/.npy rows (default: none, ids are "0", "1", ...)
  --metric METRIC     for a new index: ${METRIC_NAMES.join(' | ')} (default EUCLIDEAN)
  --n-lists N         for a new index: number of IVF lists (default: chosen when training)
  --restart           ignore the checkpoint and import from the first record
  --quiet             no progress bar

${connectionHelp}`;

export async function importCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      ...connectionOptionSpecs,
      index: { type: 'string' },
      format: { type: 'string' },
      'batch-size': { type: 'string' },
      'id-prefix': { type: 'string', default: '' },
      metric: { type: 'string' },
      'n-lists': { type: 'string' },
      restart: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1) throw usageError('expected exactly one input file: cipherdex import <file> --index NAME');
  const path = positionals[0]!;
  const indexName = requiredOption(values.index, '--index');
  const batchSize = integerOption(values['batch-size'], '--batch-size', 1) ?? 1000;
  const metric = enumOption(values.metric, '--metric', METRIC_NAMES);
  const nLists = integerOption(values['n-lists'], '--n-lists', 1);
  const format = enumOption(values.format, '--format', VECTOR_FILE_FORMATS);
  const connection = resolveConnection(values);
  const key = resolveIndexKey(values);
  const client = new GraphqlHttpClient(connection);

  const file = await openVectorFile(path, { format, idPrefix: values['id-prefix'] });
  try {
    const checkpoint = await ImportCheckpoint.open(path, values.restart);
    const saved = checkpoint.progressOf(indexName);
    if (saved?.complete) {
      console.log(
        `Nothing to do: all ${formatCount(saved.position.record)} records of ${path} were already imported into "${indexName}" ` +
          `(${checkpointPathFor(path)}). Pass --restart to import them again.`,
      );
      return ExitCode.OK;
    }
    const index = await openOrCreateIndex(client, { indexName, key, file, metric, nLists });
    const from = saved?.position ?? file.start;
    if (saved) console.error(`Resuming at record ${formatCount(from.record)} (from ${checkpointPathFor(path)}).`);

    const upload = new Upload(client, indexName, key);
    const progress = values.quiet ? null : new ImportProgress(file, from);
    const stopRequested = interruptionFlag();
    let position = from;
    let vectorCount = index.vectorCount;
    try {
      const batches = file.batches(from, batchSize);
      let pending = batches.next();
      for (;;) {
        const next = await pending;
        if (next.done) break;
        // Read the next batch from disk while the server stores this one.
        pending = batches.next();
        pending.catch(() => undefined);
        vectorCount = await upload.send(next.value.records);
        position = next.value.next;
        await checkpoint.save(indexName, position, false);
        progress?.update(position);
        if (stopRequested()) break;
      }
    } finally {
      progress?.stop();
    }
    const imported = position.record - from.record;
    const seconds = (Date.now() - upload.startedAt) / 1000;
    const rate = seconds > 0 ? formatCount(imported / seconds) : '--';
    if (stopRequested()) {
      console.error(`Interrupted after ${formatCount(position.record)} records; rerun the same command to continue.`);
      return ExitCode.INTERRUPTED;
    }
    await checkpoint.save(indexName, position, true);
    console.log(
      `Imported ${formatCount(imported)} records into "${indexName}" in ${formatDuration(seconds * 1000)} (${rate} items/s)` +
        `${saved ? `, resumed at record ${formatCount(from.record)}` : ''}; the index holds ${formatCount(vectorCount)} vectors.`,
    );
    return ExitCode.OK;
  } finally {
    await file.close();
  }
}

/** Upserts batches and returns the index's vector count after each. */
class Upload {
  readonly startedAt = Date.now();

  constructor(
    private readonly client: GraphqlHttpClient,
    private readonly index: string,
    private readonly key: string,
  ) {}

  async send(records: VectorRecord[]): Promise<number> {
    const items: ItemInput[] = records.map((record) => {
      const item: ItemInput = { id: record.id, vector: encodeVector(record.vector) };
      if (record.contents !== undefined) item.contents = record.contents;
      if (record.metadata !== undefined) item.metadata = record.metadata;
      return item;
    });
    const data = await this.client.request<UpsertData>(UPSERT_MUTATION, { index: this.index, key: this.key, items });
    return expectResult(data.upsert, 'UpsertSuccess').index.vectorCount;
  }
}

interface IndexTarget {
  indexName: string;
  key: string;
  file: VectorFile;
  metric: Uppercase<Metric> | undefined;
  nLists: number | undefined;
}

/** The index to import into; created with the file's dimension when missing. Checks dimensions before sending anything. */
async function openOrCreateIndex(client: GraphqlHttpClient, target: IndexTarget): Promise<IndexDescription> {
  const { indexName, key, file } = target;
  const existing = (await client.request<IndexQueryData>(INDEX_QUERY, { index: indexName, key })).index;
  let index: IndexDescription;
  if (isApiError(existing)) {
    if (existing.code !== 'INDEX_NOT_FOUND') throw domainError(existing);
    const created = await client.request<CreateIndexData>(CREATE_INDEX_MUTATION, {
      index: indexName,
      key,
      dimension: file.dimension,
      metric: target.metric ?? 'EUCLIDEAN',
      nLists: target.nLists ?? null,
    });
    index = expectResult(created.createIndex, 'Index');
    console.error(`Created index "${indexName}" (dimension ${index.dimension}, metric ${index.metric}).`);
  } else {
    index = expectResult(existing, 'Index');
    if (target.metric !== undefined || target.nLists !== undefined) {
      console.error(`Index "${indexName}" exists: --metric and --n-lists apply only to a new index and are ignored.`);
    }
  }
  if (index.dimension !== file.dimension) {
    throw new CliError(
      `${file.path} holds ${file.dimension}-dimensional vectors; index "${indexName}" expects ${index.dimension} (DIMENSION_MISMATCH)`,
      ExitCode.DOMAIN_ERROR,
      'DIMENSION_MISMATCH',
    );
  }
  return index;
}

/**
 * The first Ctrl-C (or SIGTERM) asks the loop to stop after the batch in flight (so the checkpoint is exact);
 * a second one exits at once, which is still safe because the checkpoint is written atomically.
 */
function interruptionFlag(): () => boolean {
  let requested = false;
  const onSignal = () => {
    if (requested) process.exit(ExitCode.INTERRUPTED);
    requested = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => requested;
}

// `cipherdex search <index>`: nearest neighbours of one vector given inline, or of every vector in
// a file (one searchBatch request per chunk of queries).

import { parseArgs } from 'node:util';
import { connectionHelp, connectionOptionSpecs, resolveConnection, resolveIndexKey } from '../api/connection-options.js';
import { GraphqlHttpClient } from '../api/graphql-http-client.js';
import { SEARCH_BATCH_QUERY, type ItemField, type SearchBatchData, type SearchResults } from '../api/operations.js';
import { expectResult } from '../api/typed-result.js';
import { encodeVector } from '../api/vector-encoding.js';
import { ExitCode, usageError } from '../exit-codes.js';
import { formatDistance, formatScientific } from '../format.js';
import { enumOption, integerOption } from '../option-values.js';
import { VECTOR_FILE_FORMATS, openVectorFile } from '../vector-files/open-vector-file.js';
import { ITEM_FIELDS, type JsonObject } from '../../service/index.js';

/** Queries per searchBatch request; well under the server's default MAX_QUERIES_PER_BATCH. */
const QUERIES_PER_REQUEST = 100;
const FIELDS = ITEM_FIELDS.map((field) => field.toUpperCase() as ItemField);

export const searchHelp = `Usage: cipherdex search <index> (--vector V | --from-file FILE) [options]

Prints the nearest items of each query vector: rank, id, distance, and the included fields.

Options:
  --vector V         one query vector: comma-separated numbers ("0.1,0.2,0.3") or a JSON list;
                     a vector that starts with a minus sign works as --vector=-0.31,0.2 or --vector -0.31,0.2
  --from-file FILE   query vectors from a .jsonl, .fvecs or .npy file (one query per record)
  --format FORMAT    ${VECTOR_FILE_FORMATS.join(' | ')} for --from-file (default: from the extension)
  --limit N          with --from-file, use only the first N vectors
  --top-k N          hits per query (default 10)
  --n-probes N       lists to probe in a trained index (default: the server's choice)
  --filter JSON      metadata filter, e.g. '{"lang": {"$in": ["en", "fr"]}}'
  --include FIELDS   comma-separated: contents, metadata, vector
  --json             print one JSON object per query instead of a table

${connectionHelp}`;

export function parseVectorText(text: string): Float32Array {
  const trimmed = text.trim();
  let parts: unknown[];
  if (trimmed.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      parts = Array.isArray(parsed) ? parsed : [parsed];
    } catch {
      throw usageError('--vector is not a valid JSON list');
    }
  } else {
    parts = trimmed.split(/[\s,]+/).filter((part) => part !== '').map(Number);
  }
  if (parts.length === 0) throw usageError('--vector is empty');
  const vector = new Float32Array(parts.length);
  parts.forEach((part, i) => {
    if (typeof part !== 'number' || !Number.isFinite(part)) throw usageError(`--vector element ${i} is not a finite number`);
    vector[i] = part;
  });
  return vector;
}

function parseFilter(text: string | undefined): JsonObject | null {
  if (text === undefined) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw usageError(`--filter is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw usageError('--filter must be a JSON object');
  return value as JsonObject;
}

function parseInclude(text: string | undefined): ItemField[] {
  if (text === undefined) return [];
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => enumOption(part, '--include', FIELDS)!);
}

/** The @include switches of SEARCH_BATCH_QUERY: the server fetches only the fields selected. */
function selectionVariables(fields: readonly ItemField[]): { withContents: boolean; withMetadata: boolean; withVector: boolean } {
  return { withContents: fields.includes('CONTENTS'), withMetadata: fields.includes('METADATA'), withVector: fields.includes('VECTOR') };
}

interface Query {
  /** The record's id when the query came from a file. */
  id: string | null;
  vector: Float32Array;
}

/**
 * `--vector -0.31,0.2`: node's parseArgs takes a value starting with "-" for an option and refuses
 * it, so a --vector followed by a number list is joined into `--vector=-0.31,0.2` first.
 */
export function joinNegativeVector(args: readonly string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const next = args[i + 1];
    if (args[i] === '--vector' && next !== undefined && /^-[\d.]/.test(next)) {
      joined.push(`--vector=${next}`);
      i++;
    } else {
      joined.push(args[i]!);
    }
  }
  return joined;
}

export async function searchCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: joinNegativeVector(args),
    allowPositionals: true,
    strict: true,
    options: {
      ...connectionOptionSpecs,
      vector: { type: 'string' },
      'from-file': { type: 'string' },
      format: { type: 'string' },
      limit: { type: 'string' },
      'top-k': { type: 'string' },
      'n-probes': { type: 'string' },
      filter: { type: 'string' },
      include: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1) throw usageError('expected exactly one index name: cipherdex search <index> --vector ...');
  if ((values.vector === undefined) === (values['from-file'] === undefined)) throw usageError('give exactly one of --vector and --from-file');
  const index = positionals[0]!;
  const key = resolveIndexKey(values);
  const variables = {
    index,
    key,
    topK: integerOption(values['top-k'], '--top-k', 1) ?? 10,
    nProbes: integerOption(values['n-probes'], '--n-probes', 1) ?? null,
    filter: parseFilter(values.filter),
    ...selectionVariables(parseInclude(values.include)),
  };
  const limit = integerOption(values.limit, '--limit', 1) ?? Number.POSITIVE_INFINITY;
  const format = enumOption(values.format, '--format', VECTOR_FILE_FORMATS);
  const client = new GraphqlHttpClient(resolveConnection(values));

  const queries = values.vector !== undefined ? [{ id: null, vector: parseVectorText(values.vector) }] : await readQueries(values['from-file']!, format, limit);
  for (let start = 0; start < queries.length; start += QUERIES_PER_REQUEST) {
    const chunk = queries.slice(start, start + QUERIES_PER_REQUEST);
    const data = await client.request<SearchBatchData>(SEARCH_BATCH_QUERY, { ...variables, vectors: chunk.map((query) => encodeVector(query.vector)) });
    const { results } = expectResult(data.searchBatch, 'SearchBatchResults');
    results.forEach((result, i) => print(chunk[i]!, result, values.json));
  }
  return ExitCode.OK;
}

async function readQueries(path: string, format: (typeof VECTOR_FILE_FORMATS)[number] | undefined, limit: number): Promise<Query[]> {
  const file = await openVectorFile(path, { format });
  try {
    const queries: Query[] = [];
    for await (const batch of file.batches(file.start, QUERIES_PER_REQUEST)) {
      for (const record of batch.records) {
        if (queries.length >= limit) return queries;
        queries.push({ id: record.id, vector: record.vector });
      }
    }
    return queries;
  } finally {
    await file.close();
  }
}

function print(query: Query, result: SearchResults, json: boolean): void {
  if (json) {
    console.log(JSON.stringify({ query: query.id, exact: result.exact, hits: result.hits.map(withoutNulls) }));
    return;
  }
  console.log(`${query.id === null ? 'query' : `query ${query.id}`}: ${result.hits.length} hits${result.exact ? ' (exact)' : ''}`);
  const idWidth = Math.max(2, ...result.hits.map((hit) => hit.id.length));
  result.hits.forEach((hit, rank) => {
    const extras = [
      hit.contents != null ? JSON.stringify(hit.contents) : '',
      hit.metadata != null ? JSON.stringify(hit.metadata) : '',
      hit.vector != null ? `[${hit.vector.map((x) => formatScientific(x)).join(', ')}]` : '',
    ].filter((text) => text !== '');
    console.log(`  ${String(rank + 1).padStart(3)}  ${hit.id.padEnd(idWidth)}  ${formatDistance(hit.distance).padStart(12)}  ${extras.join('  ')}`.trimEnd());
  });
}

function withoutNulls<T extends object>(hit: T): Partial<T> {
  return Object.fromEntries(Object.entries(hit).filter(([, value]) => value !== null && value !== undefined)) as Partial<T>;
}

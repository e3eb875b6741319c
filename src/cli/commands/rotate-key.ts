// `cipherdex rotate-key <index>`: moves an index from its key to a new one. The server re-wraps
// the index's data key in one transaction; from then on the old key opens it on no replica.

import { parseArgs } from 'node:util';
import { connectionHelp, connectionOptionSpecs, resolveConnection, resolveIndexKey } from '../api/connection-options.js';
import { GraphqlHttpClient } from '../api/graphql-http-client.js';
import { ROTATE_INDEX_KEY_MUTATION, type RotateIndexKeyData } from '../api/operations.js';
import { expectResult } from '../api/typed-result.js';
import { ExitCode, usageError } from '../exit-codes.js';
import { formatCount } from '../format.js';

export const rotateKeyHelp = `Usage: cipherdex rotate-key <index> [options]

Moves the index to a new index key: the data key is re-wrapped under it in one transaction
(nothing else is re-encrypted, so it takes the same time at any size). Afterwards the old key
is refused on every replica. Keep the new key: nothing else can open the index.

Options:
  --new-key INDEX_KEY  the new 32-byte key, base64 or hex (env CIPHERDEX_NEW_INDEX_KEY;
                       the environment keeps it out of shell history and process lists)

${connectionHelp}`;

export async function rotateKeyCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { ...connectionOptionSpecs, 'new-key': { type: 'string' } },
  });
  if (positionals.length !== 1) throw usageError('expected one index name: cipherdex rotate-key <index>');
  const connection = resolveConnection(values);
  const key = resolveIndexKey(values);
  const newKey = resolveIndexKey({ key: values['new-key'] }, process.env, { flag: '--new-key', variable: 'CIPHERDEX_NEW_INDEX_KEY' });
  if (newKey === key) throw usageError('--new-key must differ from the current key');
  const client = new GraphqlHttpClient(connection);
  const data = await client.request<RotateIndexKeyData>(ROTATE_INDEX_KEY_MUTATION, { index: positionals[0], key, newKey });
  const index = expectResult(data.rotateIndexKey, 'Index');
  console.log(`Index "${index.name}" (${formatCount(index.vectorCount)} vectors) now opens with the new key only.`);
  return ExitCode.OK;
}

// `cipherdex grant create|list|revoke <index>`: index grants from the command line. create prints
// the token once (the server keeps no copy); list never shows tokens.

import { parseArgs } from 'node:util';
import { PERMISSIONS } from '../../service/index.js';
import { connectionHelp, connectionOptionSpecs, resolveConnection, resolveIndexKey } from '../api/connection-options.js';
import { GraphqlHttpClient } from '../api/graphql-http-client.js';
import {
  CREATE_GRANT_MUTATION,
  LIST_GRANTS_QUERY,
  REVOKE_GRANT_MUTATION,
  type CreateGrantData,
  type GrantDescription,
  type ListGrantsData,
  type RevokeGrantData,
} from '../api/operations.js';
import { expectResult } from '../api/typed-result.js';
import { ExitCode, usageError } from '../exit-codes.js';

export const grantHelp = `Usage: cipherdex grant create <index> --permission P [--permission P ...] [--expires TIME] [--label TEXT]
       cipherdex grant list <index>
       cipherdex grant revoke <index> <grant-id>

Index grants: tokens accepted wherever the index key is, limited to some permissions
(${PERMISSIONS.join(', ')}), optionally expiring, revocable. create prints the token once; the
server keeps no copy. --key is the index key or an ADMIN grant.

Options:
  --permission P   READ, WRITE, TRAIN, OBSERVE or ADMIN (repeat for several)
  --expires TIME   ISO 8601 time after which the grant opens nothing
  --label TEXT     what the grant is for, shown by list
  --json           print the raw answer as JSON

${connectionHelp}`;

function grantLine(grant: GrantDescription): string {
  const label = grant.label === null ? '' : ` "${grant.label}"`;
  return `${grant.id}${label} ${grant.permissions.join(',')} expires ${grant.expiresAt ?? 'never'} last used ${grant.lastUsedAt ?? 'never'}`;
}

export async function grantCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      ...connectionOptionSpecs,
      permission: { type: 'string', multiple: true },
      expires: { type: 'string' },
      label: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const [action, index, grantId] = positionals;
  const expected = { create: 2, list: 2, revoke: 3 } as const;
  if (!(action in expected) || positionals.length !== expected[action as keyof typeof expected]) {
    throw usageError('expected: cipherdex grant create <index> | list <index> | revoke <index> <grant-id>');
  }
  const key = resolveIndexKey(values);
  const client = new GraphqlHttpClient(resolveConnection(values));
  const print = (value: unknown, text: string): void => console.log(values.json ? JSON.stringify(value, null, 2) : text);
  if (action === 'create') {
    const permissions = (values.permission ?? []).map((p) => p.trim().toUpperCase());
    if (permissions.length === 0 || !permissions.every((p) => (PERMISSIONS as readonly string[]).includes(p))) {
      throw usageError(`--permission is required, one of ${PERMISSIONS.join(', ')} (repeat for several)`);
    }
    const expiresAt = values.expires === undefined ? null : new Date(values.expires);
    if (expiresAt !== null && Number.isNaN(expiresAt.getTime())) throw usageError('--expires must be an ISO 8601 time');
    const data = await client.request<CreateGrantData>(CREATE_GRANT_MUTATION, { index, key, permissions, expiresAt: expiresAt?.toISOString() ?? null, label: values.label ?? null });
    const grant = expectResult(data.createIndexGrant, 'IndexGrant');
    print(grant, `${grantLine(grant)}\nToken (shown once, keep it secret):\n${grant.token}`);
  } else if (action === 'list') {
    const data = await client.request<ListGrantsData>(LIST_GRANTS_QUERY, { index, key });
    const grants = expectResult(data.indexGrants, 'QueryIndexGrantsSuccess').data;
    print(grants, grants.length === 0 ? `Index "${index}" has no grants.` : grants.map(grantLine).join('\n'));
  } else {
    const data = await client.request<RevokeGrantData>(REVOKE_GRANT_MUTATION, { index, key, grantId });
    const grant = expectResult(data.revokeIndexGrant, 'IndexGrant');
    print(grant, `Revoked ${grantLine(grant)}`);
  }
  return ExitCode.OK;
}

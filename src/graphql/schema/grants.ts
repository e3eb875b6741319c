// Index grants: scoped, revocable credentials for one index. createIndexGrant returns the token
// once; indexGrants lists grants without tokens; revokeIndexGrant ends one on its next use.

import { GrantNotFoundError, ValidationError } from '../../service/index.js';
import type { IndexGrantInfo } from '../../service/index.js';
import { builder } from '../builder.js';
import { indexAccessErrors } from './errors.js';
import { indexArgs } from './index-args.js';
import { PermissionEnum } from './permission-enum.js';

const IndexGrantRef = builder.objectRef<IndexGrantInfo & { token?: string }>('IndexGrant').implement({
  description: 'A grant of some permissions on one index, usable as its `key` until it expires or is revoked.',
  fields: (t) => ({
    id: t.exposeID('id'),
    label: t.exposeString('label', { nullable: true }),
    permissions: t.field({ type: [PermissionEnum], resolve: (grant) => grant.permissions }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true, description: 'Last use, to within a minute.' }),
    token: t.string({
      nullable: true,
      description: 'The grant token, pass it as `key`: returned by createIndexGrant only, never again (the server keeps no copy).',
      resolve: (grant) => grant.token ?? null,
    }),
  }),
});

builder.queryField('indexGrants', (t) =>
  t.field({
    type: [IndexGrantRef],
    description: "The index's grants, oldest first, without their tokens. Needs the index key or an ADMIN grant.",
    errors: { types: indexAccessErrors },
    args: indexArgs,
    resolve: (_root, args, { service }) => service.indexGrants(args.index, args.key),
  }),
);

builder.mutationField('createIndexGrant', (t) =>
  t.field({
    type: IndexGrantRef,
    description: 'Creates a grant and returns its token, once. Needs the index key or an ADMIN grant.',
    errors: { types: [...indexAccessErrors, ValidationError] },
    args: {
      ...indexArgs,
      permissions: t.arg({ type: [PermissionEnum], required: true }),
      expiresAt: t.arg({ type: 'DateTime', description: 'After this the grant opens nothing; never when absent.' }),
      label: t.arg.string({ description: 'What the grant is for (at most 200 characters), shown by indexGrants.' }),
    },
    resolve: (_root, args, { service }) =>
      service.createIndexGrant(args.index, args.key, { permissions: args.permissions, expiresAt: args.expiresAt ?? null, label: args.label ?? null }),
  }),
);

builder.mutationField('revokeIndexGrant', (t) =>
  t.field({
    type: IndexGrantRef,
    description: 'Revokes a grant: its next request or subscription event, on any replica, is InvalidIndexKeyError.',
    errors: { types: [...indexAccessErrors, GrantNotFoundError] },
    args: { ...indexArgs, grantId: t.arg.id({ required: true }) },
    resolve: (_root, args, { service }) => service.revokeIndexGrant(args.index, args.key, String(args.grantId)),
  }),
);

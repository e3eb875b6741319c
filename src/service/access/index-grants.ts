// Creating, listing and revoking index grants, given the index's data key (unwrapped by an ADMIN
// caller's credential). A grant's token is made here, returned once and never kept: the store gets
// its verifier and the data key wrapped under the token's own key.

import { IndexCipher, generateGrantToken, grantVerifier, wrapDataKeyForGrant } from '../../crypto/index.js';
import type { Store, StoredGrant } from '../../storage/index.js';
import { PERMISSIONS, isOneOf, type Permission } from '../enumerations.js';
import { GrantNotFoundError, ValidationError } from '../errors.js';
import { requireWellFormed } from '../input/input-validation.js';
import { translatingErrors } from '../lower-layer-errors.js';
import type { CreateGrantOptions, CreatedIndexGrant, IndexGrantInfo } from '../types.js';
import { describeGrant, formatPermissions, grantBinding, sealGrantLabel } from './grant-record.js';

export const MAX_GRANT_LABEL_LENGTH = 200;
const GRANT_ID = /^[0-9a-f]{32}$/;

interface ValidGrantOptions {
  permissions: Permission[];
  expiresAt: Date | null;
  label: string | null;
}

export function validateGrantOptions(options: CreateGrantOptions, now: number): ValidGrantOptions {
  const permissions = options?.permissions;
  if (!Array.isArray(permissions) || permissions.length === 0 || !permissions.every((p) => isOneOf(PERMISSIONS, p))) {
    throw new ValidationError('permissions', 'a grant needs at least one permission', { allowed: PERMISSIONS });
  }
  const expiresAt = options.expiresAt ?? null;
  if (expiresAt !== null && (!(expiresAt instanceof Date) || Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= now)) {
    throw new ValidationError('expiresAt', 'expiresAt must be a time in the future');
  }
  const label = options.label ?? null;
  if (label !== null && (typeof label !== 'string' || label.length > MAX_GRANT_LABEL_LENGTH)) {
    throw new ValidationError('label', `a label is text of at most ${MAX_GRANT_LABEL_LENGTH} characters`, { max: MAX_GRANT_LABEL_LENGTH });
  }
  return { permissions: [...new Set(permissions)], expiresAt, label: label === null ? null : requireWellFormed(label, 'label') };
}

/** `dataKey` is the caller's to wipe. */
export async function createGrant(store: Store, index: string, dataKey: Buffer, options: ValidGrantOptions): Promise<CreatedIndexGrant> {
  const { id, secret, token } = generateGrantToken();
  const cipher = new IndexCipher(dataKey);
  try {
    const binding = { index, id, permissions: formatPermissions(options.permissions), expiresAt: options.expiresAt };
    const grant: StoredGrant = {
      ...binding,
      createdAt: new Date(),
      lastUsedAt: null,
      verifier: grantVerifier(secret),
      wrappedDataKey: wrapDataKeyForGrant(secret, dataKey, grantBinding(binding)),
      sealedLabel: sealGrantLabel(cipher, index, id, options.label),
    };
    await translatingErrors(index, () => store.createGrant(grant));
    return { ...describeGrant(cipher, grant), token };
  } finally {
    secret.fill(0);
    cipher.destroy();
  }
}

export async function listGrants(store: Store, index: string, dataKey: Buffer): Promise<IndexGrantInfo[]> {
  const grants = await translatingErrors(index, () => store.listGrants(index));
  const cipher = new IndexCipher(dataKey);
  try {
    return await translatingErrors(index, async () => grants.map((grant) => describeGrant(cipher, grant)), 'grant label');
  } finally {
    cipher.destroy();
  }
}

/** Returns the revoked grant as it was. */
export async function revokeGrant(store: Store, index: string, dataKey: Buffer, grantId: string): Promise<IndexGrantInfo> {
  const grant = typeof grantId === 'string' && GRANT_ID.test(grantId) ? await translatingErrors(index, () => store.getGrant(index, grantId)) : null;
  if (grant === null || !(await translatingErrors(index, () => store.deleteGrant(index, grantId)))) throw new GrantNotFoundError(index, String(grantId));
  const cipher = new IndexCipher(dataKey);
  try {
    return await translatingErrors(index, async () => describeGrant(cipher, grant), 'grant label');
  } finally {
    cipher.destroy();
  }
}

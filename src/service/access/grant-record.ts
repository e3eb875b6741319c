// How an index grant is written down: the binding its wrap authenticates (index, id, permissions,
// expiry: a row altered in the database no longer unwraps), its label sealed under the index's
// data key, and its description as callers see it (never the token).

import type { IndexCipher } from '../../crypto/index.js';
import type { StoredGrant } from '../../storage/index.js';
import { PERMISSIONS, isOneOf, type Permission } from '../enumerations.js';
import type { IndexGrantInfo } from '../types.js';

/** The permissions as stored: in the enumeration's order, so one set has one spelling. */
export function formatPermissions(permissions: readonly Permission[]): string {
  return PERMISSIONS.filter((permission) => permissions.includes(permission)).join(',');
}

/** Unknown names (none are ever written) are dropped: they grant nothing. */
export function parsePermissions(text: string): Permission[] {
  return text.split(',').filter((name): name is Permission => isOneOf(PERMISSIONS, name));
}

export function grantBinding(grant: Pick<StoredGrant, 'index' | 'id' | 'permissions' | 'expiresAt'>): string {
  return `${grant.index}\0${grant.id}\0${grant.permissions}\0${grant.expiresAt === null ? '' : grant.expiresAt.getTime()}`;
}

function labelAad(index: string, id: string): string {
  return `grant-label\0${index}\0${id}`;
}

export function sealGrantLabel(cipher: IndexCipher, index: string, id: string, label: string | null): Buffer | null {
  return label === null ? null : cipher.seal(Buffer.from(label, 'utf8'), labelAad(index, id));
}

/** Throws SealIntegrityError when the label was altered or moved to another grant. */
export function describeGrant(cipher: IndexCipher, grant: StoredGrant): IndexGrantInfo {
  return {
    id: grant.id,
    label: grant.sealedLabel === null ? null : cipher.open(grant.sealedLabel, labelAad(grant.index, grant.id)).toString('utf8'),
    permissions: parsePermissions(grant.permissions),
    expiresAt: grant.expiresAt,
    createdAt: grant.createdAt,
    lastUsedAt: grant.lastUsedAt,
  };
}

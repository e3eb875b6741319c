// Which permissions of an index grant open which operation: the one table the key-proof step
// consults. ADMIN opens everything; an index key is not a grant and opens everything too.

import type { Permission } from '../enumerations.js';

const OPERATION_PERMISSIONS = {
  describeIndex: ['READ', 'OBSERVE'],
  search: ['READ'],
  get: ['READ'],
  listIds: ['READ'],
  browse: ['READ'],
  count: ['READ'],
  upsert: ['WRITE'],
  delete: ['WRITE'],
  updateItems: ['WRITE'],
  train: ['TRAIN'],
  cancelTraining: ['TRAIN'],
  trainingStatus: ['OBSERVE'],
  indexStats: ['OBSERVE'],
  trainingRuns: ['OBSERVE'],
  deleteIndex: [],
  rotateIndexKey: [],
  grants: [],
} as const satisfies Record<string, readonly Permission[]>;

/** An index-scoped operation, as the permission table names it. */
export type IndexOperation = keyof typeof OPERATION_PERMISSIONS;

/** The permissions any one of which allows `operation` (ADMIN always among them). */
export function permissionsFor(operation: IndexOperation): Permission[] {
  return [...OPERATION_PERMISSIONS[operation], 'ADMIN'];
}

export function allows(held: readonly Permission[], operation: IndexOperation): boolean {
  return permissionsFor(operation).some((permission) => held.includes(permission));
}

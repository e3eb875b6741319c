// The GraphQL face of every typed domain error: one object type per class in service/errors.ts,
// all implementing `interface Error { code message }`, plus the error lists that the fields of
// each domain module put into their result unions.
//
// Error field names never reuse a success type's field name with another shape (`indexName`, not
// `index`, which is an Index on UpsertSuccess; `lastShift`, not the nullable TrainingRun.shift):
// GraphQL rejects a selection that asks for both under one name, so clients could not spread
// `... on Error` fragments next to success fields.

import {
  CipherdexError,
  ConvergenceError,
  DimensionMismatchError,
  IncompatibleIndexError,
  IndexAlreadyExistsError,
  IndexNotFoundError,
  InsufficientResourcesError,
  InsufficientVectorsError,
  IntegrityError,
  InvalidIndexKeyError,
  GrantNotFoundError,
  PermissionDeniedError,
  ItemsNotFoundError,
  TrainingInProgressError,
  TrainingNotRunningError,
  TrainingRunNotFoundError,
  ValidationError,
} from '../../service/index.js';
import { builder } from '../builder.js';
import { PermissionEnum } from './permission-enum.js';

export const ErrorInterface = builder.interfaceRef<CipherdexError>('Error').implement({
  description: 'Every expected failure: a stable machine `code` and a human `message`.',
  fields: (t) => ({
    code: t.exposeString('code', { description: 'Stable, machine-readable, e.g. INDEX_NOT_FOUND.' }),
    message: t.exposeString('message'),
  }),
});

const interfaces = [ErrorInterface];

builder.objectType(ValidationError, {
  name: 'ValidationError',
  description: 'An argument is malformed or outside its allowed range.',
  interfaces,
  fields: (t) => ({
    argument: t.exposeString('argument', { description: 'The offending argument, e.g. nLists or items[3].id.' }),
    min: t.float({ nullable: true, resolve: (error) => error.range.min ?? null }),
    max: t.float({ nullable: true, resolve: (error) => error.range.max ?? null }),
    allowed: t.stringList({ nullable: true, resolve: (error) => (error.range.allowed ? [...error.range.allowed] : null) }),
  }),
});

builder.objectType(IndexNotFoundError, {
  name: 'IndexNotFoundError',
  interfaces,
  fields: (t) => ({ indexName: t.exposeString('index') }),
});

builder.objectType(IndexAlreadyExistsError, {
  name: 'IndexAlreadyExistsError',
  interfaces,
  fields: (t) => ({ indexName: t.exposeString('index') }),
});

builder.objectType(InvalidIndexKeyError, {
  name: 'InvalidIndexKeyError',
  description: 'The key does not open the index. Says nothing more, on purpose.',
  interfaces,
  fields: (t) => ({ indexName: t.exposeString('index') }),
});

builder.objectType(DimensionMismatchError, {
  name: 'DimensionMismatchError',
  interfaces,
  fields: (t) => ({
    expected: t.exposeInt('expected'),
    actual: t.exposeInt('actual'),
    argument: t.exposeString('argument'),
  }),
});

builder.objectType(InsufficientVectorsError, {
  name: 'InsufficientVectorsError',
  description: 'No vectors to train on, or fewer than twice the requested number of lists.',
  interfaces,
  fields: (t) => ({
    required: t.exposeInt('required'),
    actual: t.exposeInt('actual'),
  }),
});

builder.objectType(IncompatibleIndexError, {
  name: 'IncompatibleIndexError',
  description: "The index's configuration cannot do what was asked.",
  interfaces,
  fields: (t) => ({ reason: t.exposeString('reason') }),
});

builder.objectType(TrainingInProgressError, {
  name: 'TrainingInProgressError',
  interfaces,
  fields: (t) => ({
    indexName: t.exposeString('index'),
    activeRunId: t.exposeID('runId', { description: 'The run that holds the index.' }),
  }),
});

builder.objectType(TrainingNotRunningError, {
  name: 'TrainingNotRunningError',
  interfaces,
  fields: (t) => ({ indexName: t.exposeString('index') }),
});

builder.objectType(TrainingRunNotFoundError, {
  name: 'TrainingRunNotFoundError',
  description: 'No run with this id is recorded for the index (runs are recorded when they end).',
  interfaces,
  fields: (t) => ({ indexName: t.exposeString('index'), runId: t.exposeID('runId') }),
});

builder.objectType(InsufficientResourcesError, {
  name: 'InsufficientResourcesError',
  description:
    "A memory budget refuses the work, and nothing was changed: the training job's estimate exceeds TRAINING_MEMORY_BUDGET_MB, or the index cannot be opened or grown within CIPHERDEX_MEMORY_BUDGET_MB even after every idle index was evicted.",
  interfaces,
  fields: (t) => ({
    // Floats: byte counts pass 2^31 quickly.
    requiredBytes: t.exposeFloat('requiredBytes'),
    availableBytes: t.exposeFloat('availableBytes'),
  }),
});

builder.objectType(ConvergenceError, {
  name: 'ConvergenceError',
  description: 'The run stopped at maxIters without converging, and the caller required convergence.',
  interfaces,
  fields: (t) => ({
    iterations: t.exposeInt('iterations'),
    lastShift: t.exposeFloat('shift', { description: 'Relative centroid shift of the last iteration.' }),
    tolerance: t.exposeFloat('tolerance'),
  }),
});

builder.objectType(IntegrityError, {
  name: 'IntegrityError',
  description: 'A stored record failed authentication: the database was altered outside Cipherdex.',
  interfaces,
  fields: (t) => ({ what: t.exposeString('what') }),
});

builder.objectType(ItemsNotFoundError, {
  name: 'ItemsNotFoundError',
  description: 'Ids the call named that the index does not hold; nothing was changed.',
  interfaces,
  fields: (t) => ({ ids: t.exposeIDList('ids') }),
});

builder.objectType(PermissionDeniedError, {
  name: 'PermissionDeniedError',
  description: 'The grant used as key lacks the permission this needs; any one of `required` would do.',
  interfaces,
  fields: (t) => ({
    indexName: t.exposeString('index'),
    required: t.field({ type: [PermissionEnum], resolve: (error) => [...error.required] }),
  }),
});

builder.objectType(GrantNotFoundError, {
  name: 'GrantNotFoundError',
  description: 'The index has no grant with that id (never created, or revoked already).',
  interfaces,
  fields: (t) => ({ indexName: t.exposeString('index'), grantId: t.exposeID('grantId') }),
});

/** Failures of any call that opens an existing index with a key or a grant. */
export const indexAccessErrors = [ValidationError, IndexNotFoundError, InvalidIndexKeyError, PermissionDeniedError, IntegrityError];

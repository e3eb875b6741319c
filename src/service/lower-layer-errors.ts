// Translates the lower layers' errors into the domain's typed errors, so nothing from crypto,
// storage or the engine leaks through the service with its own vocabulary.

import { IndexKeyFormatError, KeyUnwrapError, SealIntegrityError } from '../crypto/index.js';
import { EngineInputError } from '../engine/index.js';
import { LeaseContendedError, StoreConflictError, StoreIndexNotFoundError, storeFaultOf } from '../storage/index.js';
import { IndexAlreadyExistsError, IndexNotFoundError, IntegrityError, InvalidIndexKeyError, StoreUnavailableError, ValidationError } from './errors.js';

/** Returns the domain error for `error` (or `error` itself when it has no domain meaning). */
export function toDomainError(error: unknown, index: string, what = `record of index "${index}"`): unknown {
  if (error instanceof KeyUnwrapError) return new InvalidIndexKeyError(index);
  if (error instanceof SealIntegrityError) return new IntegrityError(what);
  if (error instanceof StoreConflictError) return new IndexAlreadyExistsError(index);
  if (error instanceof StoreIndexNotFoundError) return new IndexNotFoundError(index);
  if (error instanceof IndexKeyFormatError) return new ValidationError('key', error.message, { min: 32, max: 32 });
  // The service validates before the engine sees anything; this is the net under that rule.
  if (error instanceof EngineInputError) return new ValidationError('input', error.message);
  // Other replicas kept taking and dropping the lease: a busy store, worth a retry.
  if (error instanceof LeaseContendedError) return new StoreUnavailableError('busy', { cause: error });
  const fault = storeFaultOf(error);
  if (fault !== null) return new StoreUnavailableError(fault, { cause: error });
  return error;
}

/** Runs `work`, rethrowing lower-layer errors as domain errors. */
export async function translatingErrors<T>(index: string, work: () => Promise<T>, what?: string): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toDomainError(error, index, what);
  }
}

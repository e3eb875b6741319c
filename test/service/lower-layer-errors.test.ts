// Lower-layer errors become the domain's typed errors, and nothing else is rewritten.
import { describe, expect, it } from 'vitest';
import { IndexKeyFormatError, KeyUnwrapError, SealIntegrityError } from '../../src/crypto/index.js';
import { EngineInputError } from '../../src/engine/index.js';
import { IndexAlreadyExistsError, IndexNotFoundError, IntegrityError, InvalidIndexKeyError, StoreUnavailableError, ValidationError } from '../../src/service/errors.js';
import { toDomainError, translatingErrors } from '../../src/service/lower-layer-errors.js';
import { LeaseContendedError, StoreConflictError, StoreIndexNotFoundError } from '../../src/storage/index.js';

describe('toDomainError', () => {
  it.each<[Error, new (...args: never[]) => Error]>([
    [new KeyUnwrapError(), InvalidIndexKeyError],
    [new SealIntegrityError(), IntegrityError],
    [new StoreConflictError('docs'), IndexAlreadyExistsError],
    [new StoreIndexNotFoundError('docs'), IndexNotFoundError],
    [new IndexKeyFormatError('an index key must be 32 bytes'), ValidationError],
    [new EngineInputError('topK must be an integer'), ValidationError],
  ])('maps %s', (error, type) => {
    const mapped = toDomainError(error, 'docs', 'item record of index "docs"');
    expect(mapped).toBeInstanceOf(type);
    expect((mapped as Error).message).toMatch(/docs|32 bytes|topK/);
  });

  it('names the argument of a malformed key', () => {
    expect((toDomainError(new IndexKeyFormatError('bad'), 'docs') as ValidationError).argument).toBe('key');
  });

  it('turns a store fault into StoreUnavailableError, keeping the driver error as its cause', () => {
    const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    const mapped = toDomainError(full, 'docs');
    expect(mapped).toBeInstanceOf(StoreUnavailableError);
    expect(mapped).toMatchObject({ code: 'STORE_UNAVAILABLE', fault: 'disk-full', cause: full });
    // The message is written for callers: no driver text, no path.
    expect((mapped as Error).message).not.toContain('database or disk is full');
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(toDomainError(refused, 'docs')).toMatchObject({ fault: 'unreachable' });
  });

  it('turns a lease that kept changing hands into a busy store', () => {
    const contended = new LeaseContendedError('docs');
    expect(toDomainError(contended, 'docs')).toMatchObject({ code: 'STORE_UNAVAILABLE', fault: 'busy', cause: contended });
  });

  it('passes other errors through untouched', () => {
    const error = new RangeError('something else');
    expect(toDomainError(error, 'docs')).toBe(error);
  });

  it('translates what an async step throws', async () => {
    await expect(translatingErrors('docs', async () => Promise.reject(new SealIntegrityError()))).rejects.toBeInstanceOf(IntegrityError);
    await expect(translatingErrors('docs', async () => 7)).resolves.toBe(7);
  });
});

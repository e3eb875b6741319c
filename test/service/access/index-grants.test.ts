// Index grants through the service on both stores: each permission opens exactly its operations,
// the index key stays all-powerful, a grant opens an index that is not loaded (after a restart),
// revocation and expiry take effect on the next request and the next subscription event, and the
// store holds neither the token nor the key that opens the wrap, nor a row whose permissions can be
// raised by editing it.
import { hkdfSync } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseGrantToken } from '../../../src/crypto/index.js';
import { GrantNotFoundError, IndexNotFoundError, InvalidIndexKeyError, PermissionDeniedError, ValidationError } from '../../../src/service/errors.js';
import type { CipherdexIndexService } from '../../../src/service/index-service.js';
import type { Permission } from '../../../src/service/types.js';
import { rejection } from '../../support/rejection.js';
import { seededVectors } from '../reference-search.js';
import { forEachStore, newKey, type ServiceStoreHarness } from '../service-harness.js';

const DIM = 4;
const newKey_ = newKey;


forEachStore((fresh) => {
  let harness: ServiceStoreHarness;
  let service: CipherdexIndexService;
  const key = newKey();

  beforeEach(async () => {
    harness = await fresh();
    service = await harness.service();
    await service.createIndex('docs', key, { dimension: DIM });
    await service.upsert('docs', key, seededVectors(20, DIM, 1).map((vector, i) => ({ id: `item-${i}`, vector })));
  });

  afterEach(async () => {
    await harness.dispose();
  });

  const grant = (permissions: Permission[], extra: { expiresAt?: Date; label?: string } = {}) =>
    service.createIndexGrant('docs', key, { permissions, ...extra });

  /** Each operation, run with `credential`; resolves when allowed. */
  const operations: Record<string, (credential: string) => Promise<unknown>> = {
    describeIndex: (c) => service.describeIndex('docs', c),
    search: (c) => service.search('docs', c, [[0, 0, 0, 0]], { topK: 1 }),
    get: (c) => service.get('docs', c, ['item-1']),
    listIds: (c) => service.listIds('docs', c),
    upsert: (c) => service.upsert('docs', c, [{ id: 'new', vector: [1, 2, 3, 4] }]),
    delete: (c) => service.delete('docs', c, ['nothing']),
    train: (c) => service.train('docs', c, { nLists: 2, wait: true }),
    trainingStatus: async (c) => (await service.trainingStatus('docs', c)).return?.(),
    indexStats: async (c) => (await service.indexStats('docs', c)).return?.(),
    indexGrants: (c) => service.indexGrants('docs', c),
    browse: (c) => service.browse('docs', c, { first: 2 }),
    count: (c) => service.count('docs', c),
    updateItems: (c) => service.update('docs', c, ['item-2'], { contents: 'changed' }),
  };
  const allowed: Record<Permission, string[]> = {
    READ: ['describeIndex', 'search', 'get', 'listIds', 'browse', 'count'],
    WRITE: ['upsert', 'delete', 'updateItems'],
    TRAIN: ['train'],
    OBSERVE: ['describeIndex', 'trainingStatus', 'indexStats'],
    ADMIN: Object.keys(operations),
  };

  for (const permission of Object.keys(allowed) as Permission[]) {
    it(`a ${permission} grant does exactly its operations; the others are PermissionDeniedError naming what they need`, async () => {
      const { token } = await grant([permission]);
      for (const [operation, run] of Object.entries(operations)) {
        if (allowed[permission].includes(operation)) {
          await run(token);
        } else {
          const error = await rejection(run(token));
          expect(error, operation).toBeInstanceOf(PermissionDeniedError);
          expect((error as PermissionDeniedError).required).toContain('ADMIN');
        }
      }
    });
  }

  it('the index key does everything, grants are listed without tokens, and several permissions add up', async () => {
    const created = await grant(['READ', 'WRITE'], { label: 'ingest job' });
    expect(created.token).toMatch(/^cdxg_[0-9a-f]{32}_/);
    expect(created.permissions).toEqual(['READ', 'WRITE']);
    for (const run of Object.values(operations)) await run(key);
    await service.upsert('docs', created.token, [{ id: 'by-grant', vector: [1, 1, 1, 1] }]);
    expect((await service.get('docs', created.token, ['by-grant'])).map((item) => item.id)).toEqual(['by-grant']);
    const listed = await service.indexGrants('docs', key);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id: created.id, label: 'ingest job', permissions: ['READ', 'WRITE'], expiresAt: null });
    expect(listed[0].lastUsedAt).toBeInstanceOf(Date);
    expect(JSON.stringify(listed)).not.toContain(created.token.slice(38));
  });

  it('an ADMIN grant manages grants and deletes the index; a grant of another index opens nothing here', async () => {
    await service.createIndex('other', key, { dimension: DIM });
    const otherGrant = await service.createIndexGrant('other', key, { permissions: ['ADMIN'] });
    expect(await rejection(service.describeIndex('docs', otherGrant.token))).toBeInstanceOf(InvalidIndexKeyError);
    const admin = await grant(['ADMIN']);
    const reader = await service.createIndexGrant('docs', admin.token, { permissions: ['READ'] });
    await service.search('docs', reader.token, [[0, 0, 0, 0]]);
    await service.deleteIndex('docs', admin.token);
    expect(await rejection(service.describeIndex('docs', reader.token))).toBeInstanceOf(IndexNotFoundError);
  });

  it('revocation takes effect on the next request, and a second revoke is GrantNotFoundError', async () => {
    const reader = await grant(['READ']);
    await service.search('docs', reader.token, [[0, 0, 0, 0]]);
    const revoked = await service.revokeIndexGrant('docs', key, reader.id);
    expect(revoked.id).toBe(reader.id);
    expect(await rejection(service.search('docs', reader.token, [[0, 0, 0, 0]]))).toBeInstanceOf(InvalidIndexKeyError);
    expect(await rejection(service.revokeIndexGrant('docs', key, reader.id))).toBeInstanceOf(GrantNotFoundError);
    expect(await service.indexGrants('docs', key)).toEqual([]);
  });

  it('a revoked grant ends its open trainingStatus stream with the error at the next event', async () => {
    const observer = await grant(['OBSERVE']);
    const stream = await service.trainingStatus('docs', observer.token);
    expect((await stream.next()).value).toMatchObject({ phase: 'IDLE' });
    await service.revokeIndexGrant('docs', key, observer.id);
    await service.train('docs', key, { nLists: 2 });
    expect(await rejection(stream.next())).toBeInstanceOf(InvalidIndexKeyError);
  });

  it('expiry takes effect on the first request after it', async () => {
    const expiresAt = new Date(Date.now() + 400);
    const reader = await grant(['READ'], { expiresAt });
    expect((await service.describeIndex('docs', reader.token)).vectorCount).toBe(20);
    while (Date.now() <= expiresAt.getTime()) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await rejection(service.describeIndex('docs', reader.token))).toBeInstanceOf(InvalidIndexKeyError);
  });

  it('bad grant arguments are ValidationError and create nothing', async () => {
    expect(await rejection(grant([]))).toBeInstanceOf(ValidationError);
    expect(await rejection(grant(['NOPE' as Permission]))).toBeInstanceOf(ValidationError);
    expect(await rejection(grant(['READ'], { expiresAt: new Date(Date.now() - 1000) }))).toBeInstanceOf(ValidationError);
    expect(await rejection(grant(['READ'], { label: 'x'.repeat(201) }))).toBeInstanceOf(ValidationError);
    expect(await rejection(service.search('docs', 'cdxg_not-a-token', [[0, 0, 0, 0]]))).toBeInstanceOf(ValidationError);
    expect(await service.indexGrants('docs', key)).toEqual([]);
  });

  it('a grant opens the index after a restart, without the index key ever being sent', async () => {
    const reader = await grant(['READ']);
    await service.close();
    const restarted = await harness.service();
    expect(restarted.residentIndexes()).toEqual([]);
    const [result] = await restarted.search('docs', reader.token, [[0, 0, 0, 0]], { topK: 3 });
    expect(result.hits).toHaveLength(3);
    expect(restarted.residentIndexes()).toEqual(['docs']);
  });

  it('the store holds neither the token, its secret, nor the key that opens the wrap', async () => {
    const created = await grant(['READ'], { label: 'label-text-to-find' });
    const { secret } = parseGrantToken(created.token);
    const wrapKey = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'cipherdex/grant-wrap/v1', 32));
    await service.close();
    const raw = Buffer.concat(await harness.rawBytes());
    for (const secretForm of [Buffer.from(created.token), Buffer.from(created.token.slice(38)), secret, wrapKey, Buffer.from('label-text-to-find')]) {
      expect(raw.includes(secretForm)).toBe(false);
    }
  });

  it('grants survive key rotation (the data key is re-wrapped, not replaced); an ADMIN grant may rotate, others may not', async () => {
    const reader = await grant(['READ']);
    const admin = await grant(['ADMIN']);
    const newKey = newKey_();
    await service.rotateIndexKey('docs', key, newKey);
    expect(await rejection(service.describeIndex('docs', key))).toBeInstanceOf(InvalidIndexKeyError);
    expect((await service.search('docs', reader.token, [[0, 0, 0, 0]]))[0].hits).toHaveLength(10);
    expect(await rejection(service.rotateIndexKey('docs', reader.token, newKey_()))).toBeInstanceOf(PermissionDeniedError);
    const third = newKey_();
    await service.rotateIndexKey('docs', admin.token, third);
    expect((await service.describeIndex('docs', third)).vectorCount).toBe(20);
    // And after a restart, when nothing is in memory.
    await service.close();
    const restarted = await harness.service();
    expect((await restarted.describeIndex('docs', reader.token)).vectorCount).toBe(20);
    expect(await rejection(restarted.describeIndex('docs', newKey))).toBeInstanceOf(InvalidIndexKeyError);
  });

  it('raising a grant by editing its row in the database opens nothing', async () => {
    const reader = await grant(['READ']);
    await service.close();
    await harness.setGrantColumn(reader.id, 'permissions', 'READ,ADMIN');
    const restarted = await harness.service();
    expect(await rejection(restarted.deleteIndex('docs', reader.token))).toBeInstanceOf(InvalidIndexKeyError);
    expect(await rejection(restarted.search('docs', reader.token, [[0, 0, 0, 0]]))).toBeInstanceOf(InvalidIndexKeyError);
    expect((await restarted.describeIndex('docs', key)).vectorCount).toBe(20);
  });
});

describe('grant tokens', () => {
  it('one spelling per token', () => {
    expect(() => parseGrantToken(`cdxg_${'0'.repeat(32)}_${'A'.repeat(42)}B`)).toThrow();
  });
});

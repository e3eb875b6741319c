// Rollback and resurrection protection (the index commitment), tested by tampering with the real
// rows of both stores the way their operator could: an item's older sealed row put back, a deleted
// row put back, a row dropped, two rows' sealed bytes swapped, an older commitment put back, the
// commitment removed. Each is an IntegrityError naming the index when the index is opened (a
// restart) and, for an index already open, when the record is read back from the store. Normal
// writes, deletes, updates and restarts never raise one (a property test), an index from before
// commitments is upgraded on its first open, and what stays undetectable without outside state
// (the whole index put back to an earlier real state) is shown as such.

import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IndexCipher, unwrapDataKey } from '../../../src/crypto/index.js';
import { IntegrityError } from '../../../src/service/errors.js';
import type { OpenIndex } from '../../../src/service/open/open-index.js';
import { openIndexConfig, sealIndexConfig } from '../../../src/service/records/index-config-record.js';
import type { ItemInput } from '../../../src/service/types.js';
import { rejection } from '../../support/rejection.js';
import { seededVectors } from '../reference-search.js';
import { openDirect as openIndexDirect, type DirectOpen } from './open-direct.js';
import { forEachStore, freshSqlite, newKey, type ServiceStoreHarness } from '../service-harness.js';

const DIM = 8;
const ROLLED_BACK = /item records? of index "docs"/;

forEachStore((fresh) => {
  let harness: ServiceStoreHarness;
  const cleanup: Array<() => Promise<void>> = [];
  const key = newKey();
  const items: ItemInput[] = seededVectors(6, DIM, 11).map((vector, i) => ({ id: `item-${i}`, vector, contents: `c${i}`, metadata: { i } }));

  beforeEach(async () => {
    harness = await fresh();
  });

  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
    await harness.dispose();
  });

  async function seeded(): Promise<void> {
    const service = await harness.service();
    await service.createIndex('docs', key, { dimension: DIM });
    await service.upsert('docs', key, items);
    await service.close();
  }

  /** A fresh service (a restart): opening the index reads every record and checks the commitment. */
  async function openFresh(): Promise<unknown> {
    const service = await harness.service();
    try {
      return await rejection(service.get('docs', key, ['item-0']));
    } finally {
      await service.close();
    }
  }

  async function opensCleanly(): Promise<string[]> {
    const service = await harness.service();
    try {
      return await service.listIds('docs', key);
    } finally {
      await service.close();
    }
  }

  /** The index opened directly on its own store connection, as the service holds it in memory. */
  async function openDirect(): Promise<DirectOpen> {
    const opened = await openIndexDirect(harness, 'docs', key);
    cleanup.push(opened.close);
    return opened;
  }

  /** What every read of items from the store goes through (contents are never resident). */
  function readContents(open: OpenIndex, ids: string[]) {
    return open.payloads(ids.map((id) => open.record(id)!), { vector: false, contents: true });
  }

  /** The row an id is stored under: the one that changes when that id alone is written. */
  async function rowOf(id: string): Promise<{ token: Buffer; sealed: Buffer }> {
    const { open } = await openDirect();
    const token = open.record(id)!.token;
    return (await harness.rawItems('docs')).find((row) => row.token.equals(token))!;
  }

  describe('rollback and resurrection protection', () => {
    it('refuses an older version of an item put back, on open and on a read of the open index', async () => {
      await seeded();
      const old = await rowOf('item-0');
      const service = await harness.service();
      await service.upsert('docs', key, [{ ...items[0], contents: 'newer' }]);
      await service.close();
      const { open } = await openDirect();
      expect([...(await readContents(open, ['item-0'])).values()].map((payload) => payload.contents)).toEqual(['newer']);

      await harness.setSealed('docs', old.token, old.sealed);
      const error = await openFresh();
      expect(error).toBeInstanceOf(IntegrityError);
      expect((error as IntegrityError).message).toMatch(ROLLED_BACK);
      expect(await rejection(readContents(open, ['item-0']))).toBeInstanceOf(IntegrityError);
    });

    it('refuses a deleted item put back', async () => {
      await seeded();
      const deleted = await rowOf('item-1');
      const service = await harness.service();
      await service.delete('docs', key, ['item-1']);
      await service.close();
      await harness.insertRawItem('docs', deleted.token, deleted.sealed);
      const error = await openFresh();
      expect(error).toBeInstanceOf(IntegrityError);
      expect((error as IntegrityError).message).toMatch(ROLLED_BACK);
    });

    it('refuses a dropped row, on open and on a read of the open index', async () => {
      await seeded();
      const { open } = await openDirect();
      const dropped = (await harness.rawItems('docs')).find((row) => row.token.equals(open.record('item-2')!.token))!;
      await harness.deleteRawItem('docs', dropped.token);
      expect(await rejection(readContents(open, ['item-2']))).toBeInstanceOf(IntegrityError);
      const error = await openFresh();
      expect(error).toBeInstanceOf(IntegrityError);
      expect((error as IntegrityError).message).toMatch(ROLLED_BACK);
    });

    it('refuses two rows whose sealed bytes were swapped, on open and on a read of the open index', async () => {
      await seeded();
      const { open } = await openDirect();
      const [a, b] = await harness.rawItems('docs');
      await harness.setSealed('docs', a.token, b.sealed);
      await harness.setSealed('docs', b.token, a.sealed);
      expect(await rejection(readContents(open, open.ids()))).toBeInstanceOf(IntegrityError);
      expect(await openFresh()).toBeInstanceOf(IntegrityError);
    });

    it('refuses an older commitment put back, and a removed one', async () => {
      await seeded();
      const older = await harness.rawCommitment('docs');
      const service = await harness.service();
      await service.upsert('docs', key, [{ id: 'extra', vector: items[0].vector }]);
      await service.close();
      const current = await harness.rawCommitment('docs');
      expect(current.seq).toBe(older.seq + 1);

      await harness.setCommitment('docs', older.sealed, older.seq);
      expect(await openFresh()).toBeInstanceOf(IntegrityError);
      await harness.setCommitment('docs', null, 0);
      const error = await openFresh();
      expect(error).toBeInstanceOf(IntegrityError);
      expect((error as IntegrityError).message).toMatch(/of index "docs"/);
      await harness.setCommitment('docs', current.sealed, current.seq);
      expect(await opensCleanly()).toHaveLength(items.length + 1);
    });

    it('upgrades an index from before commitments on its first open, and protects it from then on', async () => {
      await seeded();
      // What an index written by an earlier version looks like: a configuration without the
      // commitment flag and no commitment.
      const keyBytes = Buffer.from(key, 'base64');
      const cipher = new IndexCipher(unwrapDataKey(keyBytes, (await harness.rawIndexColumn('docs', 'wrapped_data_key'))!, 'docs'));
      const config = openIndexConfig(cipher, 'docs', (await harness.rawIndexColumn('docs', 'sealed_config'))!);
      const { committed: _flag, ...legacyConfig } = config;
      await harness.setIndexColumn('docs', 'sealed_config', sealIndexConfig(cipher, 'docs', legacyConfig));
      await harness.setCommitment('docs', null, 0);
      const old = await rowOf('item-3');
      const service = await harness.service();
      await service.upsert('docs', key, [{ ...items[3], contents: 'newer' }]);
      await service.close();
      // The write above opened the index: that established the commitment and flagged the config.
      expect((await harness.rawCommitment('docs')).sealed).not.toBeNull();
      expect(openIndexConfig(cipher, 'docs', (await harness.rawIndexColumn('docs', 'sealed_config'))!).committed).toBe(true);
      expect(await opensCleanly()).toHaveLength(items.length);
      await harness.setSealed('docs', old.token, old.sealed);
      expect(await openFresh()).toBeInstanceOf(IntegrityError);
      cipher.destroy();
    });

    it('cannot tell the whole index put back to an earlier real state (documented limit)', async () => {
      await seeded();
      const rows = await harness.rawItems('docs');
      const commitment = await harness.rawCommitment('docs');
      const service = await harness.service();
      await service.upsert('docs', key, [{ ...items[4], contents: 'newer' }]);
      await service.delete('docs', key, ['item-5']);
      await service.close();
      for (const row of await harness.rawItems('docs')) await harness.deleteRawItem('docs', row.token);
      for (const row of rows) await harness.insertRawItem('docs', row.token, row.sealed);
      await harness.setCommitment('docs', commitment.sealed, commitment.seq);
      // A consistent earlier snapshot: no server-side check can tell it from the present.
      expect(await opensCleanly()).toHaveLength(items.length);
    });
  });
});

describe('rollback protection on SQLite: ordinary use never trips it', () => {
  let harness: ServiceStoreHarness | null = null;

  afterEach(async () => {
    await harness?.dispose();
    harness = null;
  });

  it('upserts, replacements, updates, deletes and restarts in any order keep the index opening cleanly', async () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('upsert' as const), ids: fc.uniqueArray(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 5 }) }),
      fc.record({ kind: fc.constant('delete' as const), ids: fc.uniqueArray(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 4 }) }),
      fc.record({ kind: fc.constant('update' as const), id: fc.integer({ min: 0, max: 9 }), value: fc.integer() }),
      fc.constant({ kind: 'restart' as const }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 10 }), async (ops) => {
        harness = freshSqlite();
        const key = newKey();
        let service = await harness.service();
        await service.createIndex('docs', key, { dimension: 4 });
        const present = new Set<string>();
        try {
          for (const step of ops) {
            if (step.kind === 'upsert') {
              await service.upsert('docs', key, step.ids.map((i) => ({ id: `id-${i}`, vector: Array.from(randomBytes(4), (b) => b / 255 + 0.01) })));
              for (const i of step.ids) present.add(`id-${i}`);
            } else if (step.kind === 'delete') {
              await service.delete('docs', key, step.ids.map((i) => `id-${i}`));
              for (const i of step.ids) present.delete(`id-${i}`);
            } else if (step.kind === 'update') {
              if (present.has(`id-${step.id}`)) await service.update('docs', key, [`id-${step.id}`], { metadata: { v: step.value } });
            } else {
              await service.close();
              service = await harness.service();
            }
          }
          await service.close();
          service = await harness.service();
          // Opening checks the commitment; an IntegrityError would reject here.
          expect((await service.listIds('docs', key)).sort()).toEqual([...present].sort());
        } finally {
          await service.close();
          await harness.dispose();
          harness = null;
        }
      }),
      { numRuns: 8 },
    );
  }, 300_000);
});

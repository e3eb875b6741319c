// The change log and the training leases on real PostgreSQL: every write logs exactly the tokens
// it touched under a gapless, commit-ordered change number; heads and changes come from one
// snapshot; a lease has one holder at a time, is renewed and released by its run only, and an
// expired one is reaped (announced first) by another process, never by its own.

import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/storage/postgres-store.js';
import type { StoredItem, TrainingLease } from '../../src/storage/index.js';
import { createPostgresTestSchema, probePostgres, type PostgresTestSchema } from '../support/services.js';

const postgres = await probePostgres();

function items(n: number): StoredItem[] {
  return Array.from({ length: n }, () => ({ token: randomBytes(32), sealed: randomBytes(100) }));
}

const hex = (tokens: Buffer[]): string[] => tokens.map((token) => token.toString('hex')).sort();

describe.skipIf(!postgres.available)(`PostgreSQL replication support${postgres.available ? '' : ` (skipped: ${postgres.reason})`}`, () => {
  let schema: PostgresTestSchema;
  let a: PostgresStore;
  let b: PostgresStore;

  beforeEach(async () => {
    schema = await createPostgresTestSchema('replication');
    [a, b] = await Promise.all([PostgresStore.open(schema.connectionString), PostgresStore.open(schema.connectionString)]);
    await a.createIndex({ name: 'docs', wrappedDataKey: randomBytes(60), sealedConfig: randomBytes(80) });
  });

  afterEach(async () => {
    await Promise.all([a.close(), b.close()]);
    await schema.drop();
  });

  describe('change log', () => {
    it('logs each write with the tokens it touched, its origin and the next change number', async () => {
      const first = items(3);
      const second = items(2);
      await a.putItems('docs', first);
      await b.putItems('docs', second);
      const removed = await a.deleteItems('docs', [first[0].token, randomBytes(32)]);
      expect(removed).toBe(1);

      const log = await b.replication.changesSince('docs', 0);
      expect(log!.head).toMatchObject({ name: 'docs', changeSeq: 3, modelVersion: 0 });
      expect(log!.changes.map((change) => ({ seq: change.seq, origin: change.origin, tokens: hex(change.tokens) }))).toEqual([
        { seq: 1, origin: a.replication.origin, tokens: hex(first.map((item) => item.token)) },
        { seq: 2, origin: b.replication.origin, tokens: hex(second.map((item) => item.token)) },
        // Only the token that existed: a delete logs what it removed.
        { seq: 3, origin: a.replication.origin, tokens: hex([first[0].token]) },
      ]);
      expect((await a.replication.changesSince('docs', 2))!.changes.map((change) => change.seq)).toEqual([3]);
      expect((await a.getIndex('docs'))!.changeSeq).toBe(3);
    });

    it('keeps change numbers gapless: a delete that finds nothing still counts, with no tokens', async () => {
      expect(await a.deleteItems('docs', [randomBytes(32)])).toBe(0);
      const log = await a.replication.changesSince('docs', 0);
      expect(log!.changes).toEqual([{ seq: 1, origin: a.replication.origin, tokens: [] }]);
    });

    it('logs each statement of a batch split by size, and nothing for a write to a missing index', async () => {
      const store = await PostgresStore.open(schema.connectionString, { maxStatementBytes: 1000 });
      try {
        const batch = items(25);
        await store.putItems('docs', batch);
        const log = await store.replication.changesSince('docs', 0);
        expect(log!.changes.length).toBeGreaterThan(1);
        expect(log!.changes.map((change) => change.seq)).toEqual(log!.changes.map((_, i) => i + 1));
        expect(hex(log!.changes.flatMap((change) => change.tokens))).toEqual(hex(batch.map((item) => item.token)));
        await expect(store.putItems('missing', items(1))).rejects.toThrow();
        expect(await store.replication.changesSince('missing', 0)).toBeNull();
      } finally {
        await store.close();
      }
    });

    it('gives concurrent writers from two processes distinct, consecutive change numbers', async () => {
      await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).putItems('docs', items(5))));
      const log = await a.replication.changesSince('docs', 0);
      expect(log!.changes.map((change) => change.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      expect(log!.head.changeSeq).toBe(10);
    });

    it('reports heads of existing indexes only, and tells a recreated index by its creation time', async () => {
      await a.putItems('docs', items(1));
      await a.saveModel('docs', randomBytes(40));
      const [before] = await b.replication.heads(['docs', 'missing']);
      expect(before).toMatchObject({ name: 'docs', changeSeq: 1, modelVersion: 1 });
      expect(await b.replication.heads([])).toEqual([]);

      await a.deleteIndex('docs');
      expect(await b.replication.heads(['docs'])).toEqual([]);
      await a.createIndex({ name: 'docs', wrappedDataKey: randomBytes(60), sealedConfig: randomBytes(80) });
      const [after] = await b.replication.heads(['docs']);
      expect(after).toMatchObject({ changeSeq: 0, modelVersion: 0 });
      expect(after.createdAt.getTime()).not.toBe(before.createdAt.getTime());
      // The deleted index's log went with it.
      expect((await b.replication.changesSince('docs', 0))!.changes).toEqual([]);
    });

    it('prunes changes older than asked and leaves newer ones', async () => {
      await a.putItems('docs', items(1));
      await a.putItems('docs', items(1));
      expect(await a.replication.pruneChanges(60_000)).toBe(0);
      await schema.query("UPDATE index_changes SET changed_at = now() - interval '2 minutes' WHERE seq = 1");
      expect(await a.replication.pruneChanges(60_000)).toBe(1);
      const log = await a.replication.changesSince('docs', 0);
      // The first change is gone: a replica at 0 sees the log start at 2 and knows to reload.
      expect(log!.changes.map((change) => change.seq)).toEqual([2]);
    });
  });

  describe('training leases', () => {
    const lease = (runId: string) => ({ index: 'docs', runId, trigger: 'MANUAL' });

    it('has one holder at a time; the loser learns who holds it', async () => {
      const claims = await Promise.all([a.replication.claimLease(lease('run-a'), 60_000), b.replication.claimLease(lease('run-b'), 60_000)]);
      const winners = claims.filter((claim) => claim.claimed);
      expect(winners).toHaveLength(1);
      const loser = claims.find((claim) => !claim.claimed)!;
      const winnerRun = claims[0].claimed ? 'run-a' : 'run-b';
      expect(loser).toMatchObject({ claimed: false, expired: false, holder: { index: 'docs', runId: winnerRun, trigger: 'MANUAL' } });
    });

    it('is renewed and released only by the run that holds it', async () => {
      expect(await a.replication.claimLease(lease('run-a'), 60_000)).toEqual({ claimed: true });
      expect(await b.replication.renewLease('docs', 'run-b', 60_000)).toBe(false);
      expect(await a.replication.renewLease('docs', 'run-a', 60_000)).toBe(true);
      await b.replication.releaseLease('docs', 'run-b');
      expect((await b.replication.claimLease(lease('run-b'), 60_000)).claimed).toBe(false);
      await a.replication.releaseLease('docs', 'run-a');
      expect(await b.replication.claimLease(lease('run-b'), 60_000)).toEqual({ claimed: true });
    });

    it('does not hand over an expired lease on claim, but reports it expired', async () => {
      // A negative time to live: expired the moment it is written, on the database's clock.
      await a.replication.claimLease(lease('run-a'), -1000);
      expect(await b.replication.claimLease(lease('run-b'), 60_000)).toMatchObject({ claimed: false, expired: true, holder: { runId: 'run-a' } });
    });

    it('reaps expired leases after announcing them, except those of the runs it is told to keep', async () => {
      await a.replication.claimLease(lease('run-a'), -1000);
      const announced: TrainingLease[] = [];
      expect(await a.replication.reapExpiredLeases(async (l) => void announced.push(l), ['run-a'])).toEqual([]);

      const reaped = await b.replication.reapExpiredLeases(async (l) => void announced.push(l));
      expect(reaped).toEqual([{ index: 'docs', runId: 'run-a', owner: a.replication.origin, trigger: 'MANUAL' }]);
      expect(announced).toEqual(reaped);
      expect(await b.replication.claimLease(lease('run-b'), 60_000)).toEqual({ claimed: true });
      expect(await a.replication.renewLease('docs', 'run-a', 60_000)).toBe(false);
    });

    it('keeps an expired lease whose announcement failed, for a later sweep', async () => {
      await a.replication.claimLease(lease('run-a'), -1000);
      await expect(b.replication.reapExpiredLeases(async () => Promise.reject(new Error('redis down')))).rejects.toThrow('redis down');
      const again = await b.replication.reapExpiredLeases(async () => {});
      expect(again.map((l) => l.runId)).toEqual(['run-a']);
    });

    it('goes with its index when the index is deleted', async () => {
      await a.replication.claimLease(lease('run-a'), 60_000);
      await b.deleteIndex('docs');
      expect(await a.replication.renewLease('docs', 'run-a', 60_000)).toBe(false);
    });
  });
});

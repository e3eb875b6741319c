// The fenced model save on real PostgreSQL: a save carrying its run's lease commits only while
// that lease is the run's and unexpired, in the same statement; a stale trainer's save (lease
// expired, reaped, taken over, or released) is refused with ModelFencedError and the model and
// its version stay as the lease holder left them; a sweep cannot take a lease over while a save
// under it is committing.

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelFencedError, StoreIndexNotFoundError } from '../../src/storage/index.js';
import { PostgresStore } from '../../src/storage/postgres-store.js';
import { createPostgresTestSchema, probePostgres, type PostgresTestSchema } from '../support/services.js';

const postgres = await probePostgres();

describe.skipIf(!postgres.available)(`fenced model saves on PostgreSQL${postgres.available ? '' : ` (skipped: ${postgres.reason})`}`, () => {
  let schema: PostgresTestSchema;
  let a: PostgresStore;
  let b: PostgresStore;
  const lease = (runId: string) => ({ index: 'docs', runId, trigger: 'MANUAL' });

  beforeEach(async () => {
    schema = await createPostgresTestSchema('model_fence');
    [a, b] = await Promise.all([PostgresStore.open(schema.connectionString), PostgresStore.open(schema.connectionString)]);
    await a.createIndex({ name: 'docs', wrappedDataKey: randomBytes(60), sealedConfig: randomBytes(80) });
  });

  afterEach(async () => {
    await Promise.all([a.close(), b.close()]);
    await schema.drop();
  });

  it('saves under the lease the run holds', async () => {
    expect(await a.replication.claimLease(lease('run-1'), 60_000)).toEqual({ claimed: true });
    const model = randomBytes(200);
    expect(await a.saveModel('docs', model, { runId: 'run-1' })).toBe(1);
    expect((await b.getIndex('docs'))!.sealedModel).toEqual(model);
  });

  it("refuses a stale trainer's save once another run took the lease over and saved a newer model", async () => {
    expect(await a.replication.claimLease(lease('stale'), 50)).toEqual({ claimed: true });
    await new Promise((resolve) => setTimeout(resolve, 120));
    // The lease expired; another replica reaps it, trains under its own lease and saves.
    expect((await b.replication.reapExpiredLeases(async () => {})).map((reaped) => reaped.runId)).toEqual(['stale']);
    expect(await b.replication.claimLease(lease('newer'), 60_000)).toEqual({ claimed: true });
    const newer = randomBytes(200);
    expect(await b.saveModel('docs', newer, { runId: 'newer' })).toBe(1);

    const stale = a.saveModel('docs', randomBytes(200), { runId: 'stale' });
    await expect(stale).rejects.toBeInstanceOf(ModelFencedError);
    await expect(stale).rejects.toMatchObject({ index: 'docs', runId: 'stale' });
    const stored = (await a.getIndex('docs'))!;
    expect(stored.sealedModel).toEqual(newer);
    expect(stored.modelVersion).toBe(1);
  });

  it('refuses a save whose lease expired, even before any sweep reaped it', async () => {
    expect(await a.replication.claimLease(lease('late'), 50)).toEqual({ claimed: true });
    await new Promise((resolve) => setTimeout(resolve, 120));
    await expect(a.saveModel('docs', randomBytes(200), { runId: 'late' })).rejects.toBeInstanceOf(ModelFencedError);
    expect((await a.getIndex('docs'))!).toMatchObject({ sealedModel: null, modelVersion: 0 });
  });

  it('refuses a save after the lease was released, and one under no lease at all', async () => {
    expect(await a.replication.claimLease(lease('done'), 60_000)).toEqual({ claimed: true });
    await a.replication.releaseLease('docs', 'done');
    await expect(a.saveModel('docs', randomBytes(200), { runId: 'done' })).rejects.toBeInstanceOf(ModelFencedError);
    await expect(a.saveModel('docs', randomBytes(200), { runId: 'never-claimed' })).rejects.toBeInstanceOf(ModelFencedError);
    expect((await a.getIndex('docs'))!.modelVersion).toBe(0);
  });

  it('still tells a missing index apart from a lost lease', async () => {
    await expect(a.saveModel('gone', randomBytes(200), { runId: 'any' })).rejects.toBeInstanceOf(StoreIndexNotFoundError);
  });

  it('keeps the lease from being reaped while a save under it commits', async () => {
    expect(await a.replication.claimLease(lease('slow'), 1000)).toEqual({ claimed: true });
    // Hold the index row so the save waits inside its statement, holding the lease row FOR SHARE.
    const blocker = new pg.Client({ connectionString: schema.connectionString });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query("SELECT 1 FROM indexes WHERE name = 'docs' FOR UPDATE");
      const saving = a.saveModel('docs', randomBytes(200), { runId: 'slow' });
      const waiting = async () =>
        (await blocker.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'")).rows[0].n;
      for (let tries = 0; (await waiting()) === 0; tries++) {
        if (tries > 500) throw new Error('the save never waited for the index row');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // The lease expires while the save waits; a sweep passes it by while the save holds it.
      await new Promise((resolve) => setTimeout(resolve, 1200));
      expect(await b.replication.reapExpiredLeases(async () => {})).toEqual([]);
      await blocker.query('COMMIT');
      expect(await saving).toBe(1);
      // Once the save is done, the expired lease is reaped as usual.
      expect((await b.replication.reapExpiredLeases(async () => {})).map((reaped) => reaped.runId)).toEqual(['slow']);
    } finally {
      await blocker.end();
    }
  });
});

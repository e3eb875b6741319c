// Several replicas for real: three `cipherdex serve` processes (as an operator starts them) on
// one PostgreSQL schema and one Redis. Writes acknowledged by one replica are found by searches on
// the others; a trainingStatus subscription on B streams a run executing on A; simultaneous
// trainIndex calls on two replicas make one run; a replica killed with SIGKILL mid-training has its
// run reported FAILED by a survivor once the (short) lease expires, after which the index trains
// again; and a replica started empty serves every acknowledged write, exactly, once a request
// brings the key.

import { randomBytes, randomUUID } from 'node:crypto';
import { print } from 'graphql';
import type { Client } from 'graphql-ws';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CancelTrainingDocument,
  CreateIndexDocument,
  DeleteItemsDocument,
  IndexDocument,
  ItemIdsDocument,
  ItemsDocument,
  SearchDocument,
  TrainIndexDocument,
  TrainingStatusDocument,
  type TrainingStatusSubscription,
  UpsertDocument,
} from '../generated/graphql.js';
import { probePostgres, probeRedis } from '../support/services.js';
import { type Replica, useServedReplicas } from './replica-process.js';
import { clusteredVectors, toBase64 } from './vectors.js';
import { eventually } from '../support/eventually.js';

const postgres = await probePostgres();
const redis = await probeRedis();

const LEASE_MS = 2000;
const DIMENSION = 16;

type Status = Extract<TrainingStatusSubscription['trainingStatus'], { __typename: 'TrainingStatus' }>;
const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/** Every status event of one subscription, with a way to wait for one that matches. */
function watch(client: Client, index: string, key: string) {
  const events: Status[] = [];
  const waiters: Array<() => void> = [];
  const done = new Promise<void>((resolve, reject) => {
    client.subscribe<TrainingStatusSubscription>(
      { query: print(TrainingStatusDocument), variables: { index, key } },
      {
        next(result) {
          const status = result.data?.trainingStatus;
          if (status?.__typename !== 'TrainingStatus') return reject(new Error(`unexpected event ${JSON.stringify(result)}`));
          events.push(status);
          for (const wake of waiters.splice(0)) wake();
        },
        error: reject,
        complete: resolve,
      },
    );
  });
  return {
    events,
    done,
    async until(match: (status: Status) => boolean): Promise<Status> {
      for (;;) {
        const found = events.find(match);
        if (found !== undefined) return found;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
}

describe.skipIf(!postgres.available || !redis.available)('several replicas on one PostgreSQL and one Redis', () => {
  const cluster = useServedReplicas({ schema: 'replicas_e2e', redisUrl: redis.url, leaseMs: LEASE_MS, apiKeyPrefix: 'replicas' });
  let a: Replica;
  let b: Replica;
  let c: Replica;
  const key = randomBytes(32).toString('base64');
  // Index names are unique per run: Redis (training topics and statuses) is shared.
  const prefix = `replicas-${randomUUID().slice(0, 8)}`;
  /** Every item some replica acknowledged, by index: id -> vector. */
  const acknowledged = new Map<string, Map<string, Float32Array>>();

  function newIndexName(label: string): string {
    const name = `${prefix}-${label}`;
    cluster.indexNames.push(name);
    acknowledged.set(name, new Map());
    return name;
  }

  const start = (name: string) => cluster.start(name);

  async function createOn(replica: Replica, index: string): Promise<void> {
    const created = await replica.request(CreateIndexDocument, { name: index, key, dimension: DIMENSION });
    expect(created.body.data?.createIndex.__typename).toBe('Index');
  }

  /** Upserts on `replica`; true (and remembered) when acknowledged. */
  async function upsertOn(replica: Replica, index: string, items: { id: string; vector: Float32Array }[]): Promise<boolean> {
    const answer = await replica.request(UpsertDocument, { index, key, items: items.map((item) => ({ id: item.id, vector: toBase64(item.vector) })) });
    if (answer.body.data?.upsert.__typename !== 'UpsertSuccess') return false;
    for (const item of items) acknowledged.get(index)!.set(item.id, item.vector);
    return true;
  }

  async function vectorCountOn(replica: Replica, index: string): Promise<number> {
    const answer = await replica.request(IndexDocument, { name: index, key });
    const info = answer.body.data?.index;
    return info?.__typename === 'Index' ? info.vectorCount : -1;
  }

  async function trainOn(replica: Replica, index: string, args: { nLists: number; maxIters?: number; tolerance?: number; wait?: boolean }) {
    const answer = await replica.request(TrainIndexDocument, { index, key, ...args });
    return answer.body.data!.trainIndex;
  }

  beforeAll(async () => {
    [a, b, c] = await Promise.all([start('A'), start('B'), start('C')]);
  });

  it('finds on every replica what any replica acknowledged, and forgets what any deleted', async () => {
    const index = newIndexName('writes');
    await createOn(a, index);
    // Writers on A and B at once; C only reads.
    const vectors = clusteredVectors(600, DIMENSION, 6, 1);
    const batches = Array.from({ length: 12 }, (_, i) => vectors.slice(i * 50, (i + 1) * 50).map((vector, j) => ({ id: `w${i * 50 + j}`, vector })));
    const outcomes = await Promise.all(batches.map((batch, i) => upsertOn(i % 2 === 0 ? a : b, index, batch)));
    expect(outcomes.every(Boolean)).toBe(true);

    for (const replica of [a, b, c]) {
      await eventually(() => vectorCountOn(replica, index), (count) => count === 600, `600 items on ${replica.name}`);
    }
    const probe = acknowledged.get(index)!.get('w137')!;
    for (const replica of [a, b, c]) {
      const found = await replica.request(SearchDocument, { index, key, vector: toBase64(probe), topK: 1 });
      expect(found.body.data?.search).toMatchObject({ __typename: 'SearchResults', hits: [{ id: 'w137', distance: 0 }] });
    }
    // A write on C, just acknowledged, is searchable on A.
    const marker = { id: 'marker', vector: Float32Array.from({ length: DIMENSION }, () => 42) };
    expect(await upsertOn(c, index, [marker])).toBe(true);
    await eventually(
      () => a.request(SearchDocument, { index, key, vector: toBase64(marker.vector), topK: 1 }),
      (answer) => answer.body.data?.search.__typename === 'SearchResults' && answer.body.data.search.hits[0]?.id === 'marker',
      'the marker on A',
    );
    // A delete on B is gone from C.
    const removed = await b.request(DeleteItemsDocument, { index, key, ids: ['w137', 'marker'] });
    expect(removed.body.data?.deleteItems).toMatchObject({ __typename: 'DeleteItemsSuccess', deletedCount: 2 });
    await eventually(() => vectorCountOn(c, index), (count) => count === 599, 'the delete on C');
    const gone = await c.request(ItemsDocument, { index, key, ids: ['w137', 'marker', 'w138'] });
    expect(gone.body.data?.items).toMatchObject({ __typename: 'ItemList', items: [{ id: 'w138' }] });
  });

  it("streams a run executing on A to a subscriber on B, and B swaps in A's model", async () => {
    const index = newIndexName('stream');
    await createOn(a, index);
    expect(await upsertOn(a, index, clusteredVectors(800, DIMENSION, 8, 2).map((vector, i) => ({ id: `s${i}`, vector })))).toBe(true);
    await eventually(() => vectorCountOn(b, index), (count) => count === 800, '800 items on B');

    const onB = watch(b.ws(), index, key);
    await onB.until((status) => status.phase === 'IDLE');
    const run = await trainOn(a, index, { nLists: 8 });
    expect(run.__typename).toBe('TrainingRun');
    if (run.__typename !== 'TrainingRun') return;
    const end = await onB.until((status) => status.runId === run.runId && FINAL.has(status.phase));
    expect(end.phase).toBe('COMPLETED');
    const ofRun = onB.events.filter((status) => status.runId === run.runId);
    expect(ofRun[0]!.phase).toBe('QUEUED');
    expect(ofRun.some((status) => status.phase === 'ITERATING')).toBe(true);
    // B answers with A's lists: every list probed, the same hits as A.
    await eventually(
      () => b.request(IndexDocument, { name: index, key }),
      (answer) => answer.body.data?.index.__typename === 'Index' && answer.body.data.index.isTrained,
      'the model on B',
    );
    const query = toBase64(clusteredVectors(1, DIMENSION, 8, 3)[0]!);
    const onA = await a.request(SearchDocument, { index, key, vector: query, topK: 5, nProbes: 8 });
    const fromB = await b.request(SearchDocument, { index, key, vector: query, topK: 5, nProbes: 8 });
    expect(fromB.body.data?.search).toEqual(onA.body.data?.search);
  });

  it('makes one run of simultaneous trainIndex calls on two replicas', async () => {
    const index = newIndexName('race');
    await createOn(a, index);
    expect(await upsertOn(a, index, clusteredVectors(3000, DIMENSION, 4, 4).map((vector, i) => ({ id: `r${i}`, vector })))).toBe(true);
    await eventually(() => vectorCountOn(b, index), (count) => count === 3000, '3000 items on B');
    // Runs that last seconds: more vectors than a batch makes them mini-batch runs, whose shift
    // never reaches a tolerance of 0 (a full-batch run can, and may end before the other call).
    const long = { nLists: 64, maxIters: 10_000, tolerance: 0 };
    const [onA, onB] = await Promise.all([trainOn(a, index, long), trainOn(b, index, long)]);
    const outcomes = [onA, onB];
    const runs = outcomes.filter((outcome) => outcome.__typename === 'TrainingRun');
    const refusals = outcomes.filter((outcome) => outcome.__typename === 'TrainingInProgressError');
    expect(runs).toHaveLength(1);
    expect(refusals).toHaveLength(1);
    if (runs[0]!.__typename !== 'TrainingRun' || refusals[0]!.__typename !== 'TrainingInProgressError') return;
    expect(refusals[0]!.activeRunId).toBe(runs[0]!.runId);
    const winner = onA.__typename === 'TrainingRun' ? a : b;
    const cancelled = await winner.request(CancelTrainingDocument, { index, key });
    expect(cancelled.body.data?.cancelTraining).toMatchObject({ __typename: 'TrainingRun', runId: runs[0]!.runId });
  });

  it('reports the run of a replica killed with SIGKILL as FAILED once its lease expires, loses no acknowledged write, and trains again', async () => {
    const index = newIndexName('killed');
    await createOn(b, index);
    const base = clusteredVectors(6000, DIMENSION, 16, 5);
    for (let start = 0; start < base.length; start += 2000) {
      expect(await upsertOn(b, index, base.slice(start, start + 2000).map((vector, i) => ({ id: `k${start + i}`, vector })))).toBe(true);
    }
    await eventually(() => vectorCountOn(a, index), (count) => count === 6000, '6000 items on A');

    const onC = watch(c.ws(), index, key);
    // A long run on A: mini-batch (more vectors than a batch) with tolerance 0 runs to maxIters.
    const run = await trainOn(a, index, { nLists: 64, maxIters: 10_000, tolerance: 0 });
    expect(run.__typename).toBe('TrainingRun');
    if (run.__typename !== 'TrainingRun') return;

    // Writers on A and B while A trains; A's stop when A dies.
    let writing = true;
    const extra = clusteredVectors(4000, DIMENSION, 16, 6);
    let next = 0;
    const writes = new Map<Replica, number>([
      [a, 0],
      [b, 0],
    ]);
    const writer = async (replica: Replica) => {
      while (writing) {
        const batch = extra.slice(next, next + 20).map((vector, i) => ({ id: `x${next + i}`, vector }));
        next += 20;
        if (batch.length === 0) return;
        try {
          if (await upsertOn(replica, index, batch)) writes.set(replica, writes.get(replica)! + 1);
        } catch {
          return; // the replica is gone; what it did not acknowledge may or may not be stored
        }
      }
    };
    const writers = [writer(a), writer(b)];
    await onC.until((status) => status.runId === run.runId && status.phase === 'ITERATING');
    const killedAt = Date.now();
    await a.kill();
    const end = await onC.until((status) => status.runId === run.runId && FINAL.has(status.phase));
    const failedAfterMs = Date.now() - killedAt;
    writing = false;
    await Promise.all(writers);
    expect(end).toMatchObject({ phase: 'FAILED', message: expect.stringContaining('lease') });
    expect(writes.get(b)).toBeGreaterThan(0);
    console.log(
      `[replicas] run of the killed replica reported FAILED ${failedAfterMs} ms after SIGKILL (lease ${LEASE_MS} ms); ` +
        `batches acknowledged during the run: A ${writes.get(a)}, B ${writes.get(b)}`,
    );

    // The index is not stuck: it trains again, on a survivor.
    const again = await trainOn(b, index, { nLists: 16, wait: true });
    expect(again).toMatchObject({ __typename: 'TrainingRun', phase: 'COMPLETED' });

    // A replica started empty serves every acknowledged write, exactly, once a request brings the key.
    const d = await start('D');
    const mine = acknowledged.get(index)!;
    const ids = await d.request(ItemIdsDocument, { index, key });
    if (ids.body.data?.itemIds.__typename !== 'ItemIdList') throw new Error(JSON.stringify(ids.body));
    const stored = new Set(ids.body.data.itemIds.ids);
    const lost = [...mine.keys()].filter((id) => !stored.has(id));
    expect(lost).toEqual([]);
    const sample = [...mine.keys()].filter((_, i) => i % 50 === 0);
    const got = await d.request(ItemsDocument, { index, key, ids: sample });
    if (got.body.data?.items.__typename !== 'ItemList') throw new Error(JSON.stringify(got.body));
    for (const item of got.body.data.items.items) expect(item.vector).toEqual(Array.from(mine.get(item.id)!));
    // D and C answer alike, with the survivor's model (every list probed).
    await eventually(() => vectorCountOn(c, index), (count) => count === stored.size, 'C to hold every item');
    const query = toBase64(extra[7]!);
    const onD = await d.request(SearchDocument, { index, key, vector: query, topK: 10, nProbes: 16 });
    const onCNow = await c.request(SearchDocument, { index, key, vector: query, topK: 10, nProbes: 16 });
    expect(onD.body.data?.search).toEqual(onCNow.body.data?.search);
  });
});

// Replicas agree on the index commitment: two index services on one PostgreSQL schema (and Redis)
// writing the same index at the same time serialize on the commitment (a write computed from a
// commitment another replica moved is computed again), so every acknowledged write is in it,
// each replica's memory ends up as the committed set, and a third replica opens the index with
// no IntegrityError. A row then put back behind the replicas' backs is refused by a fresh open.

import { beforeEach, describe, expect, it } from 'vitest';
import { type Config } from '../../../src/config.js';
import { createIndexService } from '../../../src/service/create-index-service.js';
import { IntegrityError } from '../../../src/service/errors.js';
import type { CipherdexIndexService } from '../../../src/service/index-service.js';
import { eventually } from '../../support/eventually.js';
import { useReplicaCluster } from './replica-cluster.js';
import { rejection } from '../../support/rejection.js';
import { probePostgres, probeRedis, type PostgresTestSchema } from '../../support/services.js';
import { seededVectors } from '../reference-search.js';
import { newKey } from '../service-harness.js';

const postgres = await probePostgres();
const redis = await probeRedis();
const DIM = 4;

describe.skipIf(!postgres.available || !redis.available)('replicas and the index commitment', () => {
  const cluster = useReplicaCluster('replica_commitment', redis.url, { REPLICA_POLL_MS: '200' });
  const { services } = cluster;
  const key = newKey();
  let schema: PostgresTestSchema;
  let config: Config;
  let name: string;
  beforeEach(() => void ({ schema, config, name } = cluster));

  async function replica(): Promise<CipherdexIndexService> {
    const service = await createIndexService(config, { sealWorkers: 0 });
    services.push(service);
    return service;
  }


  it('serializes simultaneous writes of two replicas on the commitment; both and a third replica agree', async () => {
    const [a, b] = [await replica(), await replica()];
    await a.createIndex(name, key, { dimension: DIM });
    const vectors = seededVectors(40, DIM, 3);
    await a.upsert(name, key, vectors.slice(0, 10).map((vector, i) => ({ id: `v${i}`, vector })));
    expect((await b.describeIndex(name, key)).vectorCount).toBe(10);

    // Overlapping ids, all at once from both replicas: upserts, replacements, updates and deletes.
    const writes: Promise<unknown>[] = [];
    for (let round = 0; round < 6; round++) {
      writes.push(a.upsert(name, key, [{ id: `v${round}`, vector: vectors[20 + round] }, { id: `a${round}`, vector: vectors[30 + round] }]));
      writes.push(b.upsert(name, key, [{ id: `v${round + 1}`, vector: vectors[26 + round] }, { id: `b${round}`, vector: vectors[round] }]));
      writes.push(b.update(name, key, ['v9'], { metadata: { round } }));
      if (round % 2 === 1) writes.push(a.delete(name, key, [`b${round - 1}`, 'nope']));
    }
    await Promise.all(writes);
    const [{ seq }] = await schema.query<{ seq: string }>('SELECT commitment_seq AS seq FROM indexes WHERE name = $1', [name]);
    // The first upsert, then every write above: each moved the commitment exactly once.
    expect(Number(seq)).toBe(1 + writes.length);

    // A third replica loads the index from the store, checking it against the commitment.
    const c = await replica();
    const expected = (await c.listIds(name, key)).sort();
    const rows = await schema.query<{ n: string }>('SELECT count(*) AS n FROM items');
    expect(expected).toHaveLength(Number(rows[0].n));
    await eventually(async () => (await b.listIds(name, key)).sort(), (ids) => JSON.stringify(ids) === JSON.stringify(expected), 'B to catch up');
    await eventually(async () => (await a.listIds(name, key)).sort(), (ids) => JSON.stringify(ids) === JSON.stringify(expected), 'A to catch up');
    expect((await c.get(name, key, ['v9']))[0].metadata).toEqual({ round: 5 });
  });

  it('refuses, on a fresh replica, an older row put back after both replicas wrote', async () => {
    const [a, b] = [await replica(), await replica()];
    await a.createIndex(name, key, { dimension: DIM });
    const vectors = seededVectors(4, DIM, 5);
    await a.upsert(name, key, [{ id: 'x', vector: vectors[0] }]);
    const [old] = await schema.query<{ token: Buffer; sealed: Buffer }>('SELECT token, sealed FROM items');
    await b.upsert(name, key, [{ id: 'x', vector: vectors[1] }]);
    await a.upsert(name, key, [{ id: 'y', vector: vectors[2] }]);
    await schema.query('UPDATE items SET sealed = $1 WHERE token = $2', [old.sealed, old.token]);
    const c = await replica();
    expect(await rejection(c.get(name, key, ['x']))).toBeInstanceOf(IntegrityError);
  });
});

// Store faults are recognised from the drivers' real errors (SQLite, PostgreSQL, sockets), other
// errors are not; and SqliteStore surfaces a commit that fails on a full disk instead of reporting
// the write as done (write ... RETURNING outside a transaction, see saveModel).

import { once } from 'node:events';
import { mkdtemp, open, rm, unlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { STORE_BACKENDS, storeFaultOf } from '../../src/storage/store-backends.js';
import { STORE_KINDS } from '../../src/storage/store-kinds.js';
import { DEFAULT_POSTGRES_TIMEOUTS, poolTimeoutOptions } from '../../src/storage/postgres-timeouts.js';
import { mountTmpfs, mountUnavailableReason } from '../support/mounts.js';
import { probePostgres } from '../support/services.js';

function caught(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('store backends', () => {
  const coded = (code: string) => Object.assign(new Error(`failed with ${code}`), { code });

  it('exist for every store kind', () => {
    expect(Object.keys(STORE_BACKENDS).sort()).toEqual([...STORE_KINDS].sort());
  });

  it("each read their own driver's codes only; Node's codes are common to all", () => {
    expect(STORE_BACKENDS.sqlite.faultOf(coded('SQLITE_FULL'))).toBe('disk-full');
    expect(STORE_BACKENDS.postgres.faultOf(coded('SQLITE_FULL'))).toBeNull();
    expect(STORE_BACKENDS.postgres.faultOf(coded('53100'))).toBe('disk-full');
    expect(STORE_BACKENDS.sqlite.faultOf(coded('53100'))).toBeNull();
    expect(STORE_BACKENDS.postgres.faultOf(coded('08006'))).toBe('unreachable');
    // Timeouts: the server's statement_timeout (57014) is a busy store; pg's own query_timeout (no
    // reply came) and the end of an idle-in-transaction session are an unreachable one.
    expect(STORE_BACKENDS.postgres.faultOf(coded('57014'))).toBe('busy');
    expect(STORE_BACKENDS.postgres.faultOf(new Error('Query read timeout'))).toBe('unreachable');
    expect(STORE_BACKENDS.postgres.faultOf(coded('25P03'))).toBe('unreachable');
    expect(STORE_BACKENDS.sqlite.faultOf(new Error('Query read timeout'))).toBeNull();
    for (const backend of Object.values(STORE_BACKENDS)) expect(backend.faultOf(coded('ENOSPC'))).toBeNull();
    expect(storeFaultOf(coded('ENOSPC'))).toBe('disk-full');
  });
});

describe('storeFaultOf on SQLite errors', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cipherdex-fault-'));
    const db = new Database(join(dir, 'f.db'));
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    db.close();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a write to a database opened read-only is read-only', () => {
    const db = new Database(join(dir, 'f.db'), { readonly: true });
    expect(storeFaultOf(caught(() => db.exec('INSERT INTO t VALUES (1)')))).toBe('read-only');
    db.close();
  });

  it('a write while another connection holds the write lock is busy', () => {
    const holder = new Database(join(dir, 'f.db'));
    const waiter = new Database(join(dir, 'f.db'), { timeout: 0 });
    holder.exec('BEGIN IMMEDIATE');
    expect(storeFaultOf(caught(() => waiter.exec('INSERT INTO t VALUES (2)')))).toBe('busy');
    holder.exec('ROLLBACK');
    holder.close();
    waiter.close();
  });

  it('a constraint violation or a syntax error is not a store fault', () => {
    const db = new Database(join(dir, 'f.db'));
    db.exec('INSERT OR REPLACE INTO t VALUES (3)');
    expect(storeFaultOf(caught(() => db.exec('INSERT INTO t VALUES (3)')))).toBeNull();
    expect(storeFaultOf(caught(() => db.exec('SELEC 1')))).toBeNull();
    db.close();
    expect(storeFaultOf(new Error('unexpected'))).toBeNull();
    expect(storeFaultOf('not an error')).toBeNull();
  });
});

describe('storeFaultOf on connection errors', () => {
  it('a refused connection is unreachable', async () => {
    // A port that was just free: nothing listens there.
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    server.close();
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'nobody', database: 'none', connectionTimeoutMillis: 2000 });
    const error = await client.connect().then(() => null, (e: unknown) => e);
    expect(storeFaultOf(error)).toBe('unreachable');
  });
});

const postgres = await probePostgres();

describe.skipIf(!postgres.available)('storeFaultOf on PostgreSQL errors', () => {
  let client: pg.Client;
  beforeAll(async () => {
    client = new pg.Client({ connectionString: postgres.url });
    client.on('error', () => {});
    await client.connect();
  });
  afterAll(async () => {
    await client.end().catch(() => {});
  });

  it('a write in a read-only transaction is read-only; a syntax error is no fault', async () => {
    await client.query('BEGIN READ ONLY');
    const error = await client.query('CREATE TABLE cipherdex_fault_probe (id int)').then(() => null, (e: unknown) => e);
    await client.query('ROLLBACK');
    expect(storeFaultOf(error)).toBe('read-only');
    expect(storeFaultOf(await client.query('SELEC 1').then(() => null, (e: unknown) => e))).toBeNull();
  });

  it('a statement past statement_timeout is busy; a reply past query_timeout is unreachable', async () => {
    const timed = new pg.Client({ connectionString: postgres.url, ...poolTimeoutOptions({ ...DEFAULT_POSTGRES_TIMEOUTS, statementMs: 200, queryMs: 5000 }) });
    await timed.connect();
    try {
      expect(storeFaultOf(await timed.query('SELECT pg_sleep(2)').then(() => null, (e: unknown) => e))).toBe('busy');
    } finally {
      await timed.end();
    }
    const impatient = new pg.Client({ connectionString: postgres.url, ...poolTimeoutOptions({ ...DEFAULT_POSTGRES_TIMEOUTS, statementMs: 5000, queryMs: 200 }) });
    impatient.on('error', () => {});
    await impatient.connect();
    try {
      expect(storeFaultOf(await impatient.query('SELECT pg_sleep(1)').then(() => null, (e: unknown) => e))).toBe('unreachable');
    } finally {
      await impatient.end().catch(() => {});
    }
  });

  it('a connection the server terminates is unreachable, and so is every later query on it', async () => {
    const terminated = await client.query('SELECT pg_terminate_backend(pg_backend_pid())').then(() => null, (e: unknown) => e);
    expect(storeFaultOf(terminated)).toBe('unreachable');
    const after = await client.query('SELECT 1').then(() => null, (e: unknown) => e);
    expect(storeFaultOf(after)).toBe('unreachable');
  });
});

const mountProblem = await mountUnavailableReason();
if (mountProblem !== null) console.warn(`[skip] the full-disk store test needs mount(8) (root with CAP_SYS_ADMIN): ${mountProblem}`);

describe.skipIf(mountProblem !== null)('SqliteStore on a full disk', () => {
  it('rejects createIndex and saveModel whose commit fails (disk-full), and keeps nothing of them', async () => {
    const disk = await mountTmpfs(2 << 20);
    const file = join(disk.path, 'store.db');
    const filler = join(disk.path, 'filler');
    let store = await SqliteStore.open(file);
    try {
      await store.createIndex({ name: 'kept', wrappedDataKey: Buffer.alloc(60, 1), sealedConfig: Buffer.alloc(60, 2) });
      const handle = await open(filler, 'w');
      for (const size of [1 << 16, 512]) {
        const chunk = Buffer.alloc(size, 1);
        for (;;) {
          const written = await handle.write(chunk).then((r) => r.bytesWritten, () => 0);
          if (written < size) break;
        }
      }
      await handle.close();

      const model = Buffer.alloc(200_000, 3);
      const saving = await store.saveModel('kept', model).then(() => null, (e: unknown) => e);
      expect(storeFaultOf(saving)).toBe('disk-full');
      const creating = await store
        .createIndex({ name: 'ghost', wrappedDataKey: Buffer.alloc(60, 1), sealedConfig: Buffer.alloc(100_000, 2) })
        .then(() => null, (e: unknown) => e);
      expect(storeFaultOf(creating)).toBe('disk-full');

      await unlink(filler);
      await store.close();
      store = await SqliteStore.open(file);
      expect(await store.listIndexNames()).toEqual(['kept']);
      expect(await store.getIndex('kept')).toMatchObject({ sealedModel: null, modelVersion: 0 });
      expect(await store.saveModel('kept', model)).toBe(1);
    } finally {
      await store.close();
      await rm(filler, { force: true });
      await disk.release();
    }
  });
});

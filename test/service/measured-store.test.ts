// measuredStore: every store call is reported with its operation and outcome, a store fault with
// its kind, answers and errors pass through unchanged, and methods it was never told of are
// measured too (it is a Proxy).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { measuredStore } from '../../src/service/measured-store.js';
import type { ServiceMetrics } from '../../src/service/service-metrics.js';
import { SqliteStore, type Store } from '../../src/storage/index.js';

interface Call {
  operation: string;
  fault: string | null;
  failed: boolean;
}

function recorder(): { metrics: ServiceMetrics; calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    metrics: {
      searched: () => {},
      upserted: () => {},
      trainingEnded: () => {},
      storeCall: (operation, seconds, fault, failed) => {
        expect(seconds).toBeGreaterThanOrEqual(0);
        calls.push({ operation, fault, failed });
      },
    },
  };
}

describe('measuredStore', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('reports each call with its operation and passes answers through', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cipherdex-measured-'));
    dirs.push(dir);
    const inner = await SqliteStore.open(join(dir, 'store.db'));
    const { metrics, calls } = recorder();
    const store = measuredStore(inner, metrics);
    try {
      expect(store.kind).toBe('sqlite');
      await store.createIndex({ name: 'a', wrappedDataKey: Buffer.alloc(8), sealedConfig: Buffer.alloc(8) });
      expect(await store.listIndexNames()).toEqual(['a']);
      expect(await store.deleteIndex('missing')).toBe(false);
      expect(calls).toEqual([
        { operation: 'createIndex', fault: null, failed: false },
        { operation: 'listIndexNames', fault: null, failed: false },
        { operation: 'deleteIndex', fault: null, failed: false },
      ]);
    } finally {
      await store.close();
    }
  });

  it('classifies a store fault and rethrows the very error; other failures count without a kind', async () => {
    const full = Object.assign(new Error('disk full'), { code: 'SQLITE_FULL' });
    const bug = new Error('not a fault');
    const inner = {
      kind: 'sqlite',
      putItems: () => Promise.reject(full),
      countItems: () => Promise.reject(bug),
      somethingNew: () => Promise.resolve(42),
    } as unknown as Store & { somethingNew(): Promise<number> };
    const { metrics, calls } = recorder();
    const store = measuredStore(inner, metrics) as typeof inner;
    await expect(store.putItems('a', [])).rejects.toBe(full);
    await expect(store.countItems('a')).rejects.toBe(bug);
    expect(await store.somethingNew()).toBe(42);
    expect(calls).toEqual([
      { operation: 'putItems', fault: 'disk-full', failed: true },
      { operation: 'countItems', fault: null, failed: true },
      { operation: 'somethingNew', fault: null, failed: false },
    ]);
  });
});

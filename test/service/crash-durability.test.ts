// Durability through the service: a writer process killed with SIGKILL at a random moment loses
// no acknowledged upsert, and the index reopens decryptable and searchable, on both stores.
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { CRASH_DIMENSION, upsertBatch } from './fixtures/upsert-batch.js';
import { forEachStore, newKey, type ServiceStoreHarness } from './service-harness.js';

const BATCH_SIZE = 200;

forEachStore((fresh) => {
  let harness: ServiceStoreHarness;

  beforeEach(async () => {
    harness = await fresh();
  });

  afterEach(async () => {
    await harness.dispose();
  });

  it('keeps every acknowledged batch intact after SIGKILL, and the index searchable', async () => {
    const key = newKey();
    const setup = await harness.service();
    await setup.createIndex('docs', key, { dimension: CRASH_DIMENSION });
    await setup.close();

    const writer = fileURLToPath(new URL('./fixtures/upsert-loop.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', writer, 'docs', key, String(BATCH_SIZE)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...harness.env, AUTO_TRAIN_DISABLED: 'true' },
    });
    // A random moment: after some acknowledged batches, plus a random delay into the next ones.
    const killAfter = randomInt(3, 12);
    const acknowledged: number[] = [];
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    try {
      for await (const line of createInterface({ input: child.stdout })) {
        acknowledged.push(Number(line));
        if (acknowledged.length === killAfter) setTimeout(() => child.kill('SIGKILL'), randomInt(0, 30));
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');
    expect(acknowledged.length).toBeGreaterThanOrEqual(killAfter);

    const service = await harness.service();
    const count = (await service.describeIndex('docs', key)).vectorCount;
    // Everything acknowledged, plus at most the one batch in flight (all or nothing).
    expect([acknowledged.length * BATCH_SIZE, (acknowledged.length + 1) * BATCH_SIZE]).toContain(count);
    for (const batch of acknowledged) {
      const expected = upsertBatch(batch, BATCH_SIZE);
      const got = await service.get('docs', key, expected.map((item) => item.id));
      expect(got, `batch ${batch}`).toEqual(expected);
    }
    const probe = upsertBatch(acknowledged[acknowledged.length - 1], BATCH_SIZE)[BATCH_SIZE - 1];
    const [result] = await service.search('docs', key, [probe.vector], { topK: 1 });
    expect(result.hits[0].id).toBe(probe.id);
  });
});

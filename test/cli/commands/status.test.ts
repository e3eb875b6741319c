// `cipherdex status` end to end: the server overview, one index in detail, and its JSON form.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, cliEnv, clusteredVectors, newIndexKey, runCli, seedIndex, startTestServer } from '../cli-harness.js';

let server: TestServer;
const key = newIndexKey();

beforeAll(async () => {
  server = await startTestServer({ AUTO_TRAIN_DISABLED: 'false', RETRAIN_THRESHOLD: '5000' });
  await seedIndex(server, 'alpha', key, clusteredVectors(40, 4, 2, 41));
  await seedIndex(server, 'beta', newIndexKey(), clusteredVectors(10, 3, 1, 42));
});
afterAll(async () => {
  await server?.close();
});

describe('cipherdex status', () => {
  it('without an index shows the indexes and the training queue', async () => {
    const result = await runCli(['status'], cliEnv(server));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Server ${server.url}`);
    expect(result.stdout).toContain('indexes (2): alpha, beta');
    expect(result.stdout).toContain('auto-training on: an untrained index is queued at 5,000 vectors');
    expect(result.stdout).toContain('running (0)');
    expect(result.stdout).toContain('queued (0)');
  });

  it('with an index and its key describes it; --json gives the raw answer', async () => {
    const result = await runCli(['status', 'alpha', '--key', key], cliEnv(server));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Index "alpha"');
    expect(result.stdout).toContain('dimension 4, metric EUCLIDEAN, type IVF_SQ8');
    expect(result.stdout).toContain('vectors 40, lists chosen at training');
    expect(result.stdout).toContain('trained no');

    const json = await runCli(['status', 'alpha', '--json'], cliEnv(server, { CIPHERDEX_INDEX_KEY: key }));
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ name: 'alpha', dimension: 4, vectorCount: 40, isTrained: false, lastTrainingRun: null });
  });

  it('needs the index key for one index', async () => {
    const result = await runCli(['status', 'alpha'], cliEnv(server));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('an index key is required: pass --key or set CIPHERDEX_INDEX_KEY');
  });
});

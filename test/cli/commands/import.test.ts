// `cipherdex import` end to end against a real server: .fvecs, .jsonl and .npy files land in the
// index in batches, a rerun after an interruption continues from the checkpoint, and bad input
// or a mismatched index fails with the documented exit codes.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type TestServer,
  cliEnv,
  clusteredVectors,
  collect,
  describeIndex,
  graphql,
  newIndexKey,
  runCli,
  seedIndex,
  spawnCli,
  startTestServer,
  success,
  writeFvecs,
  writeNpy,
} from '../cli-harness.js';
import { ItemsDocument } from '../../generated/graphql.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

async function storedItems(name: string, key: string, ids: string[]) {
  const data = await graphql(server, ItemsDocument, { index: name, key, ids });
  return success(data.items, 'ItemList').items;
}

async function vectorCount(name: string, key: string): Promise<number> {
  return (await describeIndex(server, name, key)).vectorCount;
}

describe('cipherdex import', () => {
  it('loads a generated .fvecs file in batches, creating the index, with ids from the prefix', async () => {
    const vectors = clusteredVectors(1500, 8, 5, 11);
    const path = join(server.workDir, 'points.fvecs');
    await writeFvecs(path, vectors);
    const key = newIndexKey();
    const env = cliEnv(server, { CIPHERDEX_INDEX_KEY: key });

    const result = await runCli(['import', path, '--index', 'fvecs-points', '--batch-size', '400', '--id-prefix', 'p'], env);
    expect(result.stderr).toContain('Created index "fvecs-points" (dimension 8, metric EUCLIDEAN)');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Imported 1,500 records into "fvecs-points" in .* items\/s\); the index holds 1,500 vectors\.$/m);
    // Without a terminal the bar is printed as plain lines: the last one shows the whole file done.
    expect(result.stderr).toMatch(/100% \| ETA 0s \| 1,500\/1,500 records \| [\d,]+ items\/s/);

    expect(await vectorCount('fvecs-points', key)).toBe(1500);
    const [first, last] = await storedItems('fvecs-points', key, ['p0', 'p1499']);
    expect(first!.vector).toEqual(Array.from(vectors[0]!));
    expect(last!.vector).toEqual(Array.from(vectors[1499]!));

    const checkpoint = JSON.parse(await readFile(`${path}.cipherdex-import.json`, 'utf8'));
    expect(checkpoint.indexes['fvecs-points']).toMatchObject({ complete: true, position: { record: 1500, byte: 1500 * 36 } });
    expect(JSON.stringify(checkpoint)).not.toContain(key);

    const again = await runCli(['import', path, '--index', 'fvecs-points', '--id-prefix', 'p'], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Nothing to do: all 1,500 records');
    expect(await vectorCount('fvecs-points', key)).toBe(1500);
  });

  it('loads JSON Lines with contents and metadata into a cosine index', async () => {
    const vectors = clusteredVectors(120, 6, 3, 12);
    const path = join(server.workDir, 'docs.jsonl');
    const lines = vectors.map((vector, i) =>
      JSON.stringify({ id: `doc-${i}`, vector: Array.from(vector), contents: `document ${i}`, metadata: { group: i % 3 } }),
    );
    await writeFile(path, `${lines.join('\n')}\n`);
    const key = newIndexKey();
    const result = await runCli(['import', path, '--index', 'docs', '--metric', 'cosine', '--batch-size', '50', '--quiet'], cliEnv(server, { CIPHERDEX_INDEX_KEY: key }));
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('metric COSINE');
    expect(result.stderr).not.toContain('items/s');
    expect(await vectorCount('docs', key)).toBe(120);
    const [item] = await storedItems('docs', key, ['doc-7']);
    expect(item).toMatchObject({ contents: 'document 7', metadata: { group: 1 } });
  });

  it('loads a float32 .npy file', async () => {
    const vectors = clusteredVectors(300, 4, 3, 13);
    const path = join(server.workDir, 'rows.npy');
    await writeNpy(path, vectors);
    const key = newIndexKey();
    const result = await runCli(['import', path, '--index', 'npy-rows', '--id-prefix', 'row-'], cliEnv(server, { CIPHERDEX_INDEX_KEY: key }));
    expect(result.code).toBe(0);
    expect(await vectorCount('npy-rows', key)).toBe(300);
    const [item] = await storedItems('npy-rows', key, ['row-299']);
    expect(item!.vector).toEqual(Array.from(vectors[299]!));
  });

  it('resumes after an interruption from the last acknowledged batch', async () => {
    const total = 6000;
    const vectors = clusteredVectors(total, 16, 8, 14);
    const path = join(server.workDir, 'big.fvecs');
    await writeFvecs(path, vectors);
    const checkpointPath = `${path}.cipherdex-import.json`;
    const key = newIndexKey();
    const env = cliEnv(server, { CIPHERDEX_INDEX_KEY: key });

    const child = spawnCli(['import', path, '--index', 'resumed', '--batch-size', '50'], env);
    const finished = collect(child);
    // Interrupt as soon as the first batches are acknowledged (the checkpoint records them).
    for (;;) {
      const text = await readFile(checkpointPath, 'utf8').catch(() => null);
      if (text !== null && JSON.parse(text).indexes.resumed?.position.record > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    child.kill('SIGINT');
    const interrupted = await finished;
    expect(interrupted.code).toBe(130);
    expect(interrupted.stderr).toMatch(/Interrupted after [\d,]+ records; rerun the same command to continue\./);

    const saved = JSON.parse(await readFile(checkpointPath, 'utf8')).indexes.resumed;
    expect(saved.complete).toBe(false);
    expect(saved.position.record % 50).toBe(0);
    expect(saved.position.record).toBeLessThan(total);
    // Everything acknowledged is stored; nothing past the batch that was in flight.
    const stored = await vectorCount('resumed', key);
    expect(stored).toBeGreaterThanOrEqual(saved.position.record);
    expect(stored).toBeLessThanOrEqual(saved.position.record + 50);

    const resumed = await runCli(['import', path, '--index', 'resumed', '--batch-size', '50'], env);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain(`Resuming at record ${saved.position.record.toLocaleString('en-US')}`);
    expect(resumed.stdout).toContain(`Imported ${(total - saved.position.record).toLocaleString('en-US')} records`);
    expect(await vectorCount('resumed', key)).toBe(total);
  });

  it('refuses a checkpoint written for a different version of the file, unless --restart', async () => {
    const path = join(server.workDir, 'changing.fvecs');
    const key = newIndexKey();
    const env = cliEnv(server, { CIPHERDEX_INDEX_KEY: key });
    await writeFvecs(path, clusteredVectors(10, 4, 2, 15));
    expect((await runCli(['import', path, '--index', 'changing'], env)).code).toBe(0);
    await writeFvecs(path, clusteredVectors(20, 4, 2, 16));
    const refused = await runCli(['import', path, '--index', 'changing'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('changed since');
    const restarted = await runCli(['import', path, '--index', 'changing', '--restart'], env);
    expect(restarted.code).toBe(0);
    expect(await vectorCount('changing', key)).toBe(20);
  });

  it('stops before sending anything when the file and the index disagree on dimension', async () => {
    const key = newIndexKey();
    await seedIndex(server, 'sixteen', key, clusteredVectors(5, 16, 1, 17));
    const path = join(server.workDir, 'eight.fvecs');
    await writeFvecs(path, clusteredVectors(10, 8, 2, 18));
    const result = await runCli(['import', path, '--index', 'sixteen'], cliEnv(server, { CIPHERDEX_INDEX_KEY: key }));
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('holds 8-dimensional vectors; index "sixteen" expects 16 (DIMENSION_MISMATCH)');
    expect(await vectorCount('sixteen', key)).toBe(5);
  });

  it('reports malformed input and missing files as usage errors', async () => {
    const env = cliEnv(server, { CIPHERDEX_INDEX_KEY: newIndexKey() });
    const bad = join(server.workDir, 'bad.jsonl');
    await writeFile(bad, '{"id": "a", "vector": [1, 2]}\n{"id": "b", "vector": [1, 2, 3]}\n');
    const mismatch = await runCli(['import', bad, '--index', 'bad-input'], env);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toContain('line 2: vector has dimension 3');

    const missing = await runCli(['import', join(server.workDir, 'nope.fvecs'), '--index', 'x'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read the file (ENOENT)');

    const noIndex = await runCli(['import', bad], env);
    expect(noIndex.code).toBe(1);
    expect(noIndex.stderr).toContain('--index is required');
  });
});

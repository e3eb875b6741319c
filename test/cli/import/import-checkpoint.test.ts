// The import checkpoint: per-index positions survive a reload, a changed input file or a damaged
// checkpoint is refused with a usage error, and --restart starts over.
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError, ExitCode } from '../../../src/cli/exit-codes.js';
import { ImportCheckpoint, checkpointPathFor } from '../../../src/cli/import/import-checkpoint.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cipherdex-checkpoint-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function input(name: string, content = 'data'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

describe('ImportCheckpoint', () => {
  it('starts empty and reloads what was saved, per index', async () => {
    const path = await input('a.fvecs');
    const fresh = await ImportCheckpoint.open(path, false);
    expect(fresh.progressOf('one')).toBeUndefined();
    await fresh.save('one', { record: 100, byte: 400 }, false);
    await fresh.save('two', { record: 7, byte: 28, line: 8 }, true);

    const reloaded = await ImportCheckpoint.open(path, false);
    expect(reloaded.progressOf('one')).toMatchObject({ position: { record: 100, byte: 400 }, complete: false });
    expect(reloaded.progressOf('two')).toMatchObject({ position: { record: 7, byte: 28, line: 8 }, complete: true });
    expect(checkpointPathFor(path)).toBe(`${path}.cipherdex-import.json`);
  });

  it('refuses a checkpoint of a different version of the input, and --restart discards it', async () => {
    const path = await input('b.fvecs');
    await (await ImportCheckpoint.open(path, false)).save('idx', { record: 1, byte: 4 }, false);
    await utimes(path, new Date(), new Date(Date.now() + 5000));
    const refused = await ImportCheckpoint.open(path, false).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(CliError);
    expect((refused as CliError).exitCode).toBe(ExitCode.USAGE);
    expect((refused as CliError).message).toContain('pass --restart');

    const restarted = await ImportCheckpoint.open(path, true);
    expect(restarted.progressOf('idx')).toBeUndefined();
    await restarted.save('idx', { record: 2, byte: 8 }, false);
    expect((await ImportCheckpoint.open(path, false)).progressOf('idx')?.position.record).toBe(2);
  });

  it('refuses a file that is not a checkpoint', async () => {
    const path = await input('c.fvecs');
    await writeFile(checkpointPathFor(path), '{"hello": "world"}');
    await expect(ImportCheckpoint.open(path, false)).rejects.toThrow(/is not a cipherdex import checkpoint/);
    await writeFile(checkpointPathFor(path), 'not json');
    await expect(ImportCheckpoint.open(path, false)).rejects.toThrow(/is not valid JSON/);
  });

  it('writes through a temporary file, leaving none behind', async () => {
    const path = await input('d.fvecs');
    await (await ImportCheckpoint.open(path, false)).save('idx', { record: 3, byte: 12 }, true);
    await expect(readFile(`${checkpointPathFor(path)}.tmp`)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(JSON.parse(await readFile(checkpointPathFor(path), 'utf8')).version).toBe(1);
  });
});

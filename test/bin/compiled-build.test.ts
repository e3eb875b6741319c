// The launcher's choice between dist/ and the source: a complete build as new as every source file
// stands in for it; an edit since, a missing build info or a missing module sends it to the source.
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compiledModule } from '../../bin/compiled-build.js';

describe('compiledModule', () => {
  let root: string;
  const at = (path: string, seconds: number) => utimes(join(root, path), seconds, seconds);

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'cipherdex-build-'));
    await mkdir(join(root, 'src/cli'), { recursive: true });
    await mkdir(join(root, 'dist/cli'), { recursive: true });
    await writeFile(join(root, 'src/cli/main.ts'), '');
    await writeFile(join(root, 'src/config.ts'), '');
    await writeFile(join(root, 'dist/cli/main.js'), '');
    await writeFile(join(root, 'dist/.build-complete'), '');
    await at('src/cli/main.ts', 1_000);
    await at('src/config.ts', 1_000);
    await at('dist/.build-complete', 2_000);
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('takes a build as new as every source file', () => {
    expect(compiledModule(root, 'cli/main')).toBe(join(root, 'dist/cli/main.js'));
  });

  it('falls back to the source when any source file, however deep, is newer than the build', async () => {
    await at('src/cli/main.ts', 3_000);
    expect(compiledModule(root, 'cli/main')).toBeNull();
    await at('src/cli/main.ts', 1_000);
    await at('src/config.ts', 3_000);
    expect(compiledModule(root, 'cli/main')).toBeNull();
  });

  it('ignores files that are not TypeScript source (the dashboard is served from src/ as is)', async () => {
    await writeFile(join(root, 'src/dashboard.js'), '');
    await at('src/dashboard.js', 3_000);
    expect(compiledModule(root, 'cli/main')).toBe(join(root, 'dist/cli/main.js'));
  });

  it('falls back without the mark of a complete build, or without the module itself', async () => {
    await rm(join(root, 'dist/cli/main.js'));
    expect(compiledModule(root, 'cli/main')).toBeNull();
    await writeFile(join(root, 'dist/cli/main.js'), '');
    await rm(join(root, 'dist/.build-complete'));
    expect(compiledModule(root, 'cli/main')).toBeNull();
  });
});

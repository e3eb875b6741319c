// Real file-system faults for tests, made with mount(8): a small tmpfs that fills up, and a
// read-only bind mount of a directory. Both need CAP_SYS_ADMIN (CI and this machine run as root);
// canMount() says whether they work here, so the tests can skip with a reason where they do not.

import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Mount {
  path: string;
  /** Unmounts and removes the mount point. */
  release(): Promise<void>;
}

async function mountPoint(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `cipherdex-${label}-`));
}

function releaser(path: string): () => Promise<void> {
  return async () => {
    await run('umount', [path]);
    await rm(path, { recursive: true, force: true });
  };
}

/** A tmpfs of `sizeBytes`: writes past it fail with ENOSPC, as on a full disk. */
export async function mountTmpfs(sizeBytes: number): Promise<Mount> {
  const path = await mountPoint('tmpfs');
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0700`, 'cipherdex-test', path]);
  } catch (error) {
    await rm(path, { recursive: true, force: true });
    throw error;
  }
  return { path, release: releaser(path) };
}

/** `source` seen read-only at a new path: writes there fail with EROFS, even for root. */
export async function mountReadOnly(source: string): Promise<Mount> {
  const path = await mountPoint('ro');
  try {
    await run('mount', ['--bind', source, path]);
  } catch (error) {
    await rm(path, { recursive: true, force: true });
    throw error;
  }
  try {
    await run('mount', ['-o', 'remount,bind,ro', path]);
  } catch (error) {
    await releaser(path)();
    throw error;
  }
  return { path, release: releaser(path) };
}

/** Null when mounting works here, else why not. */
export async function mountUnavailableReason(): Promise<string | null> {
  try {
    const probe = await mountTmpfs(1 << 20);
    await probe.release();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message.split('\n')[0] : String(error);
  }
}

// The sidecar file `<file>.cipherdex-import.json` that makes `cipherdex import` resumable: per
// index, the position after the last batch the server acknowledged. It never holds keys or data.

import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { usageError } from '../exit-codes.js';
import type { ReadPosition } from '../vector-files/vector-file.js';

export interface IndexProgress {
  position: ReadPosition;
  complete: boolean;
  updatedAt: string;
}

interface CheckpointFile {
  version: 1;
  /** Size and modification time of the input when the first batch was acknowledged. */
  source: { size: number; mtimeMs: number };
  indexes: Record<string, IndexProgress>;
}

export function checkpointPathFor(inputPath: string): string {
  return `${inputPath}.cipherdex-import.json`;
}

export class ImportCheckpoint {
  private constructor(
    readonly path: string,
    private data: CheckpointFile,
  ) {}

  /**
   * Loads the checkpoint of `inputPath`, or starts an empty one. A checkpoint written for a
   * different version of the file (size or mtime changed) would resume at a meaningless offset,
   * so it is refused unless `restart` discards it.
   */
  static async open(inputPath: string, restart: boolean): Promise<ImportCheckpoint> {
    const path = checkpointPathFor(inputPath);
    const info = await stat(inputPath);
    const source = { size: info.size, mtimeMs: info.mtimeMs };
    const fresh = new ImportCheckpoint(path, { version: 1, source, indexes: {} });
    if (restart) return fresh;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return fresh;
      throw error;
    }
    const data = parseCheckpoint(text, path);
    if (data.source.size !== source.size || data.source.mtimeMs !== source.mtimeMs) {
      throw usageError(`${inputPath} changed since ${path} was written; pass --restart to import it from the beginning`);
    }
    return new ImportCheckpoint(path, data);
  }

  progressOf(index: string): IndexProgress | undefined {
    return this.data.indexes[index];
  }

  /** Records an acknowledged position; written to a temporary file and renamed, so a crash leaves the old or the new checkpoint, never half of one. */
  async save(index: string, position: ReadPosition, complete: boolean): Promise<void> {
    this.data.indexes[index] = { position, complete, updatedAt: new Date().toISOString() };
    const temporary = `${this.path}.tmp`;
    await writeFile(temporary, `${JSON.stringify(this.data, null, 2)}\n`);
    await rename(temporary, this.path);
  }
}

function parseCheckpoint(text: string, path: string): CheckpointFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw usageError(`${path} is not valid JSON; delete it or pass --restart`);
  }
  const data = value as Partial<CheckpointFile> | null;
  const valid =
    data !== null &&
    typeof data === 'object' &&
    data.version === 1 &&
    typeof data.source?.size === 'number' &&
    typeof data.source.mtimeMs === 'number' &&
    typeof data.indexes === 'object' &&
    data.indexes !== null &&
    Object.values(data.indexes).every(
      (entry) => typeof entry?.position?.record === 'number' && typeof entry.position.byte === 'number' && typeof entry.complete === 'boolean',
    );
  if (!valid) throw usageError(`${path} is not a cipherdex import checkpoint; delete it or pass --restart`);
  return data as CheckpointFile;
}

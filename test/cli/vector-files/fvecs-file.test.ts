// .fvecs reader: row layout, ids from prefix + row number, batching and seeking, malformed files.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFvecsFile } from '../../../src/cli/vector-files/fvecs-file.js';
import { VectorFileError, type VectorFile, type VectorRecord } from '../../../src/cli/vector-files/vector-file.js';

/** Writes rows the way the TEXMEX tools do: int32 dimension, then float32 values, little-endian. */
function fvecs(rows: number[][]): Buffer {
  const parts = rows.map((row) => {
    const buffer = Buffer.alloc(4 + 4 * row.length);
    buffer.writeInt32LE(row.length, 0);
    row.forEach((value, i) => buffer.writeFloatLE(value, 4 + 4 * i));
    return buffer;
  });
  return Buffer.concat(parts);
}

async function readAll(file: VectorFile, batchSize: number, from = file.start): Promise<VectorRecord[][]> {
  const batches: VectorRecord[][] = [];
  for await (const batch of file.batches(from, batchSize)) batches.push(batch.records);
  return batches;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cipherdex-fvecs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('openFvecsFile', () => {
  const rows = Array.from({ length: 7 }, (_, r) => [r, r + 0.5, -r, r / 8]);

  it('reads every row in order, in batches, with ids from the prefix and row number', async () => {
    const path = join(dir, 'seven.fvecs');
    await writeFile(path, fvecs(rows));
    const file = await openFvecsFile(path, 'doc-');
    try {
      expect(file.dimension).toBe(4);
      expect(file.recordCount).toBe(7);
      const batches = await readAll(file, 3);
      expect(batches.map((batch) => batch.length)).toEqual([3, 3, 1]);
      const records = batches.flat();
      expect(records.map((record) => record.id)).toEqual(rows.map((_, r) => `doc-${r}`));
      expect(records.map((record) => Array.from(record.vector))).toEqual(rows);
    } finally {
      await file.close();
    }
  });

  it('resumes from a stored position without re-reading earlier rows', async () => {
    const path = join(dir, 'resume.fvecs');
    await writeFile(path, fvecs(rows));
    const file = await openFvecsFile(path, '');
    try {
      const first = await file.batches(file.start, 4).next();
      if (first.done) throw new Error('expected a batch');
      expect(first.value.next).toEqual({ record: 4, byte: 4 * 20 });
      const rest = (await readAll(file, 10, first.value.next)).flat();
      expect(rest.map((record) => record.id)).toEqual(['4', '5', '6']);
      expect(Array.from(rest[0]!.vector)).toEqual(rows[4]);
    } finally {
      await file.close();
    }
  });

  it('rejects a file whose size is not a whole number of records', async () => {
    const path = join(dir, 'truncated.fvecs');
    await writeFile(path, fvecs(rows).subarray(0, 50));
    await expect(openFvecsFile(path, '')).rejects.toThrow(/not a whole number of 20-byte records/);
  });

  it('rejects a row whose declared dimension differs from the first', async () => {
    const path = join(dir, 'mixed.fvecs');
    // Two 2-d rows (12 bytes each) then three 1-d rows (8 bytes each): 48 bytes, a whole number of
    // 12-byte records, so only reading row 2 can reveal the mismatch.
    await writeFile(path, Buffer.concat([fvecs([[1, 2], [3, 4]]), fvecs([[5], [6], [7]])]));
    const file = await openFvecsFile(path, '');
    try {
      await expect(readAll(file, 10)).rejects.toThrow(/row 2 declares dimension 1/);
    } finally {
      await file.close();
    }
  });

  it('rejects empty files and non-positive dimensions as usage errors', async () => {
    const empty = join(dir, 'empty.fvecs');
    await writeFile(empty, Buffer.alloc(0));
    await expect(openFvecsFile(empty, '')).rejects.toBeInstanceOf(VectorFileError);
    const zero = join(dir, 'zero.fvecs');
    await writeFile(zero, Buffer.alloc(8));
    await expect(openFvecsFile(zero, '')).rejects.toThrow(/declares dimension 0/);
  });
});

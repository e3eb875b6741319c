// Reader of .fvecs files (the TEXMEX/ANN-benchmark format): each record is an int32 dimension
// followed by that many little-endian float32 values. Rows have no ids, so ids come from a prefix
// and the row number.

import { open, type FileHandle } from 'node:fs/promises';
import { VectorFileError, float32FromLittleEndian, readExactly, type ReadPosition, type VectorBatch, type VectorFile } from './vector-file.js';

export async function openFvecsFile(path: string, idPrefix: string): Promise<VectorFile> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size === 0) throw new VectorFileError(path, 'the file is empty');
    const head = Buffer.alloc(4);
    await readExactly(handle, head, 0, path);
    const dimension = head.readInt32LE(0);
    if (dimension <= 0) throw new VectorFileError(path, `not an .fvecs file: the first record declares dimension ${dimension}`);
    const recordBytes = 4 + 4 * dimension;
    if (size % recordBytes !== 0) {
      throw new VectorFileError(
        path,
        `not an .fvecs file of dimension ${dimension}: its ${size} bytes are not a whole number of ${recordBytes}-byte records`,
      );
    }
    return new FvecsFile(path, handle, dimension, size, idPrefix);
  } catch (error) {
    await handle.close();
    throw error;
  }
}

class FvecsFile implements VectorFile {
  readonly format = 'fvecs';
  readonly start: ReadPosition = { record: 0, byte: 0 };
  readonly recordCount: number;
  private readonly recordBytes: number;

  constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly dimension: number,
    readonly byteLength: number,
    private readonly idPrefix: string,
  ) {
    this.recordBytes = 4 + 4 * dimension;
    this.recordCount = byteLength / this.recordBytes;
  }

  async *batches(from: ReadPosition, batchSize: number): AsyncGenerator<VectorBatch> {
    let record = from.record;
    while (record < this.recordCount) {
      const count = Math.min(batchSize, this.recordCount - record);
      const chunk = Buffer.alloc(count * this.recordBytes);
      await readExactly(this.handle, chunk, record * this.recordBytes, this.path);
      const records = [];
      for (let i = 0; i < count; i++) {
        const offset = i * this.recordBytes;
        const declared = chunk.readInt32LE(offset);
        if (declared !== this.dimension) {
          throw new VectorFileError(this.path, `row ${record + i} declares dimension ${declared}; the file's first row has ${this.dimension}`);
        }
        records.push({
          id: `${this.idPrefix}${record + i}`,
          vector: float32FromLittleEndian(chunk.subarray(offset + 4, offset + this.recordBytes)),
        });
      }
      record += count;
      yield { records, next: { record, byte: record * this.recordBytes } };
    }
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

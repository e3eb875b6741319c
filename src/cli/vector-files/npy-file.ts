// Reader of NumPy .npy files holding a 2-D float array (rows are vectors). The header is a small
// Python dict literal; only the three keys the format defines are read from it.

import { open, type FileHandle } from 'node:fs/promises';
import { VectorFileError, float32FromLittleEndian, readExactly, type ReadPosition, type VectorBatch, type VectorFile } from './vector-file.js';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

export interface NpyHeader {
  /** float32 rows are used as they are; float64 rows are narrowed to float32. */
  dtype: 'float32' | 'float64';
  rows: number;
  columns: number;
  /** Byte offset of the first value. */
  dataOffset: number;
}

/** Checks the magic and version and returns where the values start (the header's end). Needs 12 bytes. */
function npyDataOffset(buffer: Buffer, path: string): { major: number; headerStart: number; dataOffset: number } {
  if (buffer.byteLength < 10 || !buffer.subarray(0, 6).equals(MAGIC)) throw new VectorFileError(path, 'not an .npy file (bad magic bytes)');
  const major = buffer[6];
  if (major !== 1 && major !== 2 && major !== 3) throw new VectorFileError(path, `unsupported .npy format version ${major}`);
  if (major !== 1 && buffer.byteLength < 12) throw new VectorFileError(path, 'truncated .npy header');
  const headerStart = major === 1 ? 10 : 12;
  const headerLength = major === 1 ? buffer.readUInt16LE(8) : buffer.readUInt32LE(8);
  return { major, headerStart, dataOffset: headerStart + headerLength };
}

/** Parses the preamble of an .npy file (versions 1, 2 and 3). `bytes` must cover the whole header. */
export function parseNpyHeader(bytes: Uint8Array, path: string): NpyHeader {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { major, headerStart, dataOffset } = npyDataOffset(buffer, path);
  if (buffer.byteLength < dataOffset) throw new VectorFileError(path, 'truncated .npy header');
  const header = buffer.subarray(headerStart, dataOffset).toString(major === 3 ? 'utf8' : 'latin1');

  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new VectorFileError(path, `malformed .npy header: ${header.trim()}`);
  }
  // '<' is little-endian; '=' is native, which is little-endian on every platform Node supports here.
  const dtype = descr === '<f4' || descr === '=f4' ? 'float32' : descr === '<f8' || descr === '=f8' ? 'float64' : null;
  if (dtype === null) throw new VectorFileError(path, `unsupported dtype '${descr}': expected little-endian float32 ('<f4') or float64 ('<f8')`);
  if (fortran === 'True') throw new VectorFileError(path, 'column-major (fortran_order) arrays are not supported: save with np.ascontiguousarray');
  const shape = shapeText
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map(Number);
  if (shape.length !== 2 || !shape.every((n) => Number.isInteger(n) && n >= 0)) {
    throw new VectorFileError(path, `expected a 2-D array (rows x dimension), got shape (${shapeText.trim()})`);
  }
  const [rows, columns] = shape as [number, number];
  if (columns === 0) throw new VectorFileError(path, 'the array has dimension 0');
  return { dtype, rows, columns, dataOffset };
}

export async function openNpyFile(path: string, idPrefix: string): Promise<VectorFile> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const preamble = Buffer.alloc(Math.min(size, 12));
    await readExactly(handle, preamble, 0, path);
    const headerBytes = Buffer.alloc(npyDataOffset(preamble, path).dataOffset);
    await readExactly(handle, headerBytes, 0, path);
    const header = parseNpyHeader(headerBytes, path);
    const itemBytes = header.dtype === 'float32' ? 4 : 8;
    const expected = header.dataOffset + header.rows * header.columns * itemBytes;
    if (size < expected) throw new VectorFileError(path, `truncated: the header promises ${header.rows} x ${header.columns} values (${expected} bytes), the file has ${size}`);
    return new NpyFile(path, handle, header, size, idPrefix);
  } catch (error) {
    await handle.close();
    throw error;
  }
}

class NpyFile implements VectorFile {
  readonly format = 'npy';
  readonly dimension: number;
  readonly recordCount: number;
  readonly start: ReadPosition;
  private readonly rowBytes: number;

  constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly header: NpyHeader,
    readonly byteLength: number,
    private readonly idPrefix: string,
  ) {
    this.dimension = header.columns;
    this.recordCount = header.rows;
    this.rowBytes = header.columns * (header.dtype === 'float32' ? 4 : 8);
    this.start = { record: 0, byte: header.dataOffset };
  }

  async *batches(from: ReadPosition, batchSize: number): AsyncGenerator<VectorBatch> {
    let record = from.record;
    while (record < this.recordCount) {
      const count = Math.min(batchSize, this.recordCount - record);
      const chunk = Buffer.alloc(count * this.rowBytes);
      await readExactly(this.handle, chunk, this.header.dataOffset + record * this.rowBytes, this.path);
      const records = [];
      for (let i = 0; i < count; i++) {
        const row = chunk.subarray(i * this.rowBytes, (i + 1) * this.rowBytes);
        records.push({ id: `${this.idPrefix}${record + i}`, vector: this.decode(row) });
      }
      record += count;
      yield { records, next: { record, byte: this.header.dataOffset + record * this.rowBytes } };
    }
  }

  private decode(row: Buffer): Float32Array {
    if (this.header.dtype === 'float32') return float32FromLittleEndian(row);
    const vector = new Float32Array(this.dimension);
    for (let i = 0; i < vector.length; i++) vector[i] = row.readDoubleLE(i * 8);
    return vector;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

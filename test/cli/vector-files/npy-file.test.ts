// .npy reader: headers of versions 1 and 2 as NumPy writes them, float32 and float64 rows, bad files.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openNpyFile, parseNpyHeader } from '../../../src/cli/vector-files/npy-file.js';
import type { VectorFile, VectorRecord } from '../../../src/cli/vector-files/vector-file.js';

// Written by numpy 2.4 (np.save / numpy.lib.format.write_array) and kept byte for byte:
// np.arange(12, dtype='<f4').reshape(3, 4) / 4
const F4_V1 =
  'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsIDQpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAACAPgAAAD8AAEA/AACAPwAAoD8AAMA/AADgPwAAAEAAABBAAAAgQAAAMEA=';
// np.array([[1.5, -2.25], [3.0, 0.125]], dtype='<f8')
const F8_V1 =
  'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDIpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAD4PwAAAAAAAALAAAAAAAAACEAAAAAAAADAPw==';
// np.arange(6, dtype='<f4').reshape(2, 3), format version 2.0
const F4_V2 =
  'k05VTVBZAgB0AAAAeydkZXNjcic6ICc8ZjQnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAACAPwAAAEAAAEBAAACAQAAAoEA=';

/** A version 1 file with the given header dict, padded as the format requires. */
function npyV1(dict: string, data: Buffer = Buffer.alloc(0)): Buffer {
  let header = `${dict} `;
  while ((10 + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const preamble = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(preamble);
  preamble.writeUInt16LE(header.length, 8);
  return Buffer.concat([preamble, Buffer.from(header, 'latin1'), data]);
}

async function readAll(file: VectorFile, batchSize: number): Promise<VectorRecord[]> {
  const records: VectorRecord[] = [];
  for await (const batch of file.batches(file.start, batchSize)) records.push(...batch.records);
  return records;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cipherdex-npy-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function open(name: string, bytes: Buffer, prefix = ''): Promise<VectorFile> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return openNpyFile(path, prefix);
}

describe('parseNpyHeader', () => {
  it('reads dtype, shape and data offset of a version 1 header', () => {
    expect(parseNpyHeader(Buffer.from(F4_V1, 'base64'), 'x.npy')).toEqual({ dtype: 'float32', rows: 3, columns: 4, dataOffset: 128 });
  });

  it('reads a version 2 header (32-bit header length)', () => {
    expect(parseNpyHeader(Buffer.from(F4_V2, 'base64'), 'x.npy')).toEqual({ dtype: 'float32', rows: 2, columns: 3, dataOffset: 128 });
  });

  it('rejects what it cannot read faithfully, saying why', () => {
    expect(() => parseNpyHeader(Buffer.from('not numpy at all'), 'x.npy')).toThrow(/bad magic/);
    expect(() => parseNpyHeader(npyV1("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }"), 'x.npy')).toThrow(/unsupported dtype '>f4'/);
    expect(() => parseNpyHeader(npyV1("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }"), 'x.npy')).toThrow(/unsupported dtype/);
    expect(() => parseNpyHeader(npyV1("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }"), 'x.npy')).toThrow(/fortran_order/);
    expect(() => parseNpyHeader(npyV1("{'descr': '<f4', 'fortran_order': False, 'shape': (8,), }"), 'x.npy')).toThrow(/2-D array/);
    expect(() => parseNpyHeader(npyV1("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 2), }"), 'x.npy')).toThrow(/2-D array/);
  });
});

describe('openNpyFile', () => {
  it('yields float32 rows with ids from the prefix and row number', async () => {
    const file = await open('f4.npy', Buffer.from(F4_V1, 'base64'), 'row-');
    try {
      expect(file.dimension).toBe(4);
      expect(file.recordCount).toBe(3);
      const records = await readAll(file, 2);
      expect(records.map((record) => record.id)).toEqual(['row-0', 'row-1', 'row-2']);
      expect(records.map((record) => Array.from(record.vector))).toEqual([
        [0, 0.25, 0.5, 0.75],
        [1, 1.25, 1.5, 1.75],
        [2, 2.25, 2.5, 2.75],
      ]);
    } finally {
      await file.close();
    }
  });

  it('narrows float64 rows to float32', async () => {
    const file = await open('f8.npy', Buffer.from(F8_V1, 'base64'));
    try {
      const records = await readAll(file, 10);
      expect(records.map((record) => Array.from(record.vector))).toEqual([
        [1.5, -2.25],
        [3, 0.125],
      ]);
    } finally {
      await file.close();
    }
  });

  it('resumes from the position of a later batch', async () => {
    const file = await open('v2.npy', Buffer.from(F4_V2, 'base64'));
    try {
      const first = await file.batches(file.start, 1).next();
      if (first.done) throw new Error('expected a batch');
      const rest: VectorRecord[] = [];
      for await (const batch of file.batches(first.value.next, 5)) rest.push(...batch.records);
      expect(rest.map((record) => [record.id, Array.from(record.vector)])).toEqual([['1', [3, 4, 5]]]);
    } finally {
      await file.close();
    }
  });

  it('rejects a file shorter than its header promises', async () => {
    const bytes = Buffer.from(F4_V1, 'base64');
    await expect(open('short.npy', bytes.subarray(0, bytes.length - 4))).rejects.toThrow(/truncated/);
  });
});

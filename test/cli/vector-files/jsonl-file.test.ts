// JSON Lines reader: record shapes, base64 vectors, exact byte positions for resuming, bad lines.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openJsonlFile, parseJsonlRecord } from '../../../src/cli/vector-files/jsonl-file.js';
import type { VectorFile, VectorRecord } from '../../../src/cli/vector-files/vector-file.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cipherdex-jsonl-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function open(name: string, text: string): Promise<VectorFile> {
  const path = join(dir, name);
  await writeFile(path, text);
  return openJsonlFile(path);
}

async function readAll(file: VectorFile, batchSize: number, from = file.start): Promise<VectorRecord[]> {
  const records: VectorRecord[] = [];
  for await (const batch of file.batches(from, batchSize)) records.push(...batch.records);
  return records;
}

describe('parseJsonlRecord', () => {
  it('accepts ids as strings or integers, vectors as lists or base64 float32', () => {
    const base64 = Buffer.from(new Float32Array([0.5, -1]).buffer).toString('base64');
    const record = parseJsonlRecord(JSON.stringify({ id: 7, vector: base64, contents: 'hi', metadata: { a: 1 } }), 'line 1', 'f');
    expect(record.id).toBe('7');
    expect(Array.from(record.vector)).toEqual([0.5, -1]);
    expect(record.contents).toBe('hi');
    expect(record.metadata).toEqual({ a: 1 });
  });

  it('names the line and the problem', () => {
    expect(() => parseJsonlRecord('{"id": "a", "vector": [1, 2', 'line 3', 'f.jsonl')).toThrow(/f\.jsonl: line 3: invalid JSON/);
    expect(() => parseJsonlRecord('[1, 2]', 'line 1', 'f')).toThrow(/expected a JSON object/);
    expect(() => parseJsonlRecord('{"vector": [1]}', 'line 1', 'f')).toThrow(/"id" must be/);
    expect(() => parseJsonlRecord('{"id": "a", "vector": []}', 'line 1', 'f')).toThrow(/non-empty list/);
    expect(() => parseJsonlRecord('{"id": "a", "vector": [1, "x"]}', 'line 1', 'f')).toThrow(/"vector"\[1\]/);
    expect(() => parseJsonlRecord('{"id": "a", "vector": [1], "meta": {}}', 'line 1', 'f')).toThrow(/unknown field "meta"/);
    expect(() => parseJsonlRecord('{"id": "a", "vector": [1], "metadata": [1]}', 'line 1', 'f')).toThrow(/"metadata" must be a JSON object/);
    expect(() => parseJsonlRecord('{"id": "a", "vector": [1], "contents": 5}', 'line 1', 'f')).toThrow(/"contents" must be a string/);
  });
});

describe('openJsonlFile', () => {
  const lines = [
    { id: 'a', vector: [1, 2], contents: 'first', metadata: { tag: 'x' } },
    { id: 'b', vector: [3, 4] },
    { id: 'c', vector: [5, 6], contents: 'é — multi-byte text' },
    { id: 'd', vector: [7, 8] },
  ];
  // Blank lines and CRLF endings are common in hand-made files.
  const text = `${JSON.stringify(lines[0])}\r\n\n${lines.slice(1).map((line) => JSON.stringify(line)).join('\n')}`;

  it('takes the dimension from the first record and reads every record, without a final newline', async () => {
    const file = await open('four.jsonl', text);
    try {
      expect(file.dimension).toBe(2);
      expect(file.recordCount).toBeNull();
      const records = await readAll(file, 3);
      expect(records.map((record) => record.id)).toEqual(['a', 'b', 'c', 'd']);
      expect(records[0]).toMatchObject({ contents: 'first', metadata: { tag: 'x' } });
      expect(records[2]!.contents).toBe('é — multi-byte text');
      expect(records.map((record) => Array.from(record.vector))).toEqual(lines.map((line) => line.vector));
    } finally {
      await file.close();
    }
  });

  it('reports positions that a later read resumes from exactly', async () => {
    const file = await open('resume.jsonl', text);
    try {
      const positions = [];
      for await (const batch of file.batches(file.start, 2)) positions.push(batch.next);
      expect(positions.map((position) => position.record)).toEqual([2, 4]);
      const rest = await readAll(file, 10, positions[0]);
      expect(rest.map((record) => record.id)).toEqual(['c', 'd']);
      expect(positions[1]!.byte).toBe(Buffer.byteLength(text));
    } finally {
      await file.close();
    }
  });

  it('rejects a record whose dimension differs from the first, naming its line', async () => {
    const file = await open('mixed.jsonl', `${JSON.stringify(lines[0])}\n\n{"id": "z", "vector": [1, 2, 3]}\n`);
    try {
      await expect(readAll(file, 10)).rejects.toThrow(/line 3: vector has dimension 3; the first record has 2/);
    } finally {
      await file.close();
    }
  });

  it('handles lines longer than one read chunk', async () => {
    const long = { id: 'long', vector: Array.from({ length: 100_000 }, (_, i) => i / 3) };
    const file = await open('long.jsonl', `${JSON.stringify(long)}\n${JSON.stringify({ ...long, id: 'long2' })}\n`);
    try {
      const records = await readAll(file, 10);
      expect(records.map((record) => record.id)).toEqual(['long', 'long2']);
      expect(records[1]!.vector[99_999]).toBeCloseTo(99_999 / 3, 1);
    } finally {
      await file.close();
    }
  });

  it('rejects a file with no records', async () => {
    await expect(open('empty.jsonl', '\n\n')).rejects.toThrow(/no records/);
  });
});

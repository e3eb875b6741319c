// Reader of JSON Lines input: one {"id", "vector", "contents"?, "metadata"?} object per line.
// Lines are split on raw bytes so every record's byte offset is exact and a resume can seek to it.

import { open, type FileHandle } from 'node:fs/promises';
import type { JsonObject } from '../../service/index.js';
import { VectorFileError, float32FromLittleEndian, type ReadPosition, type VectorBatch, type VectorFile, type VectorRecord } from './vector-file.js';

const CHUNK_BYTES = 1 << 20;
const FIELDS = new Set(['id', 'vector', 'contents', 'metadata']);

/** One line of a JSON Lines file: its 1-based number, its text, and the byte after its newline. */
interface Line {
  number: number;
  text: string;
  end: number;
}

/** Parses and checks one JSON Lines record; `where` names it in error messages. */
export function parseJsonlRecord(text: string, where: string, path: string): VectorRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new VectorFileError(path, `${where}: invalid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new VectorFileError(path, `${where}: expected a JSON object`);
  const fields = value as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((key) => !FIELDS.has(key));
  if (unknown.length > 0) throw new VectorFileError(path, `${where}: unknown field "${unknown[0]}" (allowed: id, vector, contents, metadata)`);

  const { id, vector, contents, metadata } = fields;
  if (!(typeof id === 'string' && id !== '') && !(typeof id === 'number' && Number.isSafeInteger(id))) {
    throw new VectorFileError(path, `${where}: "id" must be a non-empty string or an integer`);
  }
  if (contents !== undefined && contents !== null && typeof contents !== 'string') throw new VectorFileError(path, `${where}: "contents" must be a string`);
  if (metadata !== undefined && metadata !== null && (typeof metadata !== 'object' || Array.isArray(metadata))) {
    throw new VectorFileError(path, `${where}: "metadata" must be a JSON object`);
  }
  const record: VectorRecord = { id: String(id), vector: parseVector(vector, where, path) };
  if (contents !== undefined) record.contents = contents;
  if (metadata !== undefined) record.metadata = metadata as JsonObject | null;
  return record;
}

/** A vector is a list of numbers, or (as in the API) a base64 string of little-endian float32. */
function parseVector(value: unknown, where: string, path: string): Float32Array {
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'base64');
    if (bytes.byteLength === 0 || bytes.byteLength % 4 !== 0) throw new VectorFileError(path, `${where}: "vector" is not base64 of float32 values`);
    return float32FromLittleEndian(bytes);
  }
  if (!Array.isArray(value) || value.length === 0) throw new VectorFileError(path, `${where}: "vector" must be a non-empty list of numbers`);
  const vector = new Float32Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const component: unknown = value[i];
    if (typeof component !== 'number' || !Number.isFinite(component)) throw new VectorFileError(path, `${where}: "vector"[${i}] is not a finite number`);
    vector[i] = component;
  }
  return vector;
}

export async function openJsonlFile(path: string): Promise<VectorFile> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const file = new JsonlFile(path, handle, size);
    await file.init();
    return file;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

class JsonlFile implements VectorFile {
  readonly format = 'jsonl';
  readonly recordCount = null;
  readonly start: ReadPosition = { record: 0, byte: 0, line: 1 };
  dimension = 0;

  constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly byteLength: number,
  ) {}

  /** The dimension is that of the first record; every later record must match it. */
  async init(): Promise<void> {
    for await (const line of this.lines(this.start)) {
      if (line.text.trim() === '') continue;
      this.dimension = parseJsonlRecord(line.text, `line ${line.number}`, this.path).vector.length;
      return;
    }
    throw new VectorFileError(this.path, 'no records: the file is empty');
  }

  async *batches(from: ReadPosition, batchSize: number): AsyncGenerator<VectorBatch> {
    let records: VectorRecord[] = [];
    let record = from.record;
    let last: Line | null = null;
    for await (const line of this.lines(from)) {
      last = line;
      if (line.text.trim() === '') continue;
      const parsed = parseJsonlRecord(line.text, `line ${line.number}`, this.path);
      if (parsed.vector.length !== this.dimension) {
        throw new VectorFileError(this.path, `line ${line.number}: vector has dimension ${parsed.vector.length}; the first record has ${this.dimension}`);
      }
      records.push(parsed);
      record++;
      if (records.length === batchSize) {
        yield { records, next: { record, byte: line.end, line: line.number + 1 } };
        records = [];
      }
    }
    if (records.length > 0 && last !== null) yield { records, next: { record, byte: last.end, line: last.number + 1 } };
  }

  private async *lines(from: ReadPosition): AsyncGenerator<Line> {
    const chunk = Buffer.alloc(CHUNK_BYTES);
    let position = from.byte;
    let number = from.line ?? 1;
    let pending: Buffer[] = [];
    for (;;) {
      const { bytesRead } = await this.handle.read(chunk, 0, CHUNK_BYTES, position);
      if (bytesRead === 0) break;
      let start = 0;
      for (let newline = chunk.indexOf(0x0a, 0); newline !== -1 && newline < bytesRead; newline = chunk.indexOf(0x0a, start)) {
        pending.push(chunk.subarray(start, newline));
        yield { number, text: Buffer.concat(pending).toString('utf8'), end: position + newline + 1 };
        number++;
        pending = [];
        start = newline + 1;
      }
      // Copy the unfinished tail: the chunk buffer is overwritten by the next read.
      if (start < bytesRead) pending.push(Buffer.from(chunk.subarray(start, bytesRead)));
      position += bytesRead;
    }
    if (pending.length > 0) {
      const text = Buffer.concat(pending).toString('utf8');
      if (text.trim() !== '') yield { number, text, end: position };
    }
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

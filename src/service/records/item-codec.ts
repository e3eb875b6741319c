// The plaintext layout of one item before it is sealed: a small binary header, the vector as raw
// little-endian float32 (no text round trip, exact bits), then id, contents and metadata JSON.
//
//   u8 format | u8 flags | u16 zero | u32 revision | u32 dimension | u32 id bytes |
//   u32 contents bytes | u32 metadata bytes | f32 x dimension | id utf-8 | contents utf-8 |
//   metadata JSON utf-8
//
// flags: bit 0 = contents present, bit 1 = metadata present (absent fields decode as null).
// revision: random per write, so a stored training model can tell whether the item it assigned
// to a list is still the same write (a replaced item gets a new revision and is placed afresh).

import { endianness } from 'node:os';
import type { JsonObject } from '../types.js';

const FORMAT = 1;
const HEADER_BYTES = 24;
const HAS_CONTENTS = 1;
const HAS_METADATA = 2;

// Vectors are copied as the machine's float32 bytes; the format is little-endian, as is every
// platform Node supports today. Refuse to run anywhere else rather than write wrong bytes.
if (endianness() !== 'LE') throw new Error('Cipherdex item records require a little-endian platform.');

export interface EncodableItem {
  id: string;
  vector: Float32Array;
  contents: string | null;
  /** Already serialized (validation measures its size), or null. */
  metadataJson: string | null;
}

export interface DecodedItem {
  id: string;
  revision: number;
  vector: Float32Array;
  contents: string | null;
  metadata: JsonObject | null;
}

/** Thrown when authenticated plaintext does not parse: a bug or a format from a newer version. */
export class ItemFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ItemFormatError';
  }
}

export function encodeItem(item: EncodableItem, revision: number): Buffer {
  const dimension = item.vector.length;
  const idBytes = Buffer.byteLength(item.id, 'utf8');
  const contentsBytes = item.contents === null ? 0 : Buffer.byteLength(item.contents, 'utf8');
  const metadataBytes = item.metadataJson === null ? 0 : Buffer.byteLength(item.metadataJson, 'utf8');
  const vectorBytes = dimension * 4;
  const out = Buffer.allocUnsafe(HEADER_BYTES + vectorBytes + idBytes + contentsBytes + metadataBytes);
  out.writeUInt8(FORMAT, 0);
  out.writeUInt8((item.contents === null ? 0 : HAS_CONTENTS) | (item.metadataJson === null ? 0 : HAS_METADATA), 1);
  out.writeUInt16LE(0, 2);
  out.writeUInt32LE(revision, 4);
  out.writeUInt32LE(dimension, 8);
  out.writeUInt32LE(idBytes, 12);
  out.writeUInt32LE(contentsBytes, 16);
  out.writeUInt32LE(metadataBytes, 20);
  let offset = HEADER_BYTES;
  out.set(new Uint8Array(item.vector.buffer, item.vector.byteOffset, vectorBytes), offset);
  offset += vectorBytes;
  offset += out.write(item.id, offset, 'utf8');
  if (item.contents !== null) offset += out.write(item.contents, offset, 'utf8');
  if (item.metadataJson !== null) out.write(item.metadataJson, offset, 'utf8');
  return out;
}

export function decodeItem(bytes: Buffer): DecodedItem {
  if (bytes.length < HEADER_BYTES || bytes.readUInt8(0) !== FORMAT) throw new ItemFormatError('unknown item record format');
  const flags = bytes.readUInt8(1);
  const revision = bytes.readUInt32LE(4);
  const dimension = bytes.readUInt32LE(8);
  const idBytes = bytes.readUInt32LE(12);
  const contentsBytes = bytes.readUInt32LE(16);
  const metadataBytes = bytes.readUInt32LE(20);
  const vectorBytes = dimension * 4;
  if (bytes.length !== HEADER_BYTES + vectorBytes + idBytes + contentsBytes + metadataBytes) {
    throw new ItemFormatError('item record length does not match its header');
  }
  // Copy into a fresh, aligned buffer: the decrypted bytes may sit at any offset of a pooled buffer.
  const vector = new Float32Array(dimension);
  new Uint8Array(vector.buffer).set(bytes.subarray(HEADER_BYTES, HEADER_BYTES + vectorBytes));
  let offset = HEADER_BYTES + vectorBytes;
  const id = bytes.toString('utf8', offset, offset + idBytes);
  offset += idBytes;
  const contents = flags & HAS_CONTENTS ? bytes.toString('utf8', offset, offset + contentsBytes) : null;
  offset += contentsBytes;
  const metadata = flags & HAS_METADATA ? (JSON.parse(bytes.toString('utf8', offset, offset + metadataBytes)) as JsonObject) : null;
  return { id, revision, vector, contents, metadata };
}

// The plaintext layout of one item before it is sealed: a small binary header, the vector as raw
// little-endian float32 (no text round trip, exact bits), then id, contents and metadata JSON.
//
//   u8 format | u8 flags | u16 zero | u32 revision | u32 dimension | u32 id bytes |
//   u32 contents bytes | u32 metadata bytes | f32 x dimension | id utf-8 | contents utf-8 |
//   metadata JSON utf-8
//
// flags: bit 0 = contents present, bit 1 = metadata present (absent fields decode as null),
// bit 2 = zero bytes follow the metadata, up to a size bucket (record padding: the store then sees
// the sealed record's length rounded up, not the exact lengths of contents and metadata).
// revision: random per write, so a stored training model can tell whether the item it assigned
// to a list is still the same write (a replaced item gets a new revision and is placed afresh).

import { endianness } from 'node:os';
import { NONCE_BYTES, TAG_BYTES } from '../../crypto/aes-gcm.js';
import type { JsonObject } from '../types.js';

const FORMAT = 1;
const HEADER_BYTES = 24;
const HAS_CONTENTS = 1;
const HAS_METADATA = 2;
const PADDED = 4;
/** What sealing adds to a record (nonce and tag), so padding can round the sealed length itself. */
const SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES;
/** The bucket CIPHERDEX_PAD_RECORDS rounds sealed item records up to. */
export const RECORD_BUCKET_BYTES = 64;

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

/** `bucket` > 0 pads the plaintext so that the sealed record is a whole number of buckets long. */
export function encodeItem(item: EncodableItem, revision: number, bucket = 0): Buffer {
  const dimension = item.vector.length;
  const idBytes = Buffer.byteLength(item.id, 'utf8');
  const contentsBytes = item.contents === null ? 0 : Buffer.byteLength(item.contents, 'utf8');
  const metadataBytes = item.metadataJson === null ? 0 : Buffer.byteLength(item.metadataJson, 'utf8');
  const vectorBytes = dimension * 4;
  const exact = HEADER_BYTES + vectorBytes + idBytes + contentsBytes + metadataBytes;
  const padded = bucket > 0 ? Math.ceil((exact + SEAL_OVERHEAD) / bucket) * bucket - SEAL_OVERHEAD : exact;
  const out = Buffer.allocUnsafe(padded);
  if (padded > exact) out.fill(0, exact);
  out.writeUInt8(FORMAT, 0);
  out.writeUInt8((item.contents === null ? 0 : HAS_CONTENTS) | (item.metadataJson === null ? 0 : HAS_METADATA) | (bucket > 0 ? PADDED : 0), 1);
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
  const exact = HEADER_BYTES + vectorBytes + idBytes + contentsBytes + metadataBytes;
  if (flags & PADDED ? bytes.length < exact : bytes.length !== exact) {
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

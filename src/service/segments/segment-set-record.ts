// A sealed segment set: an index snapshot (index-snapshot.ts) as a manifest and data segments, each
// AES-256-GCM under the index's sealing key with associated data naming the index, the set's random
// id and the segment's number (records/associated-data.ts). A segment altered, moved to another
// position, index or set, fails to open; the manifest (segment 0) counts the data segments and
// the stream's bytes, so one dropped or added at the end is caught too. The manifest also binds
// the seal tag of the stored model the lists were built with: a set is only used with that model.
//
// Manifest plaintext (64 bytes, format 1; 96 bytes, format 2):
//   u8 format | 3 zero bytes | u32 data segments | u64 stream bytes | u64 items |
//   u64 commitment counter at the snapshot | 16-byte model seal tag | 16-byte set id |
//   format 2 only: 32-byte digest of the text analysis (text/term-index-state.ts)
//
// Format 2 is a set whose stream also carries the term index of an index with text search; sets
// of indexes without it stay format 1, byte for byte as before. Code from before format 2 never
// reads a set for an index with text search, so it never meets one.

import { randomBytes } from 'node:crypto';
import { SealIntegrityError, type IndexCipher } from '../../crypto/index.js';
import { IntegrityError } from '../errors.js';
import { segmentAad } from '../records/associated-data.js';
import { ChunkFormatError, ChunkReader, ChunkWriter, SEGMENT_BYTES } from './segment-chunks.js';
import { readSnapshot, streamSnapshot, writeSnapshotInSteps, type IndexSnapshot, type ListDestination, type StreamedSnapshot } from './index-snapshot.js';

const FORMAT = 1;
const FORMAT_WITH_TEXT = 2;
const MANIFEST_BYTES = 64;
const TEXT_DIGEST_BYTES = 32;
export const SET_ID_BYTES = 16;

export interface SegmentManifest {
  /** Data segments after the manifest. */
  segments: number;
  streamBytes: number;
  items: number;
  /** The commitment counter memory had when the snapshot was taken (how far behind the store a set is). */
  commitmentSeq: number;
  /** The GCM tag of the sealed model record the snapshot's lists belong to. */
  modelTag: Buffer;
  /** For a set carrying a term index, the digest of the analysis that made it; else null. */
  textDigest: Buffer | null;
}

/** What a set records beside its snapshot (textDigest: null exactly when the snapshot has no term index). */
export interface SegmentSetMeta {
  commitmentSeq: number;
  modelTag: Buffer;
  textDigest: Buffer | null;
}

export interface SealedSegmentSet {
  setId: Buffer;
  /** The manifest, then the data segments. */
  segments: Buffer[];
}

/** A set written but not yet sealed: its id, its manifest plaintext and the stream's chunks (to seal as segments 1..). */
export interface EncodedSegmentSet {
  setId: Buffer;
  manifest: Buffer;
  chunks: Buffer[];
}

/**
 * Writes `snapshot` as a new set's stream and manifest, yielding to the event loop every megabyte
 * or so (the snapshot is a copy: nothing can change it meanwhile).
 */
export async function encodeSegmentSet(snapshot: IndexSnapshot, meta: SegmentSetMeta, segmentBytes = SEGMENT_BYTES): Promise<EncodedSegmentSet> {
  if ((snapshot.text === null) !== (meta.textDigest === null)) throw new Error('encodeSegmentSet: a term index needs its analysis digest, and only it');
  const writer = new ChunkWriter(segmentBytes);
  const steps = writeSnapshotInSteps(writer, snapshot);
  while (steps.next().done !== true) await new Promise<void>((resolve) => setImmediate(resolve));
  const streamBytes = writer.length;
  const chunks = writer.finish();
  const setId = randomBytes(SET_ID_BYTES);
  const manifest = Buffer.alloc(meta.textDigest === null ? MANIFEST_BYTES : MANIFEST_BYTES + TEXT_DIGEST_BYTES);
  manifest.writeUInt8(meta.textDigest === null ? FORMAT : FORMAT_WITH_TEXT, 0);
  manifest.writeUInt32LE(chunks.length, 4);
  manifest.writeBigUInt64LE(BigInt(streamBytes), 8);
  manifest.writeBigUInt64LE(BigInt(snapshot.items.length), 16);
  manifest.writeBigUInt64LE(BigInt(meta.commitmentSeq), 24);
  meta.modelTag.copy(manifest, 32);
  setId.copy(manifest, 48);
  meta.textDigest?.copy(manifest, MANIFEST_BYTES);
  return { setId, manifest, chunks };
}

/** Segment `segment` of set `setId` (0 the manifest, 1.. the chunks), sealed; the same on the main thread and in a sealing worker. */
export function sealSegment(cipher: IndexCipher, index: string, setId: Buffer, segment: number, plaintext: Uint8Array): Buffer {
  return cipher.seal(plaintext, segmentAad(index, setId, segment));
}

/**
 * Seals `snapshot` as a new set with a fresh id on the calling thread; sealing yields to the event
 * loop between segments so searches go on meanwhile.
 */
export async function sealSegmentSet(
  cipher: IndexCipher,
  index: string,
  snapshot: IndexSnapshot,
  meta: SegmentSetMeta,
  segmentBytes = SEGMENT_BYTES,
): Promise<SealedSegmentSet> {
  const { setId, manifest, chunks } = await encodeSegmentSet(snapshot, meta, segmentBytes);
  const segments = [sealSegment(cipher, index, setId, 0, manifest)];
  try {
    for (let i = 0; i < chunks.length; i++) {
      segments.push(sealSegment(cipher, index, setId, i + 1, chunks[i]));
      chunks[i].fill(0);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    for (const chunk of chunks) chunk.fill(0);
  }
  return { setId, segments };
}

/** Opens the manifest (segment 0) of set `setId`; IntegrityError when it fails authentication or does not parse. */
export function openManifest(cipher: IndexCipher, index: string, setId: Buffer, sealed: Buffer): SegmentManifest {
  const plain = openSegment(cipher, index, setId, 0, sealed);
  const format = plain.length > 0 ? plain.readUInt8(0) : 0;
  const length = format === FORMAT ? MANIFEST_BYTES : format === FORMAT_WITH_TEXT ? MANIFEST_BYTES + TEXT_DIGEST_BYTES : -1;
  if (plain.length !== length || !plain.subarray(48, 64).equals(setId)) {
    throw new IntegrityError(`segment manifest of index "${index}"`);
  }
  return {
    segments: plain.readUInt32LE(4),
    streamBytes: Number(plain.readBigUInt64LE(8)),
    items: Number(plain.readBigUInt64LE(16)),
    commitmentSeq: Number(plain.readBigUInt64LE(24)),
    modelTag: Buffer.from(plain.subarray(32, 48)),
    textDigest: format === FORMAT ? null : Buffer.from(plain.subarray(MANIFEST_BYTES)),
  };
}

/** Opens data segments 1.. of the set (exactly manifest.segments of them) and parses the snapshot; wipes the plaintext afterwards. */
export function openSegmentSet(cipher: IndexCipher, index: string, setId: Buffer, manifest: SegmentManifest, sealed: readonly Buffer[]): IndexSnapshot {
  if (sealed.length !== manifest.segments) throw new IntegrityError(`segments of index "${index}" (the set has ${manifest.segments}, the store gave ${sealed.length})`);
  return readSegmentSet(index, manifest, sealed.map((segment, i) => openSegment(cipher, index, setId, i + 1, segment)));
}

/**
 * Parses the snapshot from the plaintext of data segments 1.. (openSegment's, in order; exactly
 * manifest.segments of them), every array a copy, and wipes them afterwards, whatever happens.
 */
export function readSegmentSet(index: string, manifest: SegmentManifest, chunks: readonly Buffer[]): IndexSnapshot {
  const input = new ChunkReader(chunks);
  try {
    if (chunks.length !== manifest.segments) throw new IntegrityError(`segments of index "${index}" (the set has ${manifest.segments}, the store gave ${chunks.length})`);
    if (input.remaining !== manifest.streamBytes) throw new IntegrityError(`segments of index "${index}" (their length is not the manifest's)`);
    const snapshot = withFormatChecked(index, () => readSnapshot(input, manifest.textDigest !== null));
    if (snapshot.items.length !== manifest.items) throw new IntegrityError(`segments of index "${index}" (their item count is not the manifest's)`);
    return snapshot;
  } finally {
    input.wipe();
  }
}

/**
 * A set read for an open as its data segments arrive (streamSnapshot): each is opened in place
 * when pushed, parsed as far as it goes (its lists handed to `lists` then and there) and wiped
 * and let go once read past, so an open holds a few segments at a time, however large the set.
 * IntegrityError when a segment fails to open, or the set does not parse or is not the manifest's.
 */
export class SegmentSetStream {
  readonly #input: ChunkReader;
  readonly #parse: Generator<void, StreamedSnapshot, void>;
  #pushed = 0;
  #snapshot: StreamedSnapshot | null = null;

  constructor(
    private readonly cipher: IndexCipher,
    private readonly index: string,
    private readonly setId: Buffer,
    private readonly manifest: SegmentManifest,
    lists: ListDestination,
  ) {
    this.#input = new ChunkReader([], manifest.streamBytes);
    this.#parse = streamSnapshot(this.#input, manifest.textDigest !== null, (shape, items) => {
      if (items !== manifest.items) throw new ChunkFormatError('their item count is not the manifest\'s');
      return lists(shape, items);
    });
  }

  /** Data segments pushed so far. */
  get pushed(): number {
    return this.#pushed;
  }

  /** Opens and reads the next data segment (the store's buffer, destroyed: the plaintext is written over it). */
  push(sealed: Buffer): void {
    if (this.#pushed === this.manifest.segments) throw new IntegrityError(`segments of index "${this.index}" (more than the set's ${this.manifest.segments})`);
    const plaintext = openSegment(this.cipher, this.index, this.setId, ++this.#pushed, sealed, true);
    withFormatChecked(this.index, () => {
      this.#input.push(plaintext);
      const step = this.#parse.next();
      if (step.done === true) this.#snapshot = step.value;
    });
    this.#input.release();
  }

  /** The snapshot, once every segment was pushed; IntegrityError when the set ended early. */
  finish(): StreamedSnapshot {
    if (this.#snapshot === null || this.#pushed !== this.manifest.segments) {
      throw new IntegrityError(`segments of index "${this.index}" (the set has ${this.manifest.segments}, the store gave ${this.#pushed})`);
    }
    return this.#snapshot;
  }

  /** Wipes the plaintext still held (the open failed). */
  abandon(): void {
    this.#input.wipe();
  }
}

/** `parse`, its ChunkFormatError an IntegrityError: the stream authenticated yet does not parse (a bug or a newer version); refuse rather than guess. */
function withFormatChecked<T>(index: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ChunkFormatError) throw new IntegrityError(`segments of index "${index}" (${error.message})`);
    throw error;
  }
}

/**
 * The plaintext of segment `segment` (0 the manifest) of set `setId`; IntegrityError when it fails
 * authentication. `inPlace`: written over `sealed` (destroyed either way) and returned as a view
 * into it, for an open, which would otherwise first-touch as much fresh memory as the whole set.
 */
export function openSegment(cipher: IndexCipher, index: string, setId: Buffer, segment: number, sealed: Buffer, inPlace = false): Buffer {
  try {
    const aad = segmentAad(index, setId, segment);
    return inPlace ? cipher.openInPlace(sealed, aad) : cipher.open(sealed, aad);
  } catch (error) {
    if (error instanceof SealIntegrityError) throw new IntegrityError(`segment ${segment} of index "${index}"`);
    throw error;
  }
}

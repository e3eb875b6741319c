// A byte stream cut into fixed-size chunks (the plaintext of sealed segments) and read back across
// them: a snapshot of millions of items is written field by field without one huge buffer, and
// each chunk is sealed on its own.

/** Bytes of plaintext per segment: large enough that an open reads few records, small enough to seal and store one at a time. */
export const SEGMENT_BYTES = 4 << 20;

/** Chunks are never slices of Node's shared pool: each owns its ArrayBuffer, so it can be transferred to a sealing worker. */
export class ChunkWriter {
  readonly #chunkBytes: number;
  readonly chunks: Buffer[] = [];
  #current: Buffer;
  #at = 0;
  #total = 0;

  constructor(chunkBytes = SEGMENT_BYTES) {
    this.#chunkBytes = chunkBytes;
    this.#current = Buffer.allocUnsafeSlow(chunkBytes);
  }

  get length(): number {
    return this.#total;
  }

  u32(value: number): void {
    if (this.#chunkBytes - this.#at >= 4) {
      this.#current.writeUInt32LE(value, this.#at);
      this.#at += 4;
      this.#total += 4;
      return;
    }
    const bytes = Buffer.allocUnsafe(4);
    bytes.writeUInt32LE(value, 0);
    this.bytes(bytes);
  }

  bytes(data: Uint8Array): void {
    let from = 0;
    while (from < data.length) {
      if (this.#at === this.#chunkBytes) this.#next();
      const n = Math.min(data.length - from, this.#chunkBytes - this.#at);
      this.#current.set(data.subarray(from, from + n), this.#at);
      this.#at += n;
      from += n;
    }
    this.#total += data.length;
  }

  /** `value` encoded, `byteLength` bytes of it (Buffer.byteLength): written in place when it fits, without a Buffer per string. */
  string(value: string, encoding: 'utf8' | 'latin1', byteLength: number): void {
    if (this.#chunkBytes - this.#at >= byteLength) {
      this.#current.write(value, this.#at, byteLength, encoding);
      this.#at += byteLength;
      this.#total += byteLength;
      return;
    }
    this.bytes(Buffer.from(value, encoding));
  }

  /** The bytes of a typed array as they lie in memory (little-endian on every platform the item codec accepts). */
  array(data: Float32Array | Uint32Array | Uint16Array | Uint8Array): void {
    this.bytes(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  /** Every chunk, the last one trimmed; the writer is done. */
  finish(): Buffer[] {
    if (this.#at > 0 || this.chunks.length === 0) this.chunks.push(this.#current.subarray(0, this.#at));
    this.#current = Buffer.alloc(0);
    return this.chunks;
  }

  #next(): void {
    this.chunks.push(this.#current);
    this.#current = Buffer.allocUnsafeSlow(this.#chunkBytes);
    this.#at = 0;
  }
}

/** Thrown when a stream ends early or holds a value out of range: written by a bug or a newer version. */
export class ChunkFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChunkFormatError';
  }
}

/** What a released chunk is replaced by. */
const RELEASED = Buffer.alloc(0);

/** Up to this many bytes, copyTo copies byte by byte (an open copies a few million tokens, tags and ids). */
const SMALL_COPY = 64;

/**
 * Reads a stream of chunks across their boundaries. The chunks may arrive as they are read
 * (`push`): `available` says how many bytes can be read now, `remaining` how many the stream has
 * left, and `release` wipes and lets go of the chunks read past (an open holds a few pages of a
 * set of hundreds of MiB at a time, not the whole set).
 */
export class ChunkReader {
  #chunks: Buffer[];
  readonly #total: number;
  #pushed = 0;
  #chunk = 0;
  #at = 0;
  /** Bytes of the chunks before #chunk. */
  #before = 0;
  /** The first chunk release keeps (hold). */
  #heldFrom = Infinity;

  /** `totalBytes`: the stream's length when the chunks are pushed later (default: the given chunks' own). */
  constructor(chunks: readonly Buffer[] = [], totalBytes?: number) {
    this.#chunks = [...chunks];
    for (const chunk of chunks) this.#pushed += chunk.length;
    this.#total = totalBytes ?? this.#pushed;
    if (this.#pushed > this.#total) throw new ChunkFormatError('the segment stream is longer than its length');
  }

  /** Appends the next chunk of the stream. */
  push(chunk: Buffer): void {
    if (this.#pushed + chunk.length > this.#total) throw new ChunkFormatError('the segment stream is longer than its length');
    this.#chunks.push(chunk);
    this.#pushed += chunk.length;
  }

  /** Bytes that can be read now (pushed and not yet read). */
  get available(): number {
    return this.#pushed - this.#before - this.#at;
  }

  /** Bytes of the stream not yet read, pushed or not. */
  get remaining(): number {
    return this.#total - this.#before - this.#at;
  }

  /** Whether every byte of the stream was read. */
  get done(): boolean {
    return this.remaining === 0;
  }

  /** Until `unhold`, release keeps the chunks from this position on (a fork made here reads them later). */
  hold(): void {
    this.#skipEmpty();
    this.#heldFrom = this.#chunk;
  }

  unhold(): void {
    this.#heldFrom = Infinity;
  }

  /** Wipes and lets go of every chunk wholly read, but those held. */
  release(): void {
    this.#skipEmpty();
    for (let i = 0; i < Math.min(this.#chunk, this.#heldFrom); i++) {
      const chunk = this.#chunks[i];
      if (chunk.length === 0) continue;
      chunk.fill(0);
      this.#chunks[i] = RELEASED;
    }
  }

  /** Wipes every chunk still held (the stream is abandoned or read). */
  wipe(): void {
    for (const chunk of this.#chunks) chunk.fill(0);
  }

  /**
   * A reader of the same chunks at this one's position, moving on its own (to read a section
   * twice); it reads the chunks pushed to this one later too, though its `available` counts only
   * those pushed before it was made.
   */
  fork(): ChunkReader {
    // Never at the end of a chunk: release may let go of that one (hold keeps those after it).
    this.#skipEmpty();
    const copy = new ChunkReader([], this.#total);
    copy.#chunks = this.#chunks;
    copy.#pushed = this.#pushed;
    copy.#chunk = this.#chunk;
    copy.#at = this.#at;
    copy.#before = this.#before;
    return copy;
  }

  /** Passes over the next `n` bytes. */
  skip(n: number): void {
    let left = n;
    while (left > 0) {
      this.#skipEmpty();
      const chunk = this.#chunks[this.#chunk];
      if (chunk === undefined) throw new ChunkFormatError('the segment stream ended early');
      const step = Math.min(left, chunk.length - this.#at);
      this.#at += step;
      left -= step;
    }
  }

  u32(): number {
    this.#skipEmpty();
    const chunk = this.#chunks[this.#chunk];
    if (chunk !== undefined && chunk.length - this.#at >= 4) {
      const value = chunk.readUInt32LE(this.#at);
      this.#at += 4;
      return value;
    }
    return this.bytes(4).readUInt32LE(0);
  }

  /** `n` bytes: a view into a chunk when they lie in one, else a copy. Valid as long as the chunks are. */
  bytes(n: number): Buffer {
    this.#skipEmpty();
    const chunk = this.#chunks[this.#chunk];
    if (chunk !== undefined && chunk.length - this.#at >= n) {
      const view = chunk.subarray(this.#at, this.#at + n);
      this.#at += n;
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    this.into(out);
    return out;
  }

  /** The next `n` bytes decoded as a string, with no Buffer made for them when they lie in one chunk. */
  string(n: number, encoding: 'utf8' | 'latin1'): string {
    this.#skipEmpty();
    const chunk = this.#chunks[this.#chunk];
    if (chunk !== undefined && chunk.length - this.#at >= n) {
      const value = chunk.toString(encoding, this.#at, this.#at + n);
      this.#at += n;
      return value;
    }
    return this.bytes(n).toString(encoding);
  }

  /** Copies the next `n` bytes to `target` at `offset`, with no view made when they lie in one chunk. */
  copyTo(target: Buffer, offset: number, n: number): void {
    this.#skipEmpty();
    const chunk = this.#chunks[this.#chunk];
    if (chunk !== undefined && chunk.length - this.#at >= n) {
      const at = this.#at;
      // A few bytes (a token, a tag, an id) are copied here: a call into Buffer.copy costs more than the copy.
      if (n <= SMALL_COPY) for (let k = 0; k < n; k++) target[offset + k] = chunk[at + k];
      else chunk.copy(target, offset, at, at + n);
      this.#at = at + n;
      return;
    }
    this.into(target.subarray(offset, offset + n));
  }

  /** Fills `target` with the next bytes. */
  into(target: Uint8Array): void {
    let filled = 0;
    while (filled < target.length) {
      this.#skipEmpty();
      const chunk = this.#chunks[this.#chunk];
      if (chunk === undefined) throw new ChunkFormatError('the segment stream ended early');
      const n = Math.min(target.length - filled, chunk.length - this.#at);
      target.set(chunk.subarray(this.#at, this.#at + n), filled);
      this.#at += n;
      filled += n;
    }
  }

  floats(n: number): Float32Array {
    const out = new Float32Array(n);
    this.into(new Uint8Array(out.buffer));
    return out;
  }

  u32s(n: number): Uint32Array {
    const out = new Uint32Array(n);
    this.into(new Uint8Array(out.buffer));
    return out;
  }

  #skipEmpty(): void {
    while (this.#chunk < this.#chunks.length && this.#at === this.#chunks[this.#chunk].length) {
      this.#before += this.#at;
      this.#chunk++;
      this.#at = 0;
    }
  }
}

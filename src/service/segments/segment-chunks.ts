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

/** Up to this many bytes, copyTo copies byte by byte (an open copies a few million tokens, tags and ids). */
const SMALL_COPY = 64;

export class ChunkReader {
  readonly #chunks: readonly Buffer[];
  #chunk = 0;
  #at = 0;

  constructor(chunks: readonly Buffer[]) {
    this.#chunks = chunks;
  }

  /** A reader of the same chunks at this one's position, moving on its own (to read a section twice). */
  fork(): ChunkReader {
    const copy = new ChunkReader(this.#chunks);
    copy.#chunk = this.#chunk;
    copy.#at = this.#at;
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

  /** Bytes not yet read. */
  get remaining(): number {
    let left = 0;
    for (let chunk = this.#chunk; chunk < this.#chunks.length; chunk++) left += this.#chunks[chunk].length;
    return left - (this.#chunk < this.#chunks.length ? this.#at : 0);
  }

  /** Whether every byte was read. */
  get done(): boolean {
    this.#skipEmpty();
    return this.#chunk >= this.#chunks.length;
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
      this.#chunk++;
      this.#at = 0;
    }
  }
}

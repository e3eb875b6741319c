// The shape every input-file reader of the CLI shares: records in file order, read in batches
// from a resumable position.

import type { FileHandle } from 'node:fs/promises';
import { CliError, ExitCode } from '../exit-codes.js';
import type { JsonObject } from '../../service/index.js';

export interface VectorRecord {
  id: string;
  vector: Float32Array;
  contents?: string | null;
  metadata?: JsonObject | null;
}

/**
 * Where reading stands: records already consumed and the byte where the next one starts.
 * Stored in import checkpoints, so a rerun seeks straight to it instead of re-reading the file.
 */
export interface ReadPosition {
  record: number;
  byte: number;
  /** 1-based line of the next record (JSON Lines only), for error messages after a resume. */
  line?: number;
}

export interface VectorBatch {
  records: VectorRecord[];
  /** Position right after the last record of this batch. */
  next: ReadPosition;
}

export interface VectorFile {
  readonly path: string;
  readonly format: 'jsonl' | 'fvecs' | 'npy';
  readonly dimension: number;
  /** Known up front for fixed-size formats; null for JSON Lines. */
  readonly recordCount: number | null;
  readonly byteLength: number;
  /** Position of the first record. */
  readonly start: ReadPosition;
  /** Yields batches of up to `batchSize` records from `from` to the end of the file. */
  batches(from: ReadPosition, batchSize: number): AsyncGenerator<VectorBatch>;
  close(): Promise<void>;
}

/** The input file is unreadable or not what its format promises; reported as a usage error. */
export class VectorFileError extends CliError {
  constructor(path: string, message: string) {
    super(`${path}: ${message}`, ExitCode.USAGE);
    this.name = 'VectorFileError';
  }
}

/**
 * Decodes little-endian float32 bytes into a Float32Array that owns its memory (the source
 * buffer may be unaligned and is reused between reads).
 */
export function float32FromLittleEndian(bytes: Uint8Array): Float32Array {
  const vector = new Float32Array(bytes.byteLength / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < vector.length; i++) vector[i] = view.getFloat32(i * 4, true);
  return vector;
}

/** Fills `into` from `position`, or fails with a clear message when the file ends first. */
export async function readExactly(handle: FileHandle, into: Uint8Array, position: number, path: string): Promise<void> {
  let done = 0;
  while (done < into.byteLength) {
    const { bytesRead } = await handle.read(into, done, into.byteLength - done, position + done);
    if (bytesRead === 0) throw new VectorFileError(path, `unexpected end of file at byte ${position + done}`);
    done += bytesRead;
  }
}

// Opens an input file with the reader its format needs, chosen by extension unless given.

import { extname } from 'node:path';
import { openFvecsFile } from './fvecs-file.js';
import { openJsonlFile } from './jsonl-file.js';
import { openNpyFile } from './npy-file.js';
import { VectorFileError, type VectorFile } from './vector-file.js';

export const VECTOR_FILE_FORMATS = ['jsonl', 'fvecs', 'npy'] as const;
export type VectorFileFormat = (typeof VECTOR_FILE_FORMATS)[number];

const BY_EXTENSION: Record<string, VectorFileFormat> = { '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.fvecs': 'fvecs', '.npy': 'npy' };

export function detectFormat(path: string): VectorFileFormat {
  const format = BY_EXTENSION[extname(path).toLowerCase()];
  if (!format) throw new VectorFileError(path, `cannot tell the format from the extension; use .jsonl, .ndjson, .fvecs or .npy, or pass --format`);
  return format;
}

export interface OpenOptions {
  format?: VectorFileFormat;
  /** Ids of rows in formats without ids (fvecs, npy) are this prefix plus the 0-based row number. */
  idPrefix?: string;
}

export async function openVectorFile(path: string, options: OpenOptions = {}): Promise<VectorFile> {
  const format = options.format ?? detectFormat(path);
  try {
    switch (format) {
      case 'jsonl':
        return await openJsonlFile(path);
      case 'fvecs':
        return await openFvecsFile(path, options.idPrefix ?? '');
      case 'npy':
        return await openNpyFile(path, options.idPrefix ?? '');
    }
  } catch (error) {
    if (error instanceof VectorFileError) throw error;
    // fs errors (ENOENT, EACCES, EISDIR) become one-line messages rather than stack traces.
    const reason = error instanceof Error && 'code' in error ? `cannot read the file (${String(error.code)})` : String(error);
    throw new VectorFileError(path, reason);
  }
}

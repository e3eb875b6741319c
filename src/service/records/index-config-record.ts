// The index configuration (dimension, metric, type and its PQ shape, configured lists, text search) as a sealed record: it is
// what the store keeps beside the wrapped data key, so even an index's shape is not in plaintext.

import type { IndexCipher } from '../../crypto/index.js';
import { configAad } from './associated-data.js';
import type { IndexType, Metric, TextLanguage } from '../types.js';

export interface IndexConfig {
  dimension: number;
  metric: Metric;
  type: IndexType;
  /** Lists the index was created with; null means "chosen from the vector count at training". */
  nLists: number | null;
  /** IVF_PQ's shape (absent before there were other types, and for them). */
  pqSubvectors?: number | null;
  pqBits?: number | null;
  /** Keyword search: the in-memory BM25 index over contents and `textFields`; absent means off. */
  textSearch?: boolean;
  textFields?: string[];
  /** Null or absent when textSearch is off. */
  textLanguage?: TextLanguage | null;
  /**
   * Sealed proof that the index has an index commitment (records/index-commitment.ts): set at
   * creation, or when an index from before commitments is upgraded. Absent: created earlier.
   */
  committed?: boolean;
}

const FORMAT = 1;

export function sealIndexConfig(cipher: IndexCipher, index: string, config: IndexConfig): Buffer {
  const plaintext = Buffer.from(JSON.stringify({ format: FORMAT, index, ...config }), 'utf8');
  return cipher.seal(plaintext, configAad(index));
}

/** Throws SealIntegrityError when the record was altered or belongs to another index. */
export function openIndexConfig(cipher: IndexCipher, index: string, sealed: Buffer): IndexConfig {
  const parsed = JSON.parse(cipher.open(sealed, configAad(index)).toString('utf8')) as Partial<IndexConfig> &
    Pick<IndexConfig, 'dimension' | 'metric' | 'type' | 'nLists'> & { format: number; index: string };
  if (parsed.format !== FORMAT || parsed.index !== index) throw new Error(`Index "${index}" has a configuration record of an unknown format.`);
  return {
    dimension: parsed.dimension,
    metric: parsed.metric,
    type: parsed.type,
    nLists: parsed.nLists,
    pqSubvectors: parsed.pqSubvectors ?? null,
    pqBits: parsed.pqBits ?? null,
    textSearch: parsed.textSearch ?? false,
    textFields: parsed.textFields ?? [],
    textLanguage: parsed.textLanguage ?? null,
    committed: parsed.committed ?? false,
  };
}

// The term index as a sealed segment set persists it (segments/index-snapshot.ts): per document its
// length and its distinct terms with their frequencies, documents in the snapshot's item order,
// terms named by their place in one dictionary. Postings are not stored: restoring writes them in
// one pass from the documents (TermIndex.restoreState), which also drops the documents deleted or
// rewritten since the set without touching a posting per removal.
//
// A stored state is only valid for the analysis that produced it: the digest below names that
// analysis (its version, the Unicode tables word segmentation follows, the language and the text
// fields), and a set whose digest differs is not used; the index opens from its records instead.

import { createHash } from 'node:crypto';
import type { TextSearchConfig } from './text-index.js';

/**
 * Bump when what the analysis makes of a text changes (scanner, stop words, stemming, folding, or
 * their packages): sets written before then are no longer used, and opens read the records once.
 */
export const ANALYSIS_VERSION = 1;

export interface TermIndexState {
  /** Every term some document holds, each once; documents name terms by their place here. */
  terms: string[];
  /** Per document: its length in terms (the sum of its frequencies). */
  lengths: Uint32Array;
  /** Per document: how many distinct terms it holds (its entries in `ids` and `freqs`). */
  counts: Uint32Array;
  /** The documents' distinct term numbers, document after document, and their frequencies. */
  ids: Uint32Array;
  freqs: Uint32Array;
}

/** 32 bytes naming the analysis a term index state was made with (see above). */
export function analysisDigest(config: TextSearchConfig): Buffer {
  const described = JSON.stringify({
    version: ANALYSIS_VERSION,
    unicode: process.versions.unicode ?? null,
    language: config.textLanguage,
    fields: config.textFields,
  });
  return createHash('sha256').update(described).digest();
}

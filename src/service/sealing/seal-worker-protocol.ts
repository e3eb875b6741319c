// Messages between the service and its sealing worker threads (see seal-workers.ts).

import type { CountedTerms } from '../text/counted-terms.js';
import type { TextSearchConfig } from '../text/text-index.js';
import type { JsonObject } from '../types.js';

export interface SealableItem {
  id: string;
  vector: Float32Array;
  contents: string | null;
  metadataJson: string | null;
}

/**
 * A batch to seal as it crosses to a worker: item i is ids[i], the vector at vectors[i × dimension,
 * (i + 1) × dimension) (one buffer, moved: cloning 500 items with an array each cost the main
 * thread 1.8 ms an upsert under the sustained load), contents[i] and metadataJson[i].
 */
export interface SealableBatch {
  ids: string[];
  vectors: Float32Array;
  contents: (string | null)[];
  metadataJson: (string | null)[];
}

/** A page of item records an open read, decrypted and decoded by a worker (open-worker-page.ts). */
export interface OpenedPage {
  ids: string[];
  revisions: Uint32Array;
  /** Item i's vector is vectors[i × dimension, (i + 1) × dimension). */
  vectors: Float32Array;
  metadata: (JsonObject | null)[];
  /** The contents and text fields analysed, for an index with text search; its contents do not come back. */
  text: CountedTerms | null;
}

/** Why a worker could not open a page: a record failed authentication, did not decode, or anything else. */
export type OpenFailure = 'integrity' | 'format' | 'other';

export type SealWorkerRequest =
  /** The worker derives the index's cipher from its data key and wipes the copy it was sent. */
  | { type: 'register'; handle: number; index: string; dataKey: Uint8Array }
  | { type: 'unregister'; handle: number }
  /** `bucket`: record padding (see item-codec.ts), 0 for none. */
  | { type: 'seal'; job: number; handle: number; batch: SealableBatch; revisions: Uint32Array; bucket: number }
  /**
   * Record i's token is tokens[32i, 32i + 32), its sealed bytes sealed[ends[i - 1] (or 0), ends[i]).
   * Pages of one `load` share the worker's term numbering, kept until `end-load`.
   */
  | { type: 'open'; job: number; handle: number; load: number; dimension: number; text: TextSearchConfig | null; tokens: Uint8Array; sealed: Uint8Array; ends: Uint32Array }
  | { type: 'end-load'; load: number }
  /** Segment `segment` of set `setId` (segment-set-record.ts): the worker seals `plaintext` (transferred) and wipes it. */
  | { type: 'seal-segment'; job: number; handle: number; setId: Uint8Array; segment: number; plaintext: Uint8Array };

export type SealWorkerResponse =
  /** Item i's token is tokens[32i, 32i + 32); its sealed record is sealed[ends[i - 1] (or 0), ends[i]). */
  | { type: 'sealed'; job: number; tokens: Uint8Array; sealed: Uint8Array; ends: Uint32Array }
  | { type: 'opened'; job: number; page: OpenedPage }
  /** A segment sealed, in a buffer of its own (transferred back). */
  | { type: 'sealed-segment'; job: number; sealed: Uint8Array }
  | { type: 'failed'; job: number; message: string; failure?: OpenFailure };

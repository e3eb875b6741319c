// Messages between the service and its sealing worker threads (see seal-workers.ts).

export interface SealableItem {
  id: string;
  vector: Float32Array;
  contents: string | null;
  metadataJson: string | null;
}

export type SealWorkerRequest =
  /** The worker derives the index's cipher from its data key and wipes the copy it was sent. */
  | { type: 'register'; handle: number; index: string; dataKey: Uint8Array }
  | { type: 'unregister'; handle: number }
  /** `bucket`: record padding (see item-codec.ts), 0 for none. */
  | { type: 'seal'; job: number; handle: number; items: SealableItem[]; revisions: Uint32Array; bucket: number };

export type SealWorkerResponse =
  /** Item i's token is tokens[32i, 32i + 32); its sealed record is sealed[ends[i - 1] (or 0), ends[i]). */
  | { type: 'sealed'; job: number; tokens: Uint8Array; sealed: Uint8Array; ends: Uint32Array }
  | { type: 'failed'; job: number; message: string };

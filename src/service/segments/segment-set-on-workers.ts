// Seals a segment set's chunks in the sealing workers (seal-workers.ts) rather than on the main
// thread: AES-GCM of every 4 MiB chunk is most of a set write's CPU, and the main thread belongs to
// queries. Each chunk's buffer is transferred to a worker and its sealed segment transferred back,
// so nothing is copied; the chunks go round robin, so they are sealed on several cores at once.
// The bytes are exactly sealSegmentSet's (same manifest, same associated data).

import type { IndexCipher } from '../../crypto/index.js';
import type { IndexSnapshot } from './index-snapshot.js';
import { SEGMENT_BYTES } from './segment-chunks.js';
import { encodeSegmentSet, sealSegment, sealSegmentSet, type SealedSegmentSet, type SegmentSetMeta } from './segment-set-record.js';

/** What this needs of the sealing workers (SealWorkers, sealing/seal-workers.ts), which sit beside segments, not below. */
export interface SegmentSealer {
  readonly size: number;
  sealSegment(handle: number, setId: Buffer, segment: number, plaintext: Uint8Array): Promise<Buffer>;
}

/**
 * Seals `snapshot` as a new set through `sealer`'s workers; on the calling thread (sealSegmentSet)
 * when there are none or one fails. A worker's chunks are gone once posted, so the fallback writes
 * the snapshot's stream again, as a set with another id (the first is never stored).
 */
export async function sealSegmentSetOnWorkers(
  sealer: { workers: SegmentSealer; handle: number } | null,
  cipher: IndexCipher,
  index: string,
  snapshot: IndexSnapshot,
  meta: SegmentSetMeta,
  segmentBytes = SEGMENT_BYTES,
): Promise<SealedSegmentSet> {
  if (sealer === null || sealer.workers.size === 0) return sealSegmentSet(cipher, index, snapshot, meta, segmentBytes);
  const { setId, manifest, chunks } = await encodeSegmentSet(snapshot, meta, segmentBytes);
  let sealed: Buffer[] | null;
  try {
    const pending = chunks.map((chunk, i) => sealer.workers.sealSegment(sealer.handle, setId, i + 1, chunk));
    sealed = await Promise.all(pending.map((segment) => segment.catch(() => null))).then((segments) =>
      segments.every((segment) => segment !== null) ? (segments as Buffer[]) : null,
    );
  } finally {
    // What was not transferred (a worker unavailable) is still here in plaintext; transferred ones are empty.
    for (const chunk of chunks) if (chunk.buffer.byteLength > 0) chunk.fill(0);
  }
  if (sealed === null) return sealSegmentSet(cipher, index, snapshot, meta, segmentBytes);
  return { setId, segments: [sealSegment(cipher, index, setId, 0, manifest), ...sealed] };
}

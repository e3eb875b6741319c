// Writes an open index's sealed segment set: a copy of its state taken under the write lock (so no
// write or model swap is half in it; searches go on between the copy's steps), encoded in steps
// and sealed segment by segment off the lock (in the sealing workers when the index has them,
// segment-set-on-workers.ts), then stored as the index's new set in one transaction. The per-item records stay the source of truth: a set is only a faster way
// to reach the state they describe, checked against them on every open.

import type { Store } from '../../storage/index.js';
import type { OpenIndex } from '../open/open-index.js';
import { SEGMENT_BYTES } from './segment-chunks.js';
import { analysisDigest } from '../text/term-index-state.js';
import { sealSegmentSetOnWorkers } from './segment-set-on-workers.js';

/**
 * Writes a new set for `open` (with its term index when it has text search); false when there is
 * nothing to write (untrained, closed, or its model's stored tag unknown). Store errors propagate
 * (nothing in memory changes).
 */
export async function writeSegmentSet(store: Store, open: OpenIndex, segmentBytes = SEGMENT_BYTES): Promise<boolean> {
  const taken = await open.lock.run(async () => {
    if (open.closed || open.modelSealTag === null) return null;
    // Copied in steps, searches answered between them; writes wait for the lock.
    const steps = open.segmentSnapshotInSteps();
    let step = steps.next();
    while (step.done !== true) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (open.closed) return null;
      step = steps.next();
    }
    const snapshot = step.value;
    if (snapshot === null || open.modelSealTag === null) return null;
    return { snapshot, changes: open.changesSinceSegments, modelTag: open.modelSealTag, commitmentSeq: open.commitment.seq };
  });
  if (taken === null) return false;
  const { snapshot, changes, modelTag, commitmentSeq } = taken;
  const textDigest = open.text === null ? null : analysisDigest(open.text.config);
  const sealed = await sealSegmentSetOnWorkers(open.sealer, open.cipher, open.name, snapshot, { commitmentSeq, modelTag, textDigest }, segmentBytes);
  await store.replaceSegments(open.name, sealed.setId, sealed.segments);
  // Changes made while sealing are not in the set: they stay counted.
  open.changesSinceSegments = Math.max(0, open.changesSinceSegments - changes);
  return true;
}

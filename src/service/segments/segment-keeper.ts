// Keeps each open index's sealed segment set current in the background. The rule: a new set is
// due when the index has none for its current model (just trained, or opened from records), or
// when the items written or deleted since the last set (the tail an open replays) exceed
// TAIL_FRACTION of the index and at least MIN_TAIL items. A set is a full copy of the index, and
// taking and sealing it costs the main thread tens of milliseconds per 100,000 items (an index with
// text search adds its term index: 0.3-0.7 s more for 100,000 documents of 60 words), so a due set
// waits until writes pause for WRITE_DELAY_MS: under a sustained stream it would otherwise be
// rewritten every few seconds, in the way of the searches. Only a set that is missing, or a tail
// that has reached HARD_TAIL_FRACTION of the index, is written during the stream. One write per
// index at a time. A failed write is left for the next change to retry; the index keeps serving.

import type { Store } from '../../storage/index.js';
import type { OpenIndex } from '../open/open-index.js';
import { SEGMENT_BYTES } from './segment-chunks.js';
import { writeSegmentSet } from './segment-writer.js';

/** Share of the index the tail may reach before the set is rewritten. */
export const TAIL_FRACTION = 0.1;
/** Below this many changed items a set is not rewritten (unless it is missing or stale). */
export const MIN_TAIL = 1000;
/** Writes must pause this long before a due set is written (a missing set waits this long at most). */
export const WRITE_DELAY_MS = 1000;
/** A tail this large (a share of the index) is written without waiting for writes to pause. */
export const HARD_TAIL_FRACTION = 0.5;

/** Whether a set is due, and whether it may wait for the writes to pause. */
export type SegmentUrgency = 'none' | 'when-quiet' | 'now';

/** The rule above, for an index of `size` items with `changes` since its set (at least `size` when it has none). */
export function segmentUrgency(changes: number, size: number, tailFraction = TAIL_FRACTION, minTail = MIN_TAIL): SegmentUrgency {
  if (changes === 0) return 'none';
  if (changes >= size || changes >= HARD_TAIL_FRACTION * size) return 'now';
  return changes >= Math.max(minTail, tailFraction * size) ? 'when-quiet' : 'none';
}

export interface SegmentKeeperOptions {
  store: Store;
  tailFraction?: number;
  minTail?: number;
  delayMs?: number;
  segmentBytes?: number;
  /** Told of each set written and of each failed attempt (metrics, tests). */
  onWritten?: (open: OpenIndex) => void;
  onFailed?: (open: OpenIndex, error: unknown) => void;
}

export class SegmentKeeper {
  readonly #options: Required<Omit<SegmentKeeperOptions, 'onWritten' | 'onFailed'>> & Pick<SegmentKeeperOptions, 'onWritten' | 'onFailed'>;
  readonly #scheduled = new Map<OpenIndex, NodeJS.Timeout>();
  readonly #running = new Map<OpenIndex, Promise<void>>();
  #closed = false;

  constructor(options: SegmentKeeperOptions) {
    this.#options = {
      tailFraction: TAIL_FRACTION,
      minTail: MIN_TAIL,
      delayMs: WRITE_DELAY_MS,
      segmentBytes: SEGMENT_BYTES,
      ...options,
    };
  }

  /** Follows `open`'s changes from now on, and writes a set soon if it needs one already. */
  watch(open: OpenIndex): void {
    open.onItemsChanged = () => this.check(open);
    this.check(open);
  }

  /** Whether `open` needs a new set by the rule. */
  due(open: OpenIndex): boolean {
    return this.#urgency(open) !== 'none';
  }

  /** Called on every change: schedules a due set, and pushes a waiting one back while writes go on. */
  check(open: OpenIndex): void {
    if (this.#closed || this.#running.has(open)) return;
    const urgency = this.#urgency(open);
    if (urgency === 'none') return;
    const waiting = this.#scheduled.get(open);
    if (waiting !== undefined) {
      if (urgency === 'now') return;
      clearTimeout(waiting);
    }
    const timer = setTimeout(() => {
      this.#scheduled.delete(open);
      this.#start(open);
    }, this.#options.delayMs);
    timer.unref();
    this.#scheduled.set(open, timer);
  }

  #urgency(open: OpenIndex): SegmentUrgency {
    if (open.closed || open.modelSealTag === null || !open.isTrained) return 'none';
    return segmentUrgency(open.changesSinceSegments, open.size, this.#options.tailFraction, this.#options.minTail);
  }

  /** Resolves when the writes under way (not those only scheduled) have ended. */
  async idle(): Promise<void> {
    await Promise.all(this.#running.values());
  }

  /** Cancels scheduled writes and waits for running ones. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#scheduled.values()) clearTimeout(timer);
    this.#scheduled.clear();
    await this.idle();
  }

  #start(open: OpenIndex): void {
    if (this.#closed || !this.due(open)) return;
    // Pinned: an index is not evicted (its cipher destroyed) in the middle of its set.
    open.pin();
    const run = writeSegmentSet(this.#options.store, open, this.#options.segmentBytes)
      .then(
        (written) => {
          if (!written) return;
          this.#options.onWritten?.(open);
          // Writes during the sealing may already make the next set due.
          queueMicrotask(() => this.check(open));
        },
        (error: unknown) => this.#options.onFailed?.(open, error),
      )
      .finally(() => {
        open.unpin();
        this.#running.delete(open);
      });
    this.#running.set(open, run);
  }
}

// The segment keeper's rule: which tails wait for writes to pause, and which are written at once.
import { describe, expect, it } from 'vitest';
import { HARD_TAIL_FRACTION, MIN_TAIL, TAIL_FRACTION, segmentUrgency } from '../../../src/service/segments/segment-keeper.js';

describe('segmentUrgency', () => {
  const size = 100_000;

  it('wants nothing without changes, or below both the share and the minimum', () => {
    expect(segmentUrgency(0, size)).toBe('none');
    expect(segmentUrgency(TAIL_FRACTION * size - 1, size)).toBe('none');
    expect(segmentUrgency(MIN_TAIL - 1, 5_000)).toBe('none');
  });

  it('lets a tail past its share wait for the writes to pause', () => {
    expect(segmentUrgency(TAIL_FRACTION * size, size)).toBe('when-quiet');
    expect(segmentUrgency(HARD_TAIL_FRACTION * size - 1, size)).toBe('when-quiet');
  });

  it('writes at once a missing set (changes >= size) or a tail of half the index', () => {
    expect(segmentUrgency(HARD_TAIL_FRACTION * size, size)).toBe('now');
    expect(segmentUrgency(size, size)).toBe('now');
    // A small index with no set yet: due at once even below MIN_TAIL.
    expect(segmentUrgency(300, 300)).toBe('now');
  });
});

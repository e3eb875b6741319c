// TopK: the k best by score, ties by id whatever the arrival order, bound, lazy filter.
import { describe, expect, it } from 'vitest';
import { TopK } from '../../src/engine/top-k.js';
import { createRandom } from '../../src/engine/random.js';

describe('TopK', () => {
  it('keeps the k smallest scores, best first', () => {
    const random = createRandom(9);
    const scores = Array.from({ length: 500 }, () => random());
    const top = new TopK(7);
    scores.forEach((s, id) => top.offer(s, id));
    const { ids, scores: kept } = top.drain();
    const want = scores.map((s, id) => ({ s, id })).sort((a, b) => a.s - b.s).slice(0, 7);
    expect(Array.from(ids)).toEqual(want.map((w) => w.id));
    expect(Array.from(kept)).toEqual(want.map((w) => w.s));
  });

  it('breaks ties by the smaller id whatever the order of arrival', () => {
    const forwards = new TopK(3);
    const backwards = new TopK(3);
    const ids = [4, 9, 1, 7, 3];
    for (const id of ids) forwards.offer(1, id);
    for (const id of [...ids].reverse()) backwards.offer(1, id);
    expect(Array.from(forwards.drain().ids)).toEqual([1, 3, 4]);
    expect(Array.from(backwards.drain().ids)).toEqual([1, 3, 4]);
  });

  it('orders equal scores by id inside the result', () => {
    const top = new TopK(4);
    [[0.5, 8], [0.2, 5], [0.5, 2], [0.2, 3]].forEach(([s, id]) => top.offer(s, id));
    expect(Array.from(top.drain().ids)).toEqual([3, 5, 2, 8]);
  });

  it('has an infinite bound until full, then the worst kept score', () => {
    const top = new TopK(2);
    expect(top.bound).toBe(Infinity);
    top.offer(3, 0);
    expect(top.bound).toBe(Infinity);
    top.offer(1, 1);
    expect(top.bound).toBe(3);
    expect(top.offer(4, 2)).toBe(false);
    expect(top.offer(2, 3)).toBe(true);
    expect(top.bound).toBe(2);
  });

  it('asks the filter only about candidates that would enter, and skips the ones it rejects', () => {
    const asked: number[] = [];
    const top = new TopK(2);
    const even = (id: number): boolean => {
      asked.push(id);
      return id % 2 === 0;
    };
    top.offer(1, 0, even);
    top.offer(2, 1, even); // rejected
    top.offer(3, 2, even);
    top.offer(9, 4, even); // cannot enter: worse than both kept
    top.offer(0.5, 6, even);
    expect(asked).toEqual([0, 1, 2, 6]);
    expect(Array.from(top.drain().ids)).toEqual([6, 0]);
  });

  it('returns fewer than k when fewer were offered', () => {
    const top = new TopK(10);
    top.offer(2, 1);
    top.offer(1, 2);
    expect(top.size).toBe(2);
    expect(Array.from(top.drain().ids)).toEqual([2, 1]);
    expect(top.size).toBe(0);
  });
});

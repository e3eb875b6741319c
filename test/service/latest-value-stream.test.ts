// LatestValueStream: a consumer that falls behind gets the newest value, never a backlog; a waiting
// consumer gets the next value at once; ending releases the producer once and ends a waiting next().

import { describe, expect, it } from 'vitest';
import { LatestValueStream } from '../../src/service/latest-value-stream.js';

describe('LatestValueStream', () => {
  it('keeps only the latest value for a slow consumer', async () => {
    const stream = new LatestValueStream<number>(() => {});
    for (let i = 1; i <= 1000; i++) stream.offer(i);
    expect(await stream.next()).toEqual({ value: 1000, done: false });
    const waiting = stream.next();
    stream.offer(1001);
    stream.offer(1002);
    expect(await waiting).toEqual({ value: 1001, done: false });
    expect(await stream.next()).toEqual({ value: 1002, done: false });
  });

  it('ends once: onEnd runs once, a waiting next() completes, later offers are ignored', async () => {
    let ended = 0;
    const stream = new LatestValueStream<string>(() => ended++);
    const waiting = stream.next();
    await stream.return();
    await stream.return();
    stream.offer('late');
    expect(await waiting).toEqual({ value: undefined, done: true });
    expect(await stream.next()).toEqual({ value: undefined, done: true });
    expect(ended).toBe(1);
  });
});

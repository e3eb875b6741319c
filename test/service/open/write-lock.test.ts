// The per-index write lock runs sections strictly one after another, survives failures and
// reports when it is busy.
import { describe, expect, it } from 'vitest';
import { WriteLock } from '../../../src/service/open/write-lock.js';

describe('WriteLock', () => {
  it('serializes sections in call order, even when earlier ones are slower', async () => {
    const lock = new WriteLock();
    const log: string[] = [];
    const section = (name: string, ticks: number) => async () => {
      log.push(`${name}:start`);
      for (let i = 0; i < ticks; i++) await new Promise((resolve) => setImmediate(resolve));
      log.push(`${name}:end`);
      return name;
    };
    const results = await Promise.all([lock.run(section('a', 5)), lock.run(section('b', 1)), lock.run(section('c', 0))]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['a:start', 'a:end', 'b:start', 'b:end', 'c:start', 'c:end']);
  });

  it('passes a failure to its caller only and keeps running later sections', async () => {
    const lock = new WriteLock();
    const failed = lock.run(() => {
      throw new Error('boom');
    });
    const next = lock.run(() => 42);
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe(42);
  });

  it('is busy while a section runs or waits, and idle after', async () => {
    const lock = new WriteLock();
    expect(lock.busy).toBe(false);
    let release!: () => void;
    const held = lock.run(() => new Promise<void>((resolve) => (release = resolve)));
    const waiting = lock.run(() => undefined);
    expect(lock.busy).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await Promise.all([held, waiting]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(lock.busy).toBe(false);
  });
});

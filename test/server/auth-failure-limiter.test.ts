import { describe, expect, it } from 'vitest';
import { createAuthFailureLimiter } from '../../src/server/auth-failure-limiter.js';

/** A limiter on a clock the test moves by hand. */
function limiterAt(options: { maxFailures: number; windowMs: number; maxTrackedAddresses?: number }) {
  let time = 1_000_000;
  const limiter = createAuthFailureLimiter({ ...options, now: () => time });
  return {
    limiter,
    advance(ms: number) {
      time += ms;
    },
  };
}

describe('createAuthFailureLimiter', () => {
  it('lets an address fail maxFailures times, then refuses it until the window that began with its first failure ends', () => {
    const { limiter, advance } = limiterAt({ maxFailures: 3, windowMs: 60_000 });
    for (let i = 0; i < 3; i++) {
      expect(limiter.retryAfterMs('198.51.100.7')).toBe(0);
      limiter.recordFailure('198.51.100.7');
      advance(1000);
    }
    // Three failures at t = 0, 1, 2 s: the window opened at 0 and ends at 60 s; now is 3 s.
    expect(limiter.retryAfterMs('198.51.100.7')).toBe(57_000);
    advance(56_999);
    expect(limiter.retryAfterMs('198.51.100.7')).toBe(1);
    advance(1);
    expect(limiter.retryAfterMs('198.51.100.7')).toBe(0);
  });

  it('starts a fresh window after one ends, so old failures stop counting', () => {
    const { limiter, advance } = limiterAt({ maxFailures: 2, windowMs: 10_000 });
    limiter.recordFailure('a');
    advance(10_000);
    limiter.recordFailure('a');
    expect(limiter.retryAfterMs('a')).toBe(0);
    limiter.recordFailure('a');
    expect(limiter.retryAfterMs('a')).toBe(10_000);
  });

  it('counts each address on its own', () => {
    const { limiter } = limiterAt({ maxFailures: 1, windowMs: 10_000 });
    limiter.recordFailure('a');
    expect(limiter.retryAfterMs('a')).toBe(10_000);
    expect(limiter.retryAfterMs('b')).toBe(0);
  });

  it('does nothing when maxFailures is 0', () => {
    const { limiter } = limiterAt({ maxFailures: 0, windowMs: 10_000 });
    for (let i = 0; i < 100; i++) limiter.recordFailure('a');
    expect(limiter.retryAfterMs('a')).toBe(0);
    expect(limiter.trackedAddresses).toBe(0);
  });

  it('tracks a bounded number of addresses: expired windows go first, then the oldest', () => {
    const { limiter, advance } = limiterAt({ maxFailures: 1, windowMs: 10_000, maxTrackedAddresses: 3 });
    limiter.recordFailure('old');
    advance(10_000);
    limiter.recordFailure('a');
    limiter.recordFailure('b');
    limiter.recordFailure('c');
    expect(limiter.trackedAddresses).toBe(3);
    // 'old' expired and made room for 'c'; the next newcomer evicts 'a', the oldest live window.
    limiter.recordFailure('d');
    expect(limiter.trackedAddresses).toBe(3);
    expect(limiter.retryAfterMs('a')).toBe(0);
    for (const address of ['b', 'c', 'd']) expect(limiter.retryAfterMs(address)).toBeGreaterThan(0);
  });
});

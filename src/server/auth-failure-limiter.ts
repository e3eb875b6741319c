// Counts failed authentications per client address in fixed windows (in this process; with Redis,
// shared-auth-failure-limiter.ts adds the cluster-wide count): once an address has made
// `maxFailures` within `windowMs` of its first, it is refused until that window ends. Both
// methods are synchronous on purpose: the caller checks, verifies the key and records the failure
// without yielding, so concurrent guesses from one address cannot all slip past the check before
// the first failure is counted (an async store, e.g. a rate-limiter library's, would allow that).

export interface AuthFailureLimiterOptions {
  /** Failures allowed per window; 0 turns the limiter off. */
  maxFailures: number;
  windowMs: number;
  /** Addresses tracked at once; past it, expired windows are dropped, then the oldest. */
  maxTrackedAddresses?: number;
  /** Clock in ms (tests pass their own). */
  now?: () => number;
}

export interface AuthFailureLimiter {
  /** Milliseconds until `address` may try again; 0 when it may now. */
  retryAfterMs(address: string): number;
  recordFailure(address: string): void;
  /** Addresses currently tracked (bounded by maxTrackedAddresses). */
  readonly trackedAddresses: number;
}

interface Window {
  failures: number;
  endsAt: number;
}

const DEFAULT_MAX_TRACKED = 100_000;

export function createAuthFailureLimiter(options: AuthFailureLimiterOptions): AuthFailureLimiter {
  const { maxFailures, windowMs, maxTrackedAddresses = DEFAULT_MAX_TRACKED, now = Date.now } = options;
  // Insertion order is window-start order, which makes the first entry the oldest.
  const windows = new Map<string, Window>();

  const current = (address: string, at: number): Window | undefined => {
    const window = windows.get(address);
    if (window && window.endsAt <= at) {
      windows.delete(address);
      return undefined;
    }
    return window;
  };

  const makeRoom = (at: number): void => {
    for (const [address, window] of windows) {
      if (window.endsAt <= at) windows.delete(address);
    }
    while (windows.size >= maxTrackedAddresses) {
      const oldest = windows.keys().next().value as string;
      windows.delete(oldest);
    }
  };

  return {
    retryAfterMs(address) {
      if (maxFailures === 0) return 0;
      const at = now();
      const window = current(address, at);
      return window && window.failures >= maxFailures ? window.endsAt - at : 0;
    },
    recordFailure(address) {
      if (maxFailures === 0) return;
      const at = now();
      const window = current(address, at);
      if (window) {
        window.failures += 1;
        return;
      }
      if (windows.size >= maxTrackedAddresses) makeRoom(at);
      windows.set(address, { failures: 1, endsAt: at + windowMs });
    },
    get trackedAddresses() {
      return windows.size;
    },
  };
}

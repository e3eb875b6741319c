// Waits for a state that another replica, process or thread reaches in its own time: tests poll
// what they can observe instead of sleeping a fixed while.

export interface EventuallyOptions {
  /** How long to wait before failing; generous, since only a failing test waits it out. */
  timeoutMs?: number;
  intervalMs?: number;
}

/** Reads until `done` accepts the value, and returns it; fails naming `what` and the last value. */
export async function eventually<T>(
  read: () => Promise<T> | T,
  done: (value: T) => boolean,
  what: string,
  { timeoutMs = 30_000, intervalMs = 10 }: EventuallyOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)?.slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

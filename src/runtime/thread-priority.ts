// Lowers the scheduling priority of the calling thread (its Linux nice value), so that background
// work such as k-means training leaves the cores to the threads that answer queries when they
// are contended, and still takes a whole core when they are not.
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** The calling thread's id (Linux: /proc/thread-self names it), or null where there is none. */
export function currentThreadId(): number | null {
  try {
    const match = /task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/**
 * Sets the calling thread's nice value (on Linux setpriority takes a thread id, and only that
 * thread changes). False where there are no thread ids or the system refused.
 */
export function lowerThreadPriority(nice: number): boolean {
  const thread = currentThreadId();
  if (thread === null) return false;
  try {
    setPriority(thread, nice);
    return true;
  } catch {
    return false;
  }
}

// Lap timings of an index open, for benchmarks: with CIPHERDEX_OPEN_LAPS set, each open prints
// where its time went (wall ms per step) to stderr; otherwise every call is a no-op. On Linux each
// lap also shows the CPU time of the calling thread (/proc/thread-self/schedstat), which, unlike
// wall time, barely moves when other processes share the cores.

import { readFileSync } from 'node:fs';

const enabled = process.env.CIPHERDEX_OPEN_LAPS !== undefined && process.env.CIPHERDEX_OPEN_LAPS !== '' && process.env.CIPHERDEX_OPEN_LAPS !== '0';

/** Nanoseconds this thread has run on a CPU, or null where the kernel does not say. */
function threadCpuNs(): number | null {
  return schedstat(0);
}

/** Nanoseconds this thread has waited, ready to run, for a CPU (taken by other threads or processes). */
function threadWaitNs(): number | null {
  return schedstat(1);
}

function schedstat(field: number): number | null {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[field]);
  } catch {
    return null;
  }
}

export class OpenLaps {
  readonly #label: string;
  readonly #laps: string[] = [];
  #last = enabled ? performance.now() : 0;
  #lastCpu = enabled ? threadCpuNs() : null;
  readonly #started = this.#last;
  readonly #startedCpu = this.#lastCpu;
  readonly #startedWait = enabled ? threadWaitNs() : null;

  constructor(label: string) {
    this.#label = label;
  }

  /** Ends the step named `step` (the time since the previous lap, or since construction). */
  lap(step: string): void {
    if (!enabled) return;
    const now = performance.now();
    const cpu = threadCpuNs();
    const cpuMs = cpu === null || this.#lastCpu === null ? '' : `/${((cpu - this.#lastCpu) / 1e6).toFixed(0)}`;
    this.#laps.push(`${step} ${(now - this.#last).toFixed(0)}${cpuMs}`);
    this.#last = now;
    this.#lastCpu = cpu;
  }

  /** Prints the laps and their total (wall ms, then /CPU ms of this thread where known). */
  done(): void {
    if (!enabled) return;
    const cpu = threadCpuNs();
    const wait = threadWaitNs();
    const cpuMs =
      cpu === null || this.#startedCpu === null || wait === null || this.#startedWait === null
        ? ''
        : ` (this thread's CPU ${((cpu - this.#startedCpu) / 1e6).toFixed(0)} ms, waiting for a CPU ${((wait - this.#startedWait) / 1e6).toFixed(0)} ms)`;
    process.stderr.write(`[open laps] ${this.#label}: ${this.#laps.join(', ')}; total ${(performance.now() - this.#started).toFixed(0)} ms${cpuMs}\n`);
  }
}

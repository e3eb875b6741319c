// Lap timings of an index open, for benchmarks: with CIPHERDEX_OPEN_LAPS set, each open prints
// where its time went (wall ms per step) to stderr; otherwise every call is a no-op.

const enabled = process.env.CIPHERDEX_OPEN_LAPS !== undefined && process.env.CIPHERDEX_OPEN_LAPS !== '' && process.env.CIPHERDEX_OPEN_LAPS !== '0';

export class OpenLaps {
  readonly #label: string;
  readonly #laps: string[] = [];
  #last = enabled ? performance.now() : 0;
  readonly #started = this.#last;

  constructor(label: string) {
    this.#label = label;
  }

  /** Ends the step named `step` (the time since the previous lap, or since construction). */
  lap(step: string): void {
    if (!enabled) return;
    const now = performance.now();
    this.#laps.push(`${step} ${(now - this.#last).toFixed(0)}`);
    this.#last = now;
  }

  /** Prints the laps and their total. */
  done(): void {
    if (!enabled) return;
    process.stderr.write(`[open laps] ${this.#label}: ${this.#laps.join(', ')}; total ${(performance.now() - this.#started).toFixed(0)} ms\n`);
  }
}

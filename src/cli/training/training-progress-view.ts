// Live view of one training run on stderr: a redrawn bar on a terminal, one line per phase change
// or iteration otherwise (logs and CI keep every step, and tests can read them).

import cliProgress from 'cli-progress';
import { formatDuration, formatScientific, progressBarSize } from '../format.js';
import type { TrainingProgress } from '../api/operations.js';

const STEPS = 1000;
/** Columns for the phase, percentage and ETA around the bar ("ITERATING    [bar] 100% | ETA 12m 05s"). */
const RESERVED_COLUMNS = 30;

export class TrainingProgressView {
  private readonly bar: cliProgress.SingleBar | null;
  private started = false;
  private lastLine = '';

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.bar = stream.isTTY
      ? new cliProgress.SingleBar(
          {
            stream,
            // ETA right after the percentage: on a narrow terminal the line's tail is cut, not the ETA.
            format: '{phase} {bar} {percentage}% | ETA {etaText} | iteration {iteration}/{maxIters} | shift {shift} | inertia {inertia}',
            barsize: progressBarSize(stream.columns, RESERVED_COLUMNS),
            hideCursor: true,
            fps: 10,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
  }

  update(status: TrainingProgress): void {
    const payload = {
      phase: status.phase.padEnd(12),
      iteration: status.iteration,
      maxIters: status.maxIters,
      shift: formatScientific(status.shift),
      inertia: formatScientific(status.inertia),
      etaText: status.phase === 'COMPLETED' ? '0s' : formatDuration(status.etaMs),
    };
    const value = Math.round(Math.min(1, Math.max(0, status.progress)) * STEPS);
    if (this.bar) {
      if (!this.started) this.bar.start(STEPS, value, payload);
      else this.bar.update(value, payload);
      this.started = true;
      return;
    }
    const line =
      `${status.phase} ${Math.round(status.progress * 100)}% iteration ${status.iteration}/${status.maxIters}` +
      ` shift ${payload.shift} inertia ${payload.inertia} ETA ${payload.etaText}`;
    // Status events repeat when nothing visible changed (e.g. a re-sent snapshot); print each state once.
    if (line !== this.lastLine) this.stream.write(`[${formatDuration(status.elapsedMs).padStart(7)}] ${line}\n`);
    this.lastLine = line;
  }

  /** Leaves the bar's last state on screen; safe to call more than once. */
  stop(): void {
    if (this.bar && this.started) this.bar.stop();
    this.started = false;
  }
}

// The progress bar of `cipherdex import` on stderr: share of the file done, records, items/s and ETA.
// Progress is measured in bytes, which every format knows up front (JSON Lines has no row count).

import cliProgress from 'cli-progress';
import { formatCount, formatDuration, progressBarSize } from '../format.js';
import type { ReadPosition, VectorFile } from '../vector-files/vector-file.js';

/** Columns for the percentage and ETA after the bar (" 100% | ETA 12m 05s"). */
const RESERVED_COLUMNS = 20;

export class ImportProgress {
  private readonly bar: cliProgress.SingleBar;
  private readonly startedAt = Date.now();
  private readonly startRecord: number;
  private readonly startByte: number;
  private readonly endByte: number;

  constructor(
    private readonly file: VectorFile,
    from: ReadPosition,
    stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.startRecord = from.record;
    this.startByte = from.byte;
    this.endByte = file.byteLength;
    this.bar = new cliProgress.SingleBar(
      {
        stream,
        // ETA right after the percentage: on a narrow terminal the line's tail is cut, not the ETA.
        format: '{bar} {percentage}% | ETA {etaText} | {records} records | {rate} items/s',
        barsize: progressBarSize(stream.columns, RESERVED_COLUMNS),
        // Cleared when it stops: an import that fails leaves its error on a clean line, one that
        // succeeds its summary, and never a half-drawn bar above either.
        clearOnComplete: true,
        hideCursor: true,
        // When stderr is a file or a pipe (CI logs), print a plain line every few seconds instead.
        noTTYOutput: true,
        notTTYSchedule: 5000,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(Math.max(1, this.endByte - file.start.byte), from.byte - file.start.byte, this.payload(from));
  }

  /** Items per second since this run started (records from a previous run are not counted). */
  rate(position: ReadPosition): number {
    const seconds = (Date.now() - this.startedAt) / 1000;
    return seconds > 0 ? (position.record - this.startRecord) / seconds : 0;
  }

  update(position: ReadPosition): void {
    this.bar.update(position.byte - this.file.start.byte, this.payload(position));
  }

  stop(): void {
    this.bar.stop();
  }

  private payload(position: ReadPosition): Record<string, string> {
    const elapsed = Date.now() - this.startedAt;
    const bytesDone = position.byte - this.startByte;
    const bytesLeft = this.endByte - position.byte;
    const eta = bytesDone > 0 && elapsed > 0 ? (bytesLeft * elapsed) / bytesDone : null;
    const total = this.file.recordCount === null ? '' : `/${formatCount(this.file.recordCount)}`;
    return {
      records: `${formatCount(position.record)}${total}`,
      rate: formatCount(this.rate(position)),
      etaText: bytesLeft === 0 ? '0s' : formatDuration(eta),
    };
  }
}

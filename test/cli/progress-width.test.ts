// The progress lines of `train --follow` and `import` on an 80-column terminal: the bar shrinks so
// the line fits, and the ETA comes right after the percentage, so it is on screen. An import bar
// is cleared when it stops, so no half-drawn bar stays above an error or the summary.

import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { progressBarSize } from '../../src/cli/format.js';
import { ImportProgress } from '../../src/cli/import/import-progress.js';
import { TrainingProgressView } from '../../src/cli/training/training-progress-view.js';
import type { VectorFile } from '../../src/cli/vector-files/vector-file.js';

/** A stream that says it is an 80-column terminal and keeps what is written to it. */
function terminal(columns: number): { stream: NodeJS.WriteStream; text: () => string } {
  const stream = Object.assign(new PassThrough(), { isTTY: true, columns, rows: 24 }) as unknown as NodeJS.WriteStream;
  let written = '';
  (stream as unknown as PassThrough).on('data', (chunk: Buffer) => (written += chunk.toString()));
  return { stream, text: () => written };
}

/** The frames a terminal would show: escape sequences removed, one entry per carriage return or newline. */
function frames(raw: string): string[] {
  // eslint-disable-next-line no-control-regex
  const plain = raw.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
  return plain.split(/[\r\n]/).filter((line) => line.trim() !== '');
}

describe('progress lines on a narrow terminal', () => {
  it('sizes the bar to the terminal', () => {
    expect(progressBarSize(undefined, 30)).toBe(40);
    expect(progressBarSize(200, 30)).toBe(40);
    expect(progressBarSize(80, 30)).toBe(40);
    expect(progressBarSize(60, 30)).toBe(29);
    expect(progressBarSize(40, 30)).toBe(10);
  });

  it('train --follow: the ETA is within the first 80 columns', async () => {
    const { stream, text } = terminal(80);
    const view = new TrainingProgressView(stream);
    view.update({
      phase: 'ITERATING', iteration: 1234, maxIters: 10000, progress: 0.1234, shift: 0.000123, inertia: 123456789.5, etaMs: 754_000, elapsedMs: 1000,
    } as Parameters<TrainingProgressView['update']>[0]);
    view.stop();
    await new Promise((resolve) => setImmediate(resolve));
    const shown = frames(text()).find((line) => line.includes('ITERATING'));
    expect(shown).toBeDefined();
    const eta = shown!.indexOf('ETA 12m 34s');
    expect(eta).toBeGreaterThan(0);
    expect(eta + 'ETA 12m 34s'.length).toBeLessThanOrEqual(80);
  });

  it('import: the ETA is within the first 80 columns, and the bar is cleared when it stops', async () => {
    const { stream, text } = terminal(80);
    const file = { start: { record: 0, byte: 0 }, byteLength: 1_000_000, recordCount: 250_000 } as unknown as VectorFile;
    const progress = new ImportProgress(file, file.start, stream);
    progress.update({ record: 123_456, byte: 493_824 });
    progress.stop();
    await new Promise((resolve) => setImmediate(resolve));
    const raw = text();
    const shown = frames(raw).find((line) => line.includes('records'));
    expect(shown).toBeDefined();
    const eta = shown!.indexOf('ETA ');
    expect(eta).toBeGreaterThan(0);
    expect(eta + 'ETA 0s'.length).toBeLessThanOrEqual(80);
    // Cleared, not left with a newline after it: the last thing written erases the line.
    expect(raw.endsWith('\u001b[2K') || raw.endsWith('\u001b[0K') || /\u001b\[[0-2]?K$/.test(raw)).toBe(true);
  });
});

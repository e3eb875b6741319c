// Human formatting of durations and wide-ranging numbers in the CLI's bars and summaries.
import { describe, expect, it } from 'vitest';
import { formatCount, formatDuration, formatScientific } from '../../src/cli/format.js';

describe('formatDuration', () => {
  it('picks the unit by size', () => {
    expect(formatDuration(950)).toBe('950ms');
    expect(formatDuration(12_340)).toBe('12.3s');
    expect(formatDuration(245_000)).toBe('4m 05s');
    expect(formatDuration(2 * 3_600_000 + 3 * 60_000)).toBe('2h 03m');
  });

  it('shows unknown durations as --', () => {
    expect(formatDuration(null)).toBe('--');
    expect(formatDuration(undefined)).toBe('--');
    expect(formatDuration(-1)).toBe('--');
    expect(formatDuration(Number.NaN)).toBe('--');
  });
});

describe('formatScientific', () => {
  it('keeps four significant digits in the readable range, exponents outside it', () => {
    expect(formatScientific(1200)).toBe('1200');
    expect(formatScientific(12.5)).toBe('12.5');
    expect(formatScientific(0.1002)).toBe('0.1002');
    expect(formatScientific(3)).toBe('3');
    expect(formatScientific(0.000123)).toBe('1.23e-4');
    expect(formatScientific(2_570_000)).toBe('2.57e+6');
    expect(formatScientific(0)).toBe('0');
    expect(formatScientific(null)).toBe('--');
  });
});

describe('formatCount', () => {
  it('groups thousands', () => {
    expect(formatCount(1_234_567)).toBe('1,234,567');
    expect(formatCount(12.6)).toBe('13');
  });
});

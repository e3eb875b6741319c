// Human formatting shared by the CLI's progress bars and summaries.

/** 950ms, 12.3s, 4m 05s, 2h 03m */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '--';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

/** Compact scientific form for quantities that span many orders of magnitude (shift, inertia). */
export function formatScientific(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '--';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  return magnitude >= 0.01 && magnitude < 1e6 ? trimZeros(value.toPrecision(4)) : value.toExponential(2);
}

/** Distances in one fixed form (six decimals), so a column of them lines up and compares by eye. */
export function formatDistance(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '--';
  return value.toFixed(6);
}

/**
 * Width of a progress bar that leaves `reserved` columns for the text around it on a terminal
 * `columns` wide (40 when the width is unknown, never under 10): the line then fits, and what
 * follows the bar first (percentage, ETA) is never cut off.
 */
export function progressBarSize(columns: number | undefined, reserved: number): number {
  if (columns === undefined || columns <= 0) return 40;
  return Math.max(10, Math.min(40, columns - reserved - 1));
}

export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** 12.50 -> 12.5, 3.000 -> 3; integers keep their zeros. */
function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}

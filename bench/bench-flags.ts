// Flag helpers shared by the benchmark sections: integer flags with a fallback, and --help.

/** A positive integer flag, or `fallback` when absent; anything else stops with the usage text. */
export function positiveIntFlag(raw: string | boolean | undefined, fallback: number, usage: string): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || !Number.isInteger(value) || value < 1) throw new Error(`expected a positive integer, got ${String(raw)}\n${usage}`);
  return value;
}

/** Prints the usage and exits when --help was given. */
export function exitWithUsageIfAsked(help: string | boolean | undefined, usage: string): void {
  if (help !== true) return;
  console.log(usage);
  process.exit(0);
}

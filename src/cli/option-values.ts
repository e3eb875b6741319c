// Checked conversions of flag values (node:util parseArgs hands back strings) into numbers and enums.

import { usageError } from './exit-codes.js';

export function requiredOption(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw usageError(`${flag} is required`);
  return value;
}

export function integerOption(value: string | undefined, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < min) throw usageError(`${flag} must be an integer >= ${min}, got "${value}"`);
  return number;
}

export function numberOption(value: string | undefined, flag: string, check: (n: number) => boolean, expected: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || !check(number)) throw usageError(`${flag} must be ${expected}, got "${value}"`);
  return number;
}

export function enumOption<T extends string>(value: string | undefined, flag: string, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  const match = allowed.find((option) => option.toLowerCase() === value.toLowerCase());
  if (match === undefined) throw usageError(`${flag} must be one of ${allowed.join(', ')}, got "${value}"`);
  return match;
}

// `cipherdex keygen`: prints a fresh random 32-byte index key, the secret that opens one index.

import { parseArgs } from 'node:util';
import { generateIndexKey } from '../../service/index.js';

export const keygenHelp = `Usage: cipherdex keygen [--hex]

Prints a fresh random 32-byte index key (base64 by default). Keep it safe: the server never
stores it, and an index cannot be opened without it.

  --hex    print the key as 64 hex characters instead of base64`;

export function keygen(args: string[], out: NodeJS.WritableStream = process.stdout): number {
  const { values } = parseArgs({ args, options: { hex: { type: 'boolean', default: false } }, strict: true });
  const key = generateIndexKey();
  out.write(`${key.toString(values.hex ? 'hex' : 'base64')}\n`);
  return 0;
}

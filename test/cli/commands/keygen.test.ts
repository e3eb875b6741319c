// `cipherdex keygen`: fresh 32-byte keys that the server's key parser accepts, through the npm bin.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { keygen } from '../../../src/cli/commands/keygen.js';
import { parseIndexKey } from '../../../src/crypto/index.js';

function capture(args: string[]): string {
  let text = '';
  keygen(args, { write: (chunk: string) => ((text += chunk), true) } as NodeJS.WritableStream);
  return text;
}

describe('cipherdex keygen', () => {
  it('prints a different 32-byte base64 key each time', () => {
    const keys = [capture([]), capture([])].map((line) => line.trim());
    for (const key of keys) {
      expect(key).toMatch(/^[A-Za-z0-9+/]{43}=$/);
      expect(parseIndexKey(key)).toHaveLength(32);
    }
    expect(keys[0]).not.toBe(keys[1]);
  });

  it('prints hex with --hex', () => {
    const key = capture(['--hex']).trim();
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(parseIndexKey(key).toString('hex')).toBe(key);
  });

  it('runs through the npm bin (bin/cipherdex.js)', () => {
    const bin = fileURLToPath(new URL('../../../bin/cipherdex.js', import.meta.url));
    const result = spawnSync(process.execPath, [bin, 'keygen'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(parseIndexKey(result.stdout.trim())).toHaveLength(32);
  });
});

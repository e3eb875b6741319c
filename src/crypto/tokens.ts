// Keyed lookup tokens (HMAC-SHA256) that let the store find a record without learning its id,
// and the constant-time comparison used wherever secrets or tags are compared.

import { createHmac, timingSafeEqual } from 'node:crypto';

export const TOKEN_BYTES = 32;

/**
 * HMAC-SHA256(key, len(domain) | domain | value). The length prefix keeps (domain, value) pairs
 * unambiguous: ("a", "bc") and ("ab", "c") never collide.
 */
export function computeToken(key: Buffer, domain: string, value: string): Buffer {
  const domainBytes = Buffer.from(domain, 'utf8');
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeUInt32BE(domainBytes.length, 0);
  return createHmac('sha256', key).update(prefix).update(domainBytes).update(value, 'utf8').digest();
}

/** Equal length and equal bytes, in time independent of where they differ. Lengths are not secret. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  return timingSafeEqual(a, b);
}

import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { addressKey, clientAddressResolver } from '../../src/server/client-address.js';

/** The two things proxy-addr reads from a request: the socket's peer and X-Forwarded-For. */
function request(remoteAddress: string | undefined, forwardedFor?: string): IncomingMessage {
  return { socket: { remoteAddress }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } } as unknown as IncomingMessage;
}

describe('addressKey', () => {
  it('keeps IPv4 as is and reads IPv4-mapped IPv6 as IPv4', () => {
    expect(addressKey('192.0.2.10')).toBe('192.0.2.10');
    expect(addressKey('::ffff:192.0.2.10')).toBe('192.0.2.10');
  });

  it('keys IPv6 by its /64, however it is written', () => {
    expect(addressKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002::ffff')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
  });
});

describe('clientAddressResolver', () => {
  it('uses the socket peer and ignores X-Forwarded-For when no proxy is trusted', () => {
    const addressOf = clientAddressResolver([]);
    expect(addressOf(request('192.0.2.10', '203.0.113.5'))).toBe('192.0.2.10');
  });

  it('behind a trusted proxy, takes the address the proxy appended, not what the client wrote before it', () => {
    const addressOf = clientAddressResolver(['loopback']);
    expect(addressOf(request('127.0.0.1', '203.0.113.5'))).toBe('203.0.113.5');
    // The client claimed 198.51.100.1; the proxy appended the address it really saw.
    expect(addressOf(request('127.0.0.1', '198.51.100.1, 203.0.113.5'))).toBe('203.0.113.5');
    // A request that did not come through the proxy cannot claim an address.
    expect(addressOf(request('192.0.2.10', '203.0.113.5'))).toBe('192.0.2.10');
  });

  it('accepts CIDR ranges and refuses nonsense at start-up', () => {
    expect(clientAddressResolver(['10.0.0.0/8'])(request('10.1.2.3', '2001:db8::7'))).toBe('2001:db8::/64');
    expect(() => clientAddressResolver(['not-an-address'])).toThrow();
  });

  it('keys a request whose socket has gone as unknown', () => {
    expect(clientAddressResolver([])(request(undefined))).toBe('unknown');
  });
});

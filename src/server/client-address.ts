// Which client a request comes from, as the key that failed authentications are counted under.
// It is the socket's peer, or, behind reverse proxies listed in TRUSTED_PROXIES, the address the
// nearest untrusted hop was seen from (proxy-addr, as Express resolves it; a client cannot forge
// its way past a proxy that appends to X-Forwarded-For). An IPv4-mapped IPv6 address counts as
// IPv4, and an IPv6 client counts by its /64: hosts are routinely given a whole /64, so counting
// single addresses would let one host rotate through 2^64 of them.

import type { IncomingMessage } from 'node:http';
import ipaddr from 'ipaddr.js';
import proxyAddr from 'proxy-addr';

export type ClientAddressOf = (request: IncomingMessage) => string;

/** The limiter key for an address: IPv4 as is, IPv6 as its /64 prefix, anything else verbatim. */
export function addressKey(address: string): string {
  if (!ipaddr.isValid(address)) return address;
  const parsed = ipaddr.process(address);
  if (!(parsed instanceof ipaddr.IPv6)) return parsed.toString();
  return `${new ipaddr.IPv6([...parsed.parts.slice(0, 4), 0, 0, 0, 0]).toString()}/64`;
}

/** Throws at start-up when TRUSTED_PROXIES holds something that is neither an address, a range nor a known name. */
export function clientAddressResolver(trustedProxies: readonly string[]): ClientAddressOf {
  const trust = proxyAddr.compile([...trustedProxies]);
  // A socket already gone has no address; such a request is answered by nobody anyway.
  return (request) => addressKey(proxyAddr(request, trust) ?? 'unknown');
}

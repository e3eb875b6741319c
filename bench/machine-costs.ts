// What this machine charges for the two things a served request cannot avoid and the engine
// benchmark never measures: a page of memory touched for the first time (the kernel maps and zeroes
// it) and a round trip over loopback HTTP. Both vary between virtual machines of the same kind, and
// between days on one of them, far more than CPU speed does (the load benchmark's latencies moved
// 2-2.5x between two sessions whose engine benchmarks agreed within 5%; on the slower one a fresh
// page cost 10-14 us): printed beside a load table, they say whether two tables can be compared.

import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MachineCosts {
  /** Microseconds to touch one fresh 4 KiB page (median of 5 allocations of 64 MiB). */
  freshPageUs: number;
  /** Microseconds for one small POST and its answer over a kept-alive loopback connection, client and server in this process. */
  loopbackRoundTripUs: number;
}

const PAGE = 4096;

function freshPageUs(): number {
  const times: number[] = [];
  for (let run = 0; run < 5; run++) {
    const started = performance.now();
    // Large enough that the allocator maps it fresh; each page is written once.
    const bytes = new Uint8Array(64 << 20);
    for (let at = 0; at < bytes.length; at += PAGE) bytes[at] = 1;
    times.push(((performance.now() - started) * 1000) / (bytes.length / PAGE));
  }
  return times.sort((a, b) => a - b)[2];
}

async function loopbackRoundTripUs(requests = 2000): Promise<number> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('{"data":{}}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const agent = new Agent({ keepAlive: true });
  const post = () =>
    new Promise<void>((resolve, reject) => {
      const sent = request({ host: '127.0.0.1', port, method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (response) => {
        response.resume();
        response.on('end', resolve);
      });
      sent.on('error', reject);
      sent.end('{"query":"{ health { status } }"}');
    });
  try {
    for (let i = 0; i < 200; i++) await post();
    const started = performance.now();
    for (let i = 0; i < requests; i++) await post();
    return ((performance.now() - started) * 1000) / requests;
  } finally {
    agent.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export async function measureMachineCosts(): Promise<MachineCosts> {
  return { freshPageUs: freshPageUs(), loopbackRoundTripUs: await loopbackRoundTripUs() };
}

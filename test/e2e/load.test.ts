// A small run of the load benchmark (bench/load.ts) as a test: a real server on loopback under
// concurrent searches, upserts and trainingStatus subscribers while an automatic training run
// happens. Asserts outcomes only (no errors, no lost or altered writes, the run completed and every
// subscriber saw it), never timings: the benchmark reports those.

import { existsSync } from 'node:fs';
import { expect, it } from 'vitest';
import { DEFAULT_LOAD, runLoad } from '../../bench/load.js';

// Closed loop: each client sends its next search when the last is answered. Open loop: searches
// arrive at a rate whatever the answers take.
it.each([
  { searches: 'closed-loop clients', searchClients: 4, searchRate: 0 },
  { searches: 'an open-loop stream', searchClients: 0, searchRate: 150 },
])('serves $searches, upserts and subscriptions through an automatic training run without errors or lost writes', async ({ searchClients, searchRate }) => {
  const lines: string[] = [];
  const report = await runLoad(
    {
      ...DEFAULT_LOAD,
      searchClients,
      searchRate,
      upsertClients: 3,
      subscribers: 6,
      upsertsPerClient: 12,
      batchSize: 40,
      preload: 600,
      // Crossed a third of the way into the clients' upserts, so most writes race the run.
      retrainThreshold: 1_100,
      dimension: 24,
      selfSearches: 60,
      timeLimitMs: 45_000,
    },
    (line) => lines.push(line),
  );
  const context = lines.join('\n');

  expect(report.timedOut, context).toBe(false);
  for (const operation of report.operations) {
    expect(operation.errors, `${operation.operation} errors\n${context}`).toBe(0);
    expect(operation.count, operation.operation).toBeGreaterThan(0);
  }
  expect(report.errorSamples).toEqual([]);
  const searches = report.operations.find((operation) => operation.operation === 'search')!;
  if (searchRate > 0) {
    // The stream kept its rate (a Poisson count over seconds is within a few tenths of it), and the
    // header says how searches were sent.
    expect(searches.perSecond, context).toBeGreaterThan(searchRate * 0.6);
    expect(searches.perSecond, context).toBeLessThan(searchRate * 1.4);
    expect(context).toContain(`searches arriving open-loop at ${searchRate}/s`);
  }

  expect(report.run, context).toMatchObject({ trigger: 'AUTOMATIC', phase: 'COMPLETED' });
  expect(report.run!.iterations).toBeGreaterThan(0);
  expect(report.subscribersSawRun).toBe(6);

  // Every acknowledged id is stored with the vector last acknowledged for it, and nothing else is.
  expect(report.acknowledgedItems).toBe(600 + 3 * 12 * 40);
  expect(report.storedItems).toBe(report.acknowledgedItems);
  expect(report.lostItems).toBe(0);
  expect(report.wrongVectors).toBe(0);
  expect(report.selfSearchMisses).toBe(0);

  // The machine's costs are measured, and printed beside the table.
  for (const cost of [report.machine.freshPageUs, report.machine.loopbackRoundTripUs]) expect(cost).toBeGreaterThan(0);
  expect(context).toMatch(/machine: a fresh 4 KiB page costs \d+\.\d\d us to touch, a loopback HTTP round trip \d+ us/);
  // So is the server's CPU over the load phase: its main thread served every request, so it ran.
  expect(report.serverLoop.mainThreadCpuMsPerS).toBeGreaterThan(0);
  expect(report.serverLoop.processCpuMsPerS).toBeGreaterThanOrEqual(report.serverLoop.mainThreadCpuMsPerS * 0.9);
  expect(context).toMatch(/server CPU: main thread \d+ ms\/s \(1,000 is saturated\) and waiting for a free core (\d+|NaN) ms\/s, whole process \d+ ms\/s/);
  if (existsSync('/proc/self/schedstat')) expect(report.serverLoop.mainThreadCpuWaitMsPerS).toBeGreaterThanOrEqual(0);
  // The server timed every search the clients sent, and its part of each (headers read to answer
  // sent) lies inside the client's latency, so each of its percentiles is at most the client's.
  const inServer = report.serverLoop.requests.search;
  expect(inServer.count).toBe(searches.count);
  expect(inServer.answeredP50Ms).toBeGreaterThan(0);
  expect(inServer.answeredP50Ms).toBeLessThanOrEqual(searches.p50Ms);
  expect(inServer.answeredP99Ms).toBeLessThanOrEqual(searches.p99Ms);
  expect(Number.isFinite(inServer.unreadP50Ms)).toBe(true);
  expect(context).toMatch(/search in the server's process: unread in its socket p50 -?\d+\.\d\d \/ p99 -?\d+\.\d\d ms, then answered in p50 \d+\.\d\d/);
});

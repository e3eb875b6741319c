// The server side of the load benchmark, in a process of its own so that the clients' work never
// shares its event loop: startServer on 127.0.0.1, port 0, settings from the environment. Over IPC
// it reports its URL, then on request how long its event loop was held up since the last request
// (the delay a request waits before the server even looks at it), how long each kind of request
// sat unread and then took to answer, and its heap.
import diagnosticsChannel from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { constants, monitorEventLoopDelay, performance, PerformanceObserver, type NodeGCPerformanceDetail } from 'node:perf_hooks';
import { loadConfig } from '../src/config.js';
import { startServer } from '../src/server/start-server.js';
import { percentile } from './bench-table.js';
import { OPERATION_HEADER, SENT_AT_HEADER } from './load-client.js';
import { mainThreadCpuMs, mainThreadCpuWaitMs } from './main-thread-cpu.js';

/** How one kind of request (by the field it asks for) spent its time in the server's process. */
export interface RequestTimes {
  count: number;
  /** From the client sending it to the server having read its headers: it sat in the socket while the event loop was busy. */
  unreadP50Ms: number;
  unreadP99Ms: number;
  /** From its headers read to its answer handed to the socket. */
  answeredP50Ms: number;
  answeredP99Ms: number;
}

export interface LoadServerStats {
  type: 'stats';
  loopDelayP50Ms: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** Garbage-collection pauses of the main thread since the last request: count, total, longest, and how many were major. */
  gcPauses: number;
  gcTotalMs: number;
  gcMaxMs: number;
  gcMajor: number;
  heapUsed: number;
  /**
   * CPU the main thread (the one that serves every request) and the whole process used since the
   * last request, in ms per second of wall time; main thread NaN where /proc is not there. A main
   * thread near 1,000 ms/s is saturated: then N closed-loop search clients wait about N searches'
   * worth of its time each (Little's law), whatever is done to split long tasks.
   */
  mainThreadCpuMsPerS: number;
  /** How long the main thread had work but no core, in ms per second of wall time; NaN where /proc has no schedstat. */
  mainThreadCpuWaitMsPerS: number;
  processCpuMsPerS: number;
  /** By operation field (search, upsert, ...): requests answered since the last request. */
  requests: Record<string, RequestTimes>;
}

export type LoadServerMessage = { type: 'listening'; url: string } | LoadServerStats;

const send = (message: LoadServerMessage): void => void process.send?.(message);
// The histogram records the whole interval between its 1 ms ticks; the hold-up is what exceeds 1 ms.
const RESOLUTION_MS = 1;
const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
delay.enable();
// What of the hold-ups garbage collection explains.
const gc = { pauses: 0, totalMs: 0, maxMs: 0, major: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gc.pauses++;
    gc.totalMs += entry.duration;
    gc.maxMs = Math.max(gc.maxMs, entry.duration);
    if (((entry as PerformanceEntry & { detail?: NodeGCPerformanceDetail }).detail)?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.major++;
  }
}).observe({ entryTypes: ['gc'] });

// Node's own HTTP diagnostics channels: no change to the server under test.
const readAt = new WeakMap<IncomingMessage, { operation: string; unreadMs: number; readMs: number }>();
const timings = new Map<string, { unread: number[]; answered: number[] }>();
diagnosticsChannel.subscribe('http.server.request.start', (message) => {
  const { request } = message as { request: IncomingMessage };
  const sentAt = Number(request.headers[SENT_AT_HEADER]);
  const operation = request.headers[OPERATION_HEADER];
  if (typeof operation !== 'string' || !Number.isFinite(sentAt)) return;
  const readMs = performance.now();
  readAt.set(request, { operation, unreadMs: performance.timeOrigin + readMs - sentAt, readMs });
});
diagnosticsChannel.subscribe('http.server.response.finish', (message) => {
  const { request } = message as { request: IncomingMessage };
  const read = readAt.get(request);
  if (read === undefined) return;
  const times = timings.get(read.operation) ?? { unread: [], answered: [] };
  timings.set(read.operation, times);
  times.unread.push(read.unreadMs);
  times.answered.push(performance.now() - read.readMs);
});
const requestTimes = (): Record<string, RequestTimes> =>
  Object.fromEntries([...timings].map(([operation, times]) => {
    const unread = times.unread.sort((a, b) => a - b);
    const answered = times.answered.sort((a, b) => a - b);
    return [operation, {
      count: unread.length,
      unreadP50Ms: percentile(unread, 0.5),
      unreadP99Ms: percentile(unread, 0.99),
      answeredP50Ms: percentile(answered, 0.5),
      answeredP99Ms: percentile(answered, 0.99),
    }];
  }));

const cpuNow = () => ({ wallMs: performance.now(), mainMs: mainThreadCpuMs() ?? Number.NaN, mainWaitMs: mainThreadCpuWaitMs() ?? Number.NaN, process: process.cpuUsage() });
let cpuFrom = cpuNow();

const server = await startServer(loadConfig(), { log: () => {} });
process.on('message', (message: { type?: string }) => {
  if (message.type === 'stats') {
    const ms = (ns: number) => Math.max(0, ns / 1e6 - RESOLUTION_MS);
    const cpuTo = cpuNow();
    const seconds = (cpuTo.wallMs - cpuFrom.wallMs) / 1000;
    const processCpuUs = cpuTo.process.user + cpuTo.process.system - cpuFrom.process.user - cpuFrom.process.system;
    send({
      type: 'stats',
      loopDelayP50Ms: ms(delay.percentile(50)),
      loopDelayP99Ms: ms(delay.percentile(99)),
      loopDelayMaxMs: ms(delay.max),
      gcPauses: gc.pauses,
      gcTotalMs: gc.totalMs,
      gcMaxMs: gc.maxMs,
      gcMajor: gc.major,
      heapUsed: process.memoryUsage().heapUsed,
      mainThreadCpuMsPerS: (cpuTo.mainMs - cpuFrom.mainMs) / seconds,
      mainThreadCpuWaitMsPerS: (cpuTo.mainWaitMs - cpuFrom.mainWaitMs) / seconds,
      processCpuMsPerS: processCpuUs / 1000 / seconds,
      requests: requestTimes(),
    });
    timings.clear();
    cpuFrom = cpuTo;
    delay.reset();
    Object.assign(gc, { pauses: 0, totalMs: 0, maxMs: 0, major: 0 });
  } else if (message.type === 'close') {
    void server.close().then(() => process.exit(0));
  }
});
// The benchmark that started this process is gone: so is its server.
process.on('disconnect', () => process.exit(1));
send({ type: 'listening', url: server.url });

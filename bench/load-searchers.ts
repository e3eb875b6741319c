// The load benchmark's search clients, on a thread of their own: their latencies then hold the
// server's time and the network's, not the time their requests waited behind the upsert clients'
// work (encoding 500-vector bodies) on a shared event loop, as independent clients would see them.
import { parentPort, workerData } from 'node:worker_threads';
import { createRandom } from '../src/engine/random.js';
import { closeConnections, epochMs, graphqlBody, OPERATIONS, requestBody, toBase64, type SearchersData, type SearchersMessage } from './load-client.js';

async function main(): Promise<void> {
  const data = workerData as SearchersData;
  const port = parentPort;
  if (port === null) throw new Error('load-searchers runs as a worker thread');
  let stopped = false;
  port.on('message', (message: SearchersMessage) => {
    if (message.type === 'stop') stopped = true;
  });
  const samples: { endEpochMs: number; latencyMs: number }[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  const rows = data.queries.length / data.dimension;
  // Encoded once: a client encoding each request spends the server's CPU on this machine.
  const bodies = Array.from({ length: rows }, (_, row) =>
    requestBody(OPERATIONS.search, { index: data.index, key: data.key, vector: toBase64(data.queries.subarray(row * data.dimension, (row + 1) * data.dimension)), topK: data.topK }));
  const search = async (body: string): Promise<void> => {
    const begin = performance.now();
    try {
      await graphqlBody(data.url, data.apiKey, body, 'search', 'SearchResults');
      const end = performance.now();
      samples.push({ endEpochMs: epochMs(end), latencyMs: end - begin });
    } catch (error) {
      errors++;
      if (errorSamples.length < 10) errorSamples.push(`search: ${error instanceof Error ? error.message : JSON.stringify(error)}`);
    }
  };
  const startEpochMs = epochMs(performance.now());
  if (data.rate > 0) {
    // Open loop: searches arrive as a Poisson stream whatever the answers take, as independent users'
    // do; a closed-loop client instead waits for its answer, so its latency is mostly the queue of
    // the other clients' searches on a saturated server (Little's law), not what one search costs.
    const random = createRandom(17);
    const inFlight = new Set<Promise<void>>();
    let dueMs = performance.now();
    for (let op = 0; !stopped; op++) {
      dueMs += (-Math.log(1 - random()) / data.rate) * 1000;
      const waitMs = dueMs - performance.now();
      // Behind schedule, still one turn of the event loop: answers and the stop message get in.
      await new Promise((resolve) => (waitMs > 0 ? setTimeout(resolve, waitMs) : setImmediate(resolve)));
      const request = search(bodies[op % rows]).finally(() => inFlight.delete(request));
      inFlight.add(request);
    }
    await Promise.all(inFlight);
  } else {
    const searcher = async (client: number): Promise<void> => {
      for (let op = 0; !stopped; op++) await search(bodies[(client * 31 + op) % rows]);
    };
    await Promise.all(Array.from({ length: data.clients }, (_, c) => searcher(c)));
  }
  closeConnections();
  port.postMessage({ type: 'done', startEpochMs, samples, errors, errorSamples } satisfies SearchersMessage);
}

await main();

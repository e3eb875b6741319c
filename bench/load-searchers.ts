// The load benchmark's search clients, on a thread of their own: their latencies then hold the
// server's time and the network's, not the time their requests waited behind the upsert clients'
// work (encoding 500-vector bodies) on a shared event loop, as independent clients would see them.
import { parentPort, workerData } from 'node:worker_threads';
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
  const searcher = async (client: number): Promise<void> => {
    for (let op = 0; !stopped; op++) {
      const begin = performance.now();
      try {
        await graphqlBody(data.url, data.apiKey, bodies[(client * 31 + op) % rows], 'search', 'SearchResults');
        const end = performance.now();
        samples.push({ endEpochMs: epochMs(end), latencyMs: end - begin });
      } catch (error) {
        errors++;
        if (errorSamples.length < 10) errorSamples.push(`search: ${error instanceof Error ? error.message : JSON.stringify(error)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: data.clients }, (_, c) => searcher(c)));
  closeConnections();
  port.postMessage({ type: 'done', samples, errors, errorSamples } satisfies SearchersMessage);
}

await main();

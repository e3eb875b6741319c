// The SQLite writer thread: owns the one connection of the store and runs the Store calls the main
// thread sends, in arrival order, so that commits (and their fsyncs) never hold up the main
// thread's event loop. Calls that arrive together are group-committed by SqliteStore itself.

import { parentPort, workerData } from 'node:worker_threads';
import { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
import type { StoredItem } from './store.js';
import { isPackedItems, movableBuffers, reviveBuffers, serializeError, unpackItems, type WriterReply, type WriterRequest, type WriterStart } from './sqlite-writer-protocol.js';

const port = parentPort!;
const { file, options } = workerData as { file: string; options: SqliteStoreOptions };
const reply = (message: WriterReply, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

/**
 * Methods whose replies are fresh reads nothing here keeps: their large blobs move rather than
 * copy. A segment set is hundreds of MiB; an index's row holds its sealed model, whose per-item
 * assignments make it 43 MB at 1,000,000 items, and copying it cost about 0.28 s of every open.
 */
const MOVED_REPLIES: ReadonlySet<string> = new Set(['readSegments', 'getIndex']);

let store: SqliteStore;
try {
  store = await SqliteStore.open(file, options);
  port.postMessage({ ok: true } satisfies WriterStart);
} catch (error) {
  port.postMessage({ ok: false, error: serializeError(error) } satisfies WriterStart);
  process.exit(0);
}

const scans = new Map<number, AsyncIterator<StoredItem[]>>();
let nextScan = 1;

async function handle(request: WriterRequest): Promise<unknown> {
  switch (request.method) {
    case 'scanOpen': {
      const scan = nextScan++;
      scans.set(scan, store.scanItems(...request.args)[Symbol.asyncIterator]());
      return scan;
    }
    case 'scanNext': {
      const result = await scans.get(request.scan)!.next();
      if (result.done === true) scans.delete(request.scan);
      return result.done === true ? null : result.value;
    }
    case 'scanReturn':
      await scans.get(request.scan)?.return?.();
      scans.delete(request.scan);
      return null;
    default: {
      const method = store[request.method] as (...args: unknown[]) => Promise<unknown>;
      return method.apply(store, request.args.map((arg) => (isPackedItems(arg) ? unpackItems(arg) : reviveBuffers(arg))));
    }
  }
}

port.on('message', (request: WriterRequest) => {
  handle(request).then(
    (value) => reply({ id: request.id, ok: true, value }, MOVED_REPLIES.has(request.method) ? movableBuffers(value) : []),
    (error: unknown) => reply({ id: request.id, ok: false, error: serializeError(error) }),
  );
});

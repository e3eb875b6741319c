// Worker threads that seal upsert batches off the main thread. Sealing (a token, the codec and
// AES-GCM per item) is most of an upsert's CPU time; doing it on other cores raises throughput and
// keeps the main thread free to answer searches meanwhile.
//
// Workers start on first use and hold, per open index, a cipher derived from its data key. The
// pool keeps a copy of each registered data key (wiped on unregister) so a worker started later,
// or restarted after a crash, can be given it.

import type { Worker } from 'node:worker_threads';
import { spawnSiblingWorker } from '../../runtime/spawn-worker.js';
import { TOKEN_BYTES } from '../../crypto/index.js';
import type { SealWorkerRequest, SealWorkerResponse, SealableItem } from './seal-worker-protocol.js';

export interface SealedBatch {
  tokens: Buffer[];
  sealed: Buffer[];
}

interface Pending {
  resolve(batch: SealedBatch): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  /** Handles this worker has been given the key of. */
  registered: Set<number>;
  pending: Map<number, Pending>;
}

export class SealWorkers {
  /** Worker threads used at most; 0 seals everything on the calling thread. */
  readonly size: number;
  readonly #slots: (Slot | null)[];
  readonly #keys = new Map<number, { index: string; dataKey: Buffer }>();
  #sealedItems = 0;
  #nextHandle = 1;
  #nextJob = 1;
  #nextSlot = 0;
  #closed = false;

  constructor(size: number) {
    this.size = Math.max(0, Math.floor(size));
    this.#slots = new Array<Slot | null>(this.size).fill(null);
  }

  /** Items the workers have sealed so far (for metrics and tests). */
  get sealedItems(): number {
    return this.#sealedItems;
  }

  /** Makes an index sealable by the workers; returns the handle to seal and unregister with. */
  register(index: string, dataKey: Buffer): number {
    const handle = this.#nextHandle++;
    if (this.size > 0) this.#keys.set(handle, { index, dataKey: Buffer.from(dataKey) });
    return handle;
  }

  unregister(handle: number): void {
    const entry = this.#keys.get(handle);
    if (!entry) return;
    entry.dataKey.fill(0);
    this.#keys.delete(handle);
    for (const slot of this.#slots) {
      if (slot?.registered.delete(handle)) slot.worker.postMessage({ type: 'unregister', handle } satisfies SealWorkerRequest);
    }
  }

  /** Tokens and sealed records for `items`, computed by a worker (rejects if it fails or dies). */
  seal(handle: number, items: SealableItem[], revisions: Uint32Array, bucket = 0): Promise<SealedBatch> {
    const entry = this.#keys.get(handle);
    if (this.#closed || this.size === 0 || !entry) return Promise.reject(new Error('sealing workers are not available for this index'));
    const slot = this.#slot();
    if (!slot.registered.has(handle)) {
      // A copy: posting transfers nothing, and the worker wipes what it receives.
      slot.worker.postMessage({ type: 'register', handle, index: entry.index, dataKey: new Uint8Array(entry.dataKey) } satisfies SealWorkerRequest);
      slot.registered.add(handle);
    }
    const job = this.#nextJob++;
    return new Promise<SealedBatch>((resolve, reject) => {
      slot.pending.set(job, { resolve, reject });
      slot.worker.postMessage({ type: 'seal', job, handle, items, revisions, bucket } satisfies SealWorkerRequest);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const handle of [...this.#keys.keys()]) this.unregister(handle);
    await Promise.all(this.#slots.map((slot) => slot?.worker.terminate()));
    this.#slots.fill(null);
  }

  /** Round robin over the workers, starting one where there is none (or it died). */
  #slot(): Slot {
    const at = this.#nextSlot;
    this.#nextSlot = (at + 1) % this.size;
    const existing = this.#slots[at];
    if (existing) return existing;
    const slot: Slot = { worker: spawnSiblingWorker(import.meta.url, 'seal-worker'), registered: new Set(), pending: new Map() };
    // An idle pool must not keep the process alive.
    slot.worker.unref();
    const fail = (error: Error): void => {
      if (this.#slots[at] === slot) this.#slots[at] = null;
      for (const pending of slot.pending.values()) pending.reject(error);
      slot.pending.clear();
    };
    slot.worker.on('message', (response: SealWorkerResponse) => {
      const pending = slot.pending.get(response.job);
      if (!pending) return;
      slot.pending.delete(response.job);
      if (response.type === 'failed') pending.reject(new Error(`sealing worker: ${response.message}`));
      else {
        this.#sealedItems += response.ends.length;
        pending.resolve(unpack(response));
      }
    });
    slot.worker.on('error', fail);
    slot.worker.on('exit', (code) => fail(new Error(`sealing worker exited with code ${code}`)));
    this.#slots[at] = slot;
    return slot;
  }
}

function unpack(response: Extract<SealWorkerResponse, { type: 'sealed' }>): SealedBatch {
  const tokenBytes = Buffer.from(response.tokens.buffer, response.tokens.byteOffset, response.tokens.byteLength);
  const sealedBytes = Buffer.from(response.sealed.buffer, response.sealed.byteOffset, response.sealed.byteLength);
  const n = response.ends.length;
  const tokens = new Array<Buffer>(n);
  const sealed = new Array<Buffer>(n);
  let start = 0;
  for (let i = 0; i < n; i++) {
    tokens[i] = tokenBytes.subarray(i * TOKEN_BYTES, (i + 1) * TOKEN_BYTES);
    sealed[i] = sealedBytes.subarray(start, response.ends[i]);
    start = response.ends[i];
  }
  return { tokens, sealed };
}

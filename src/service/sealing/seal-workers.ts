// Worker threads that seal upsert batches off the main thread. Sealing (a token, the codec and
// AES-GCM per item) is most of an upsert's CPU time; doing it on other cores raises throughput and
// keeps the main thread free to answer searches meanwhile.
//
// An open hands them pages of sealed item records to decrypt, decode and analyse (openPage), so
// the main thread only indexes what comes back, and a segment set's chunks to seal (transferred
// both ways), so writing a set costs the main thread only the snapshot and its stream.
//
// Workers start on first use and hold, per open index, a cipher derived from its data key. The
// pool keeps a copy of each registered data key (wiped on unregister) so a worker started later,
// or restarted after a crash, can be given it.

import type { Worker } from 'node:worker_threads';
import { spawnSiblingWorker } from '../../runtime/spawn-worker.js';
import { SealIntegrityError, TOKEN_BYTES } from '../../crypto/index.js';
import type { StoredItem } from '../../storage/index.js';
import { ItemFormatError } from '../records/item-codec.js';
import type { TextSearchConfig } from '../text/text-index.js';
import type { OpenedPage, SealWorkerRequest, SealWorkerResponse, SealableBatch, SealableItem } from './seal-worker-protocol.js';

export interface SealedBatch {
  tokens: Buffer[];
  sealed: Buffer[];
}

/** A page opened by a worker, with which term numbering its counted terms use. */
export interface OpenedPageOf extends OpenedPage {
  /** Identifies the worker (a restarted one numbers afresh): pages of one load and one numbering come back in order. */
  numbering: number;
}

interface Pending {
  settle(response: Exclude<SealWorkerResponse, { type: 'failed' }>): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  /** Unique per worker started. */
  serial: number;
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
  #openedItems = 0;
  #sealedSegments = 0;
  #nextHandle = 1;
  #nextJob = 1;
  #nextSlot = 0;
  #nextSerial = 1;
  #nextLoad = 1;
  #closed = false;

  constructor(size: number) {
    this.size = Math.max(0, Math.floor(size));
    this.#slots = new Array<Slot | null>(this.size).fill(null);
  }

  /** Items the workers have sealed so far (for metrics and tests). */
  get sealedItems(): number {
    return this.#sealedItems;
  }

  /** Item records the workers have opened for loads so far (for metrics and tests). */
  get openedItems(): number {
    return this.#openedItems;
  }

  /** Segments of segment sets the workers have sealed so far (for metrics and tests). */
  get sealedSegments(): number {
    return this.#sealedSegments;
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

  /** Tokens and sealed records for `items` (only the fields SealableItem names cross), computed by a worker (rejects if it fails or dies). */
  seal(handle: number, items: readonly SealableItem[], revisions: Uint32Array, bucket = 0): Promise<SealedBatch> {
    const dimension = items.length === 0 ? 0 : items[0].vector.length;
    const vectors = new Float32Array(items.length * dimension);
    items.forEach((item, i) => vectors.set(item.vector, i * dimension));
    const batch: SealableBatch = {
      ids: items.map((item) => item.id), vectors, contents: items.map((item) => item.contents), metadataJson: items.map((item) => item.metadataJson),
    };
    return this.#post(handle, (job) => ({ type: 'seal', job, handle, batch, revisions, bucket }), [vectors.buffer], (response) => {
      if (response.type !== 'sealed') throw new Error('sealing worker: unexpected response');
      this.#sealedItems += response.ends.length;
      return unpack(response);
    });
  }

  /**
   * Segment `segment` of set `setId` sealed by a worker. `plaintext`'s ArrayBuffer is transferred,
   * not copied: it must own it (segment-chunks.ts) and is unusable here afterwards, whether the
   * worker succeeds or not (the worker wipes it). Rejects when the worker fails or dies.
   */
  sealSegment(handle: number, setId: Buffer, segment: number, plaintext: Uint8Array): Promise<Buffer> {
    return this.#post(
      handle,
      (job) => ({ type: 'seal-segment', job, handle, setId: new Uint8Array(setId), segment, plaintext }),
      [plaintext.buffer as ArrayBuffer],
      (response) => {
        if (response.type !== 'sealed-segment') throw new Error('sealing worker: unexpected response');
        this.#sealedSegments++;
        return Buffer.from(response.sealed.buffer, response.sealed.byteOffset, response.sealed.byteLength);
      },
    );
  }

  /** A number for one open's pages (openPage), to end with endLoad. */
  beginLoad(): number {
    return this.#nextLoad++;
  }

  /**
   * `page` decrypted, decoded and (with `text`) analysed by a worker. Rejects with SealIntegrityError
   * when a record fails authentication, ItemFormatError when one does not decode, and another
   * error when the worker is unavailable or dies (the caller may then open the page itself).
   */
  openPage(handle: number, load: number, page: readonly StoredItem[], dimension: number, text: TextSearchConfig | null): Promise<OpenedPageOf> {
    const n = page.length;
    const tokens = new Uint8Array(n * TOKEN_BYTES);
    const ends = new Uint32Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      tokens.set(page[i].token, i * TOKEN_BYTES);
      total += page[i].sealed.length;
      ends[i] = total;
    }
    // One buffer for the page, transferred rather than copied again.
    const sealed = new Uint8Array(total);
    for (let i = 0; i < n; i++) sealed.set(page[i].sealed, i === 0 ? 0 : ends[i - 1]);
    let serial = 0;
    return this.#post(
      handle,
      (job, slot) => {
        serial = slot.serial;
        return { type: 'open', job, handle, load, dimension, text, tokens, sealed, ends };
      },
      [tokens.buffer, sealed.buffer, ends.buffer],
      (response) => {
        if (response.type !== 'opened') throw new Error('sealing worker: unexpected response');
        this.#openedItems += response.page.ids.length;
        return { ...response.page, numbering: serial };
      },
    );
  }

  /** Lets the workers drop what they kept for `load` (its term numbering). */
  endLoad(load: number): void {
    for (const slot of this.#slots) slot?.worker.postMessage({ type: 'end-load', load } satisfies SealWorkerRequest);
  }

  #post<T>(
    handle: number,
    request: (job: number, slot: Slot) => SealWorkerRequest,
    transfer: ArrayBuffer[],
    settle: (response: Exclude<SealWorkerResponse, { type: 'failed' }>) => T,
  ): Promise<T> {
    const entry = this.#keys.get(handle);
    if (this.#closed || this.size === 0 || !entry) return Promise.reject(new Error('sealing workers are not available for this index'));
    const slot = this.#slot();
    if (!slot.registered.has(handle)) {
      // A copy: posting transfers nothing, and the worker wipes what it receives.
      slot.worker.postMessage({ type: 'register', handle, index: entry.index, dataKey: new Uint8Array(entry.dataKey) } satisfies SealWorkerRequest);
      slot.registered.add(handle);
    }
    const job = this.#nextJob++;
    return new Promise<T>((resolve, reject) => {
      slot.pending.set(job, { settle: (response) => resolve(settle(response)), reject });
      slot.worker.postMessage(request(job, slot), transfer);
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
    const slot: Slot = { worker: spawnSiblingWorker(import.meta.url, 'seal-worker'), serial: this.#nextSerial++, registered: new Set(), pending: new Map() };
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
      if (response.type === 'failed') pending.reject(failureError(response));
      else {
        try {
          pending.settle(response);
        } catch (error) {
          pending.reject(error instanceof Error ? error : new Error(String(error)));
        }
      }
    });
    slot.worker.on('error', fail);
    slot.worker.on('exit', (code) => fail(new Error(`sealing worker exited with code ${code}`)));
    this.#slots[at] = slot;
    return slot;
  }
}

/** The error a worker's failure stands for: record errors keep their type, so the open reports them as the main thread would. */
function failureError(response: Extract<SealWorkerResponse, { type: 'failed' }>): Error {
  if (response.failure === 'integrity') return new SealIntegrityError();
  if (response.failure === 'format') return new ItemFormatError(response.message);
  return new Error(`sealing worker: ${response.message}`);
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

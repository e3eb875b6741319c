// Entry point of a sealing worker thread: computes tokens and seals item records for the indexes
// registered with it, exactly as the main thread does (same codec, same associated data), and
// opens pages of records for an index being loaded (open-worker-page.ts) and seals the segments of
// its segment sets (segment-set-record.ts).

import { parentPort, type MessagePort } from 'node:worker_threads';
import { IndexCipher, SealIntegrityError, TOKEN_BYTES } from '../../crypto/index.js';
import { itemAad } from '../records/associated-data.js';
import { ItemFormatError, encodeItem } from '../records/item-codec.js';
import { ITEM_TOKEN_DOMAIN } from '../records/item-token.js';
import { sealSegment } from '../segments/segment-set-record.js';
import { openPage, type LoadAnalysis } from './open-worker-page.js';
import type { OpenFailure, SealWorkerRequest, SealWorkerResponse } from './seal-worker-protocol.js';

if (!parentPort) throw new Error('seal-worker.ts runs only as a worker thread');
const port: MessagePort = parentPort;
const indexes = new Map<number, { index: string; cipher: IndexCipher }>();
/** Per open under way: its term numbering, until end-load (or its index is unregistered). */
const loads = new Map<number, LoadAnalysis>();

function seal(request: Extract<SealWorkerRequest, { type: 'seal' }>): SealWorkerResponse {
  const registered = indexes.get(request.handle);
  if (!registered) return { type: 'failed', job: request.job, message: `index handle ${request.handle} is not registered` };
  const { index, cipher } = registered;
  const { ids, vectors, contents, metadataJson } = request.batch;
  const n = ids.length;
  const dimension = n === 0 ? 0 : vectors.length / n;
  const tokens = new Uint8Array(n * TOKEN_BYTES);
  const parts: Buffer[] = [];
  const ends = new Uint32Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const token = cipher.token(ITEM_TOKEN_DOMAIN, ids[i]);
    tokens.set(token, i * TOKEN_BYTES);
    const item = { id: ids[i], vector: vectors.subarray(i * dimension, (i + 1) * dimension), contents: contents[i], metadataJson: metadataJson[i] };
    const sealed = cipher.seal(encodeItem(item, request.revisions[i], request.bucket), itemAad(index, token));
    parts.push(sealed);
    total += sealed.length;
    ends[i] = total;
  }
  // The plaintext vectors were moved here: wiped, not left for the collector.
  vectors.fill(0);
  // One buffer for the whole batch: transferred back, not copied item by item.
  const sealed = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    sealed.set(part, offset);
    offset += part.length;
  }
  return { type: 'sealed', job: request.job, tokens, sealed, ends };
}

function sealSegmentOf(request: Extract<SealWorkerRequest, { type: 'seal-segment' }>): SealWorkerResponse {
  const registered = indexes.get(request.handle);
  if (!registered) return { type: 'failed', job: request.job, message: `index handle ${request.handle} is not registered` };
  try {
    const sealed = sealSegment(registered.cipher, registered.index, Buffer.from(request.setId), request.segment, request.plaintext);
    // Only a buffer that owns its whole ArrayBuffer may be transferred (a pooled one shares it).
    const own = sealed.byteOffset === 0 && sealed.buffer.byteLength === sealed.length ? sealed : new Uint8Array(sealed);
    return { type: 'sealed-segment', job: request.job, sealed: own };
  } finally {
    request.plaintext.fill(0);
  }
}

/** The buffers of a response that move to the main thread instead of being copied. */
function transferables(response: SealWorkerResponse): ArrayBuffer[] {
  switch (response.type) {
    case 'sealed':
      return [response.tokens.buffer, response.sealed.buffer, response.ends.buffer] as ArrayBuffer[];
    case 'sealed-segment':
      return [response.sealed.buffer as ArrayBuffer];
    case 'opened': {
      const { page } = response;
      const buffers = [page.revisions.buffer, page.vectors.buffer];
      if (page.text !== null) buffers.push(page.text.ids.buffer, page.text.freqs.buffer, page.text.ends.buffer, page.text.lengths.buffer);
      return buffers as ArrayBuffer[];
    }
    default:
      return [];
  }
}

/** Posts what `work` answers for `job`, or the failure it threw (record errors classified, so the caller rethrows them as such). */
function answer(job: number, work: () => SealWorkerResponse): void {
  let response: SealWorkerResponse;
  try {
    response = work();
  } catch (error) {
    const failure: OpenFailure = error instanceof SealIntegrityError ? 'integrity' : error instanceof ItemFormatError ? 'format' : 'other';
    response = { type: 'failed', job, message: error instanceof Error ? error.message : String(error), failure };
  }
  port.postMessage(response, transferables(response));
}

port.on('message', (request: SealWorkerRequest) => {
  switch (request.type) {
    case 'register': {
      const dataKey = Buffer.from(request.dataKey);
      indexes.set(request.handle, { index: request.index, cipher: new IndexCipher(dataKey) });
      dataKey.fill(0);
      request.dataKey.fill(0);
      break;
    }
    case 'unregister':
      indexes.get(request.handle)?.cipher.destroy();
      indexes.delete(request.handle);
      for (const [load, analysis] of loads) if (analysis.handle === request.handle) loads.delete(load);
      break;
    case 'end-load':
      loads.delete(request.load);
      break;
    case 'open': {
      const registered = indexes.get(request.handle);
      if (!registered) {
        port.postMessage({ type: 'failed', job: request.job, message: `index handle ${request.handle} is not registered` } satisfies SealWorkerResponse);
        break;
      }
      answer(request.job, () => ({ type: 'opened', job: request.job, page: openPage(registered.index, registered.cipher, request, loads) }));
      break;
    }
    case 'seal-segment':
      answer(request.job, () => sealSegmentOf(request));
      break;
    case 'seal':
      answer(request.job, () => seal(request));
      break;
  }
});

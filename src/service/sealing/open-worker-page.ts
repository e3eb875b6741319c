// The worker side of an open's parallel decryption: opens a page of sealed item records with the
// index's cipher under the same associated data as the main thread, decodes them, and analyses
// their contents and text fields into counted terms (counted-terms.ts), so the main thread gets
// vectors, ids, revisions and metadata ready to index and never sees the contents at all.

import { TOKEN_BYTES, type IndexCipher } from '../../crypto/index.js';
import { itemAad } from '../records/associated-data.js';
import { ItemFormatError, decodeItem } from '../records/item-codec.js';
import { CountedTermsBuilder } from '../text/counted-terms.js';
import { DocumentTermCollector } from '../text/document-term-collector.js';
import type { JsonObject } from '../types.js';
import type { OpenedPage, SealWorkerRequest } from './seal-worker-protocol.js';

/** One open's analysis state in a worker: its term numbering and word memo, across its pages. */
export interface LoadAnalysis {
  handle: number;
  terms: CountedTermsBuilder;
  collector: DocumentTermCollector;
}

export function openPage(index: string, cipher: IndexCipher, request: Extract<SealWorkerRequest, { type: 'open' }>, loads: Map<number, LoadAnalysis>): OpenedPage {
  const { dimension, tokens, sealed, ends } = request;
  const n = ends.length;
  const tokenBytes = Buffer.from(tokens.buffer, tokens.byteOffset, tokens.byteLength);
  const sealedBytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  let analysis: LoadAnalysis | null = null;
  if (request.text !== null) {
    analysis = loads.get(request.load) ?? null;
    if (analysis === null) {
      const terms = new CountedTermsBuilder();
      analysis = { handle: request.handle, terms, collector: new DocumentTermCollector(request.text.textFields, request.text.textLanguage, terms) };
      loads.set(request.load, analysis);
    }
    analysis.terms.begin(n);
  }
  const ids = new Array<string>(n);
  const revisions = new Uint32Array(n);
  const vectors = new Float32Array(n * dimension);
  const metadata = new Array<JsonObject | null>(n);
  let start = 0;
  for (let i = 0; i < n; i++) {
    const token = tokenBytes.subarray(i * TOKEN_BYTES, (i + 1) * TOKEN_BYTES);
    const item = decodeItem(cipher.open(sealedBytes.subarray(start, ends[i]), itemAad(index, token)));
    start = ends[i];
    if (item.vector.length !== dimension) throw new ItemFormatError('item record vector does not have the index dimension');
    ids[i] = item.id;
    revisions[i] = item.revision;
    vectors.set(item.vector, i * dimension);
    metadata[i] = item.metadata;
    if (analysis !== null) {
      const count = analysis.collector.collect(item.contents, item.metadata);
      analysis.terms.addDocument(analysis.collector.ids, count);
    }
  }
  return { ids, revisions, vectors, metadata, text: analysis === null ? null : analysis.terms.finish() };
}

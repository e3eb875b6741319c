// A trained IVF model as a sealed record: the centroids and, for every item trained on, its list,
// keyed by the item's token and revision (engine slots are per process and mean nothing after a
// restart; the revision tells whether the item was replaced after training).
//
//   u8 format | u8 0 | u16 0 | u32 nLists | u32 dimension | u32 assignments | u32 trained vectors |
//   u32 info bytes | [format 2: u32 codec bytes] | f32 centroids (nLists x dimension) |
//   [format 2: the list codec's parameters] | u32 list per assignment |
//   u32 revision per assignment | 32-byte token per assignment |
//   info JSON (index name, and the run that trained it, so lastTrainingRun survives a restart)
//
// Format 2 is written; format 1 (no codec parameters: every IVF_FLAT model before them) still reads.

import { TOKEN_BYTES, type IndexCipher } from '../../crypto/index.js';
import { modelAad } from './associated-data.js';
import { withDates } from './training-run-record.js';
import type { TrainingRun } from '../types.js';
import { runToEnd } from '../../runtime/turns.js';

export interface ModelInfo {
  index: string;
  /** The run that produced the model, as it stood when the model was written (phase COMPLETED). */
  run: TrainingRun;
}

export interface TrainedModel {
  nLists: number;
  dimension: number;
  centroids: Float32Array;
  /** The list codec's trained parameters (SQ ranges, PQ codebooks); absent when the type has none. */
  codec?: Uint8Array;
  /** How many vectors the index held when this model was trained (drives automatic retraining). */
  trainedVectorCount: number;
  tokens: Buffer[];
  revisions: Uint32Array;
  lists: Uint32Array;
  info: ModelInfo;
}

const FORMAT = 2;
/** Header bytes by format. */
const HEADER_BYTES: Record<number, number> = { 1: 24, 2: 28 };

export function encodeModel(model: TrainedModel): Buffer {
  return runToEnd(encodeModelInSteps(model));
}

/** Tokens encodeModelInSteps copies between two steps (about a millisecond). */
const ENCODE_STEP_TOKENS = 16_384;

/** encodeModel in steps, for a caller serving requests in between (1 M items took 0.1-0.3 s in one). */
export function* encodeModelInSteps(model: TrainedModel): Generator<void, Buffer, undefined> {
  const count = model.tokens.length;
  if (model.lists.length !== count || model.revisions.length !== count) throw new RangeError('one list and one revision per token');
  const info = Buffer.from(JSON.stringify(model.info), 'utf8');
  const centroidBytes = model.centroids.byteLength;
  const codec = model.codec ?? new Uint8Array(0);
  const header = HEADER_BYTES[FORMAT];
  const out = Buffer.alloc(header + centroidBytes + codec.length + count * (8 + TOKEN_BYTES) + info.length);
  out.writeUInt8(FORMAT, 0);
  out.writeUInt32LE(model.nLists, 4);
  out.writeUInt32LE(model.dimension, 8);
  out.writeUInt32LE(count, 12);
  out.writeUInt32LE(model.trainedVectorCount, 16);
  out.writeUInt32LE(info.length, 20);
  out.writeUInt32LE(codec.length, 24);
  let offset = header;
  out.set(new Uint8Array(model.centroids.buffer, model.centroids.byteOffset, centroidBytes), offset);
  offset += centroidBytes;
  out.set(codec, offset);
  offset += codec.length;
  out.set(new Uint8Array(model.lists.buffer, model.lists.byteOffset, count * 4), offset);
  offset += count * 4;
  out.set(new Uint8Array(model.revisions.buffer, model.revisions.byteOffset, count * 4), offset);
  offset += count * 4;
  for (let i = 0; i < count; i++) {
    if (i > 0 && i % ENCODE_STEP_TOKENS === 0) yield;
    const token = model.tokens[i];
    if (token.length !== TOKEN_BYTES) throw new RangeError(`tokens are ${TOKEN_BYTES} bytes`);
    out.set(token, offset);
    offset += TOKEN_BYTES;
  }
  out.set(info, offset);
  return out;
}

export function decodeModel(bytes: Buffer): TrainedModel {
  const format = bytes.length > 0 ? bytes.readUInt8(0) : 0;
  const header = HEADER_BYTES[format];
  if (header === undefined || bytes.length < header) throw new Error('unknown model record format');
  const nLists = bytes.readUInt32LE(4);
  const dimension = bytes.readUInt32LE(8);
  const count = bytes.readUInt32LE(12);
  const trainedVectorCount = bytes.readUInt32LE(16);
  const infoBytes = bytes.readUInt32LE(20);
  const codecBytes = format >= 2 ? bytes.readUInt32LE(24) : 0;
  const centroidBytes = nLists * dimension * 4;
  if (bytes.length !== header + centroidBytes + codecBytes + count * (8 + TOKEN_BYTES) + infoBytes) {
    throw new Error('model record length does not match its header');
  }
  let offset = header;
  // Fresh aligned copies: decrypted bytes may sit at any offset of a pooled buffer.
  const centroids = new Float32Array(nLists * dimension);
  new Uint8Array(centroids.buffer).set(bytes.subarray(offset, offset + centroidBytes));
  offset += centroidBytes;
  const codec = codecBytes > 0 ? new Uint8Array(bytes.subarray(offset, offset + codecBytes)) : undefined;
  offset += codecBytes;
  const lists = new Uint32Array(count);
  new Uint8Array(lists.buffer).set(bytes.subarray(offset, offset + count * 4));
  offset += count * 4;
  const revisions = new Uint32Array(count);
  new Uint8Array(revisions.buffer).set(bytes.subarray(offset, offset + count * 4));
  offset += count * 4;
  const tokensAt = offset;
  offset += count * TOKEN_BYTES;
  const info = JSON.parse(bytes.toString('utf8', offset, offset + infoBytes)) as ModelInfo;
  // Dates travel as ISO strings in JSON.
  info.run = withDates(info.run);
  // The tokens (views into `bytes`) are made when first read: an open from a segment set never
  // reads them, and a million views cost it 0.1-0.3 s.
  let tokens: Buffer[] | null = null;
  return {
    nLists,
    dimension,
    centroids,
    ...(codec ? { codec } : {}),
    trainedVectorCount,
    get tokens(): Buffer[] {
      if (tokens === null) {
        tokens = new Array<Buffer>(count);
        for (let i = 0; i < count; i++) tokens[i] = bytes.subarray(tokensAt + i * TOKEN_BYTES, tokensAt + (i + 1) * TOKEN_BYTES);
      }
      return tokens;
    },
    revisions,
    lists,
    info,
  };
}

/** The model record, sealed at once (sealModelInSteps drives the same steps, for a thread that serves queries). */
export function sealModel(cipher: IndexCipher, model: TrainedModel): Buffer {
  return runToEnd(sealModelInSteps(cipher, model));
}

/** sealModel in steps of about a millisecond each (a training run seals it while serving queries). */
export function* sealModelInSteps(cipher: IndexCipher, model: TrainedModel): Generator<void, Buffer, undefined> {
  const bytes = yield* encodeModelInSteps(model);
  return yield* cipher.sealInSteps(bytes, modelAad(model.info.index));
}

/** Throws SealIntegrityError when altered or moved; an Error when it names another index. */
export function openModel(cipher: IndexCipher, index: string, sealed: Buffer): TrainedModel {
  const model = decodeModel(cipher.open(sealed, modelAad(index)));
  if (model.info.index !== index) throw new Error(`The model record of "${index}" names index "${model.info.index}".`);
  return model;
}

// The index commitment: a sealed record, kept beside the index row and rewritten in the same
// transaction as every write of items, that binds the exact set of live item records. It holds
// a write counter (seq), the number of live items and the keyed set hash (crypto/set-hash.ts)
// of the (token, GCM tag) pair of each live record. Every sealed record has a tag of its own
// (fresh nonce), so an older version of an item, a deleted item put back, a dropped item or an
// extra one all change the set and no longer match the sealed sum; records swapped between
// tokens already fail their own authentication (the token is in their associated data).
//
// What it cannot see: the whole index put back, commitment included, to an earlier state that
// was once real (see docs/security.md). Layout (40 bytes sealed as plaintext):
//   u8 format | 7 zero bytes | u64 seq | u64 count | 16-byte sum (four u32 limbs, little-endian)

import { TAG_BYTES } from '../../crypto/aes-gcm.js';
import { emptySetHash, type IndexCipher, type SetHashSum } from '../../crypto/index.js';
import { commitmentAad } from './associated-data.js';

const FORMAT = 1;
const PLAINTEXT_BYTES = 40;

export interface CommitmentState {
  /** Counts the writes of items since the commitment began (creation, or the upgrade). */
  seq: number;
  count: number;
  sum: SetHashSum;
}

export function emptyCommitment(): CommitmentState {
  return { seq: 0, count: 0, sum: emptySetHash() };
}

/** The GCM tag of a sealed record: what the commitment binds it by. */
export function sealTagOf(sealed: Buffer): Buffer {
  return sealed.subarray(sealed.length - TAG_BYTES);
}

export function sealCommitment(cipher: IndexCipher, index: string, state: CommitmentState): Buffer {
  const plain = Buffer.alloc(PLAINTEXT_BYTES);
  plain.writeUInt8(FORMAT, 0);
  plain.writeBigUInt64LE(BigInt(state.seq), 8);
  plain.writeBigUInt64LE(BigInt(state.count), 16);
  for (let limb = 0; limb < 4; limb++) plain.writeUInt32LE(state.sum[limb], 24 + limb * 4);
  return cipher.seal(plain, commitmentAad(index));
}

/** Throws SealIntegrityError when altered or moved, CommitmentFormatError when it does not parse. */
export function openCommitment(cipher: IndexCipher, index: string, sealed: Buffer): CommitmentState {
  const plain = cipher.open(sealed, commitmentAad(index));
  if (plain.length !== PLAINTEXT_BYTES || plain.readUInt8(0) !== FORMAT) throw new Error(`Index "${index}" has a commitment record of an unknown format.`);
  const sum = emptySetHash();
  for (let limb = 0; limb < 4; limb++) sum[limb] = plain.readUInt32LE(24 + limb * 4);
  return { seq: Number(plain.readBigUInt64LE(8)), count: Number(plain.readBigUInt64LE(16)), sum };
}

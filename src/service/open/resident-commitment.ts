// The index commitment as this process holds it for an open index: the keyed set hash of the
// (token, seal tag) pairs of the records in memory, kept up to date by every change applied to
// memory (own writes, loading, other replicas' writes), and the commitment counter this process
// last saw stored. Comparing it with the stored commitment is the check on open and after a
// replica catches up; the writer of SQLite (one process) computes the next commitment from it.

import { emptySetHash, setHashEquals, type IndexCipher, type SetHashSum } from '../../crypto/index.js';
import type { CommitmentState } from '../records/index-commitment.js';

/** What the commitment needs of a record: the token and the tag of its sealed bytes (latin1). */
export interface CommittedRecord {
  token: Buffer;
  sealTag: string;
}

export class ResidentCommitment {
  readonly sum: SetHashSum = emptySetHash();
  /** The stored commitment counter this memory was last known to match (or to have written). */
  seq = 0;
  /** The write of this process in flight (its store transaction may have committed): token (latin1) -> new seal tag, null for a delete. */
  inFlight: ReadonlyMap<string, string | null> | null = null;

  /**
   * The sum a write of this process already computed from memory (the one-process path): the
   * change applied next leaves the sum at this instead of computing it a second time.
   */
  precomputed: SetHashSum | null = null;

  /** Removes `removed` and adds `added` (records in memory before and after a change). */
  change(cipher: IndexCipher, removed: readonly CommittedRecord[], added: readonly CommittedRecord[]): void {
    if (this.precomputed !== null) {
      this.sum.set(this.precomputed);
      this.precomputed = null;
      return;
    }
    if (removed.length > 0) cipher.accumulateSet(this.sum, removed.map((r) => r.token), removed.map((r) => r.sealTag), -1);
    if (added.length > 0) cipher.accumulateSet(this.sum, added.map((r) => r.token), added.map((r) => r.sealTag), 1);
  }

  /**
   * Adds the (token, tag) pairs packed back to back in `tokens` and `tags` (as the store lists
   * them), those `select` marks 1: an open from a segment set adds the records it kept this way,
   * from the store's listing of exactly those pairs, instead of from one object per record.
   */
  addPacked(cipher: IndexCipher, tokens: Uint8Array, tags: Uint8Array, count: number, select: Uint8Array | null): void {
    cipher.accumulatePackedSet(this.sum, tokens, tags, count, select, 1);
  }

  /** Whether memory (`count` records) holds exactly the set `stored` commits to. */
  matches(stored: CommitmentState, count: number): boolean {
    return stored.count === count && setHashEquals(stored.sum, this.sum);
  }

  state(count: number): CommitmentState {
    return { seq: this.seq, count, sum: Uint32Array.from(this.sum) };
  }
}

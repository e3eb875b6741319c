// What several replicas sharing one store need beyond the Store contract: a per-index log of the
// records each write touched (so a replica can catch up on writes made elsewhere), and leases that
// let one replica at a time train a given index. Only PostgreSQL offers it; SQLite is one process.

export interface IndexHead {
  name: string;
  /** Counts the index's writes: each putItems statement and each deleteItems adds one. */
  changeSeq: number;
  /** Counts saved models (saveModel). */
  modelVersion: number;
  /** Counts re-wraps of the data key (key rotation): a replica re-reads the wrapping when it grows. */
  keyVersion: number;
  /** Tells an index from a later one created under the same name. */
  createdAt: Date;
}

/** One write, as the change log keeps it: which records it touched, not what they hold. */
export interface IndexChange {
  seq: number;
  /** The `origin` of the store instance that made the write. */
  origin: string;
  /** Tokens of the items written or deleted. */
  tokens: Buffer[];
}

export interface TrainingLease {
  index: string;
  runId: string;
  /** The `origin` of the store instance whose process runs the training. */
  owner: string;
  trigger: string;
}

/** A lease kept changing hands while it was being claimed: the store is busy with it; retry shortly. */
export class LeaseContendedError extends Error {
  constructor(readonly index: string) {
    super(`The training lease of index "${index}" kept changing hands; try again.`);
    this.name = 'LeaseContendedError';
  }
}

export type LeaseClaim = { claimed: true } | { claimed: false; holder: TrainingLease; expired: boolean };

export interface ReplicationStore {
  /** Random per opened store: marks the changes and the leases of this process. */
  readonly origin: string;
  /**
   * Names the database and schema this store writes to, the same for every process connected to
   * them (the cluster namespace is derived from it).
   */
  databaseIdentity(): Promise<string>;
  /** Heads of those of the named indexes that exist. */
  heads(names: readonly string[]): Promise<IndexHead[]>;
  /**
   * The index's head and its changes after `afterSeq`, oldest first; null when the index does
   * not exist. Changes older than what pruneChanges keeps are gone: a caller that finds the first
   * change later than afterSeq + 1 (or none while the head is ahead) has to reload instead.
   */
  changesSince(index: string, afterSeq: number): Promise<{ head: IndexHead; changes: IndexChange[] } | null>;
  /** Drops changes older than `olderThanMs`; returns how many. */
  pruneChanges(olderThanMs: number): Promise<number>;
  /**
   * Takes the index's training lease for `ttlMs` (measured on the database's clock) unless another
   * run holds it; an expired lease is not taken over here (reapExpiredLeases ends it first).
   */
  claimLease(lease: { index: string; runId: string; trigger: string }, ttlMs: number): Promise<LeaseClaim>;
  /** Extends a lease this process holds; false when it is no longer this run's. */
  renewLease(index: string, runId: string, ttlMs: number): Promise<boolean>;
  releaseLease(index: string, runId: string): Promise<void>;
  /**
   * Removes expired leases, except those of the runs in `keep` (runs this process still has, which
   * find out themselves that their lease lapsed), calling `announce` for each before its removal
   * commits: when announce (or the process) fails, the lease stays for a later sweep, so the end
   * of a run is announced at least once.
   */
  reapExpiredLeases(announce: (lease: TrainingLease) => Promise<void>, keep?: readonly string[]): Promise<TrainingLease[]>;
}

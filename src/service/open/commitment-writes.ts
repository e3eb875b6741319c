// Writes of items with the index commitment that goes with them (rollback protection): the next
// commitment is computed from the previous one and the seal tags of the records the write
// replaces or removes, sealed, and stored in the same transaction as the write, which the store
// refuses if another writer moved the commitment first. On SQLite (one process, writes of an
// index serialized by its write lock) memory is the previous state; with replicas sharing
// PostgreSQL the previous commitment and tags are read in the write's transaction with the index
// row locked, so every replica's writes chain onto the same commitment, one at a time.

import { SealIntegrityError } from '../../crypto/index.js';
import { StoreCommitmentConflictError, type CommitmentRule, type CommitmentUpdate, type Store } from '../../storage/index.js';
import { IntegrityError, StoreUnavailableError } from '../errors.js';
import { openCommitment, sealCommitment, type CommitmentState } from '../records/index-commitment.js';
import type { OpenIndex } from './open-index.js';

/** One item a write touches: its new sealed record's tag (latin1), or null when it is deleted. */
export interface CommitmentChange {
  id: string;
  token: Buffer;
  after: string | null;
}

/**
 * Runs `write` with the commitment that follows from `changes` (a token repeated: the last wins),
 * for the same transaction, then `apply` (the same change to memory) in the same synchronous step
 * as the commitment counter memory holds: a reader never sees the counter ahead of memory. While
 * the write is in flight its records count as the index's own (OpenIndex's read check).
 */
export async function writeWithCommitment<T>(
  store: Store,
  open: OpenIndex,
  changes: readonly CommitmentChange[],
  write: (commitment: CommitmentUpdate | CommitmentRule) => Promise<T>,
  /** Applies the change to memory; returns false when the store wrote nothing after all (an idempotent replay). */
  apply: (result: T) => boolean | void,
): Promise<T> {
  const byToken = new Map<string, CommitmentChange>();
  for (const change of changes) byToken.set(change.token.toString('latin1'), change);
  const unique = [...byToken.values()];
  let from = -1;
  let computed: CommitmentState | null = null;
  const next = (base: Base): CommitmentUpdate => {
    from = base.state.seq;
    computed = following(open, base, unique);
    return { expectedSeq: base.state.seq, sealed: sealCommitment(open.cipher, open.name, computed) };
  };
  const shared = store.replication !== undefined;
  open.commitment.inFlight = new Map(unique.map((change) => [change.token.toString('latin1'), change.after]));
  try {
    let result: T;
    try {
      // Replicas: computed inside the store's transaction from the commitment and tags it holds,
      // with the index row locked. One process: memory is the previous state.
      result = await write(shared ? (read) => next({ state: storedCommitment(open, read.sealed, read.seq), before: read.tags }) : next(residentBase(open, unique)));
    } catch (error) {
      // Only another process writing the same SQLite file can move the commitment under us.
      if (error instanceof StoreCommitmentConflictError) throw new StoreUnavailableError('busy', { cause: error });
      throw error;
    }
    // One process: memory was the base, so the sum just computed is memory's after the change.
    if (!shared && computed !== null) open.commitment.precomputed = (computed as CommitmentState).sum;
    let written: boolean | void;
    try {
      written = apply(result);
    } finally {
      open.commitment.precomputed = null;
    }
    // Memory stays known-current only if it was before (no other replica's write is missing).
    if (written !== false && open.commitment.seq === from) open.commitment.seq = from + 1;
    return result;
  } finally {
    open.commitment.inFlight = null;
  }
}

/** The commitment after `changes`, from `base`. */
function following(open: OpenIndex, base: Base, changes: readonly CommitmentChange[]): CommitmentState {
  const next = { seq: base.state.seq + 1, count: base.state.count, sum: Uint32Array.from(base.state.sum) };
  const removed = { tokens: [] as Buffer[], tags: [] as Array<Buffer | string> };
  const added = { tokens: [] as Buffer[], tags: [] as string[] };
  changes.forEach((change, i) => {
    const before = base.before[i];
    if (before !== null) {
      removed.tokens.push(change.token);
      removed.tags.push(before);
    }
    if (change.after !== null) {
      added.tokens.push(change.token);
      added.tags.push(change.after);
    }
  });
  open.cipher.accumulateSet(next.sum, removed.tokens, removed.tags, -1);
  open.cipher.accumulateSet(next.sum, added.tokens, added.tags, 1);
  next.count += added.tokens.length - removed.tokens.length;
  return next;
}

interface Base {
  state: CommitmentState;
  /** Per unique change, the tag of the record it replaces or removes, or null. */
  before: ReadonlyArray<Buffer | string | null>;
}

function residentBase(open: OpenIndex, changes: readonly CommitmentChange[]): Base {
  const before = changes.map((change) => {
    return open.record(change.id)?.sealTag ?? null;
  });
  return { state: open.commitment.state(open.size), before };
}

/** The stored commitment, checked against its counter column; a missing one only on a fresh index. */
export function storedCommitment(open: Pick<OpenIndex, 'cipher' | 'name'>, sealed: Buffer | null, seq: number): CommitmentState {
  const what = `commitment record of index "${open.name}"`;
  if (sealed === null) {
    if (seq === 0) return { seq: 0, count: 0, sum: new Uint32Array(4) };
    throw new IntegrityError(what);
  }
  let state: CommitmentState;
  try {
    state = openCommitment(open.cipher, open.name, sealed);
  } catch (error) {
    if (error instanceof SealIntegrityError) throw new IntegrityError(what);
    throw error;
  }
  if (state.seq !== seq) throw new IntegrityError(what);
  return state;
}

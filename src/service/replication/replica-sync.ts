// Keeps the indexes open in this replica in step with the writes other replicas make to the
// shared store. Each write is logged under its index's next change number with the tokens it
// touched (ReplicationStore). A change notice (Redis) or the periodic check of change numbers
// (every pollMs, one query for all open indexes) makes this replica read the log past what it
// has applied, fetch the current record of each token touched and apply it: a stored record
// replaces ours, a missing one is removed. That is state, not replayed operations, so applying a
// change twice or late is harmless. A newer saved model is swapped in the same way. This
// replica's own writes are in memory already (the service applies them under the write lock) and
// are skipped.
//
// An index deleted or recreated elsewhere is closed here at once. One whose log was pruned past
// what we applied (a replica cut off from the database for longer than the retention) is closed
// once no request uses it, and the next request reloads it from the store.

import type { CommitmentBase, ReplicationStore, Store, StoredItem } from '../../storage/index.js';
import { storedCommitment } from '../open/commitment-writes.js';
import { itemAad } from '../records/associated-data.js';
import { decodeItem } from '../records/item-codec.js';
import { OpenIndex, type ItemWrite } from '../open/open-index.js';
import { openModel } from '../records/trained-model-record.js';
import { sealTagOf } from '../records/index-commitment.js';

/** Records fetched per query while catching up. */
const FETCH_PAGE = 5000;
/** The log keeps changes this long (each replica prunes now and then). */
export const CHANGE_RETENTION_MS = 10 * 60_000;
const PRUNE_EVERY_MS = 60_000;

export interface ReplicaSyncOptions {
  store: Store;
  replication: ReplicationStore;
  /** How often the change numbers of the open indexes are checked, in ms. */
  pollMs: number;
}

/** Where the sync closes an index (the index cache). */
export interface ClosesIndexes {
  drop(name: string): void;
}

/** What the store said when the index was loaded: the load saw every change up to these. */
export interface LoadedAt {
  changeSeq: number;
  modelVersion: number;
  keyVersion: number;
}

interface Tracked {
  readonly open: OpenIndex;
  /** Every change up to this one is in memory. */
  seq: number;
  modelVersion: number;
  /** The wrapping of the data key in memory is this version's (key rotation). */
  keyVersion: number;
  /** A catch-up is running; `again` asks it for one more pass. */
  running: Promise<void> | null;
  again: boolean;
  /** Too far behind: closed as soon as no request uses it. */
  stale: boolean;
  /** Token (latin1) -> id, built when a removal elsewhere needs it (tokens are one-way). */
  idsByToken: Map<string, string> | null;
}

export class ReplicaSync {
  readonly #store: Store;
  readonly #replication: ReplicationStore;
  readonly #pollMs: number;
  readonly #tracked = new Map<string, Tracked>();
  #cache: ClosesIndexes | null = null;
  #timer: NodeJS.Timeout | null = null;
  #polling = false;
  #lastPruneMs = Date.now();
  #closed = false;

  constructor(options: ReplicaSyncOptions) {
    this.#store = options.store;
    this.#replication = options.replication;
    this.#pollMs = options.pollMs;
  }

  /** Starts the periodic check; `cache` is where stale indexes are closed. */
  start(cache: ClosesIndexes): void {
    this.#cache = cache;
    this.#timer = setInterval(() => void this.poll(), this.#pollMs);
    this.#timer.unref();
  }

  /** An index was opened here (loaded from the store, or created): follow its changes from `at`. */
  track(open: OpenIndex, at: LoadedAt): void {
    if (this.#closed) return;
    const tracked: Tracked = { open, seq: at.changeSeq, modelVersion: at.modelVersion, keyVersion: at.keyVersion, running: null, again: false, stale: false, idsByToken: null };
    this.#tracked.set(open.name, tracked);
    // Notices that arrived while the index was loading found nothing to catch up: look once now.
    this.#schedule(tracked);
  }

  /** Another replica announced a change of `index`. */
  notify(index: string): void {
    const tracked = this.#tracked.get(index);
    if (tracked !== undefined && !tracked.open.closed) this.#schedule(tracked);
  }

  /** Another replica revoked a grant of `index`: the open index here stops accepting it at once. */
  forgetGrant(index: string, grantId: string): void {
    this.#tracked.get(index)?.open.keys.forgetGrant(grantId);
  }

  /** This replica saved model `version` of `index` and swaps it in itself. */
  savedModel(index: string, version: number): void {
    const tracked = this.#tracked.get(index);
    if (tracked !== undefined) tracked.modelVersion = Math.max(tracked.modelVersion, version);
  }

  /** Resolves when every catch-up scheduled so far has finished (for tests and shutdown). */
  async settled(): Promise<void> {
    while ([...this.#tracked.values()].some((tracked) => tracked.running !== null)) {
      await Promise.all([...this.#tracked.values()].map((tracked) => tracked.running));
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    await this.settled();
    this.#tracked.clear();
  }

  /** One periodic check (also callable directly): compares change numbers and catches up. */
  async poll(): Promise<void> {
    if (this.#polling || this.#closed) return;
    this.#polling = true;
    try {
      for (const [name, tracked] of this.#tracked) {
        if (tracked.open.closed) this.#tracked.delete(name);
        else if (tracked.stale) this.#closeWhenIdle(tracked);
      }
      const checked = [...this.#tracked.values()].filter((tracked) => !tracked.stale);
      if (checked.length > 0) {
        const heads = new Map((await this.#replication.heads(checked.map((tracked) => tracked.open.name))).map((head) => [head.name, head]));
        for (const tracked of checked) {
          if (tracked.open.closed || this.#tracked.get(tracked.open.name) !== tracked) continue;
          const head = heads.get(tracked.open.name);
          if (head === undefined || head.createdAt.getTime() !== tracked.open.createdAt.getTime()) this.#closeNow(tracked);
          else if (head.changeSeq > tracked.seq || head.modelVersion > tracked.modelVersion || head.keyVersion > tracked.keyVersion) this.#schedule(tracked);
        }
      }
      if (Date.now() - this.#lastPruneMs >= PRUNE_EVERY_MS) {
        this.#lastPruneMs = Date.now();
        await this.#replication.pruneChanges(CHANGE_RETENTION_MS);
      }
    } catch {
      // The database is unreachable or busy: the next check tries again.
    } finally {
      this.#polling = false;
    }
  }

  #schedule(tracked: Tracked): void {
    tracked.again = true;
    // The drain starts after `running` is set: one with nothing to do (closing, stale) would
    // otherwise clear it before it was set, leave it holding a settled promise, and make
    // settled() spin on it without end (seen once: a notice arriving while the service closed
    // held a test worker at full CPU, its timers starved).
    if (tracked.running === null) tracked.running = Promise.resolve().then(() => this.#drain(tracked));
  }

  /** Catches up until nobody asked for another pass; the check and the reset happen in one step. */
  async #drain(tracked: Tracked): Promise<void> {
    try {
      while (tracked.again && !tracked.stale && !tracked.open.closed && !this.#closed) {
        tracked.again = false;
        // A failure (database unreachable, a record that fails its integrity check) leaves the
        // index where it was; the periodic check tries again.
        await this.#catchUp(tracked).catch(() => {});
      }
    } finally {
      tracked.running = null;
    }
  }

  async #catchUp(tracked: Tracked): Promise<void> {
    const { open } = tracked;
    // The commitment before the log is read and again after the records are: when no write came
    // in between, memory must now hold exactly the set it binds (replicas agree on it).
    const before = await this.#store.readCommitment(open.name, []);
    const log = await this.#replication.changesSince(open.name, tracked.seq);
    if (log === null || log.head.createdAt.getTime() !== open.createdAt.getTime()) {
      this.#closeNow(tracked);
      return;
    }
    const { head, changes } = log;
    const gapless = changes.every((change, i) => change.seq === tracked.seq + 1 + i) && (changes.at(-1)?.seq ?? tracked.seq) === head.changeSeq;
    if (!gapless) {
      tracked.stale = true;
      this.#closeWhenIdle(tracked);
      return;
    }
    const tokens = uniqueTokens(changes.filter((change) => change.origin !== this.#replication.origin).flatMap((change) => change.tokens));
    // Under the write lock: the records are read and applied with no write of this replica in
    // between, so a read can never bring back a value older than what a local write put in memory.
    await open.lock.run(async () => {
      if (open.closed) return;
      for (let start = 0; start < tokens.length; start += FETCH_PAGE) {
        const page = tokens.slice(start, start + FETCH_PAGE);
        this.#apply(tracked, page, await this.#store.getItems(open.name, page));
      }
      tracked.seq = Math.max(tracked.seq, head.changeSeq);
      if (before !== null && !this.#agrees(open, before, await this.#store.readCommitment(open.name, []))) {
        // Not the set the commitment binds: the records read were tampered with. Closed here, so
        // the next request loads the index again and fails its check with an IntegrityError.
        this.#closeNow(tracked);
        return;
      }
      if (head.keyVersion > tracked.keyVersion) {
        // The key was rotated elsewhere: the old key, even where remembered, stops opening it here.
        const stored = await this.#store.getIndex(open.name);
        if (stored === null || stored.createdAt.getTime() !== open.createdAt.getTime()) return;
        open.keys.rewrap(stored.wrappedDataKey);
        tracked.keyVersion = stored.keyVersion;
      }
      if (head.modelVersion > tracked.modelVersion) {
        const stored = await this.#store.getIndex(open.name);
        if (stored === null || stored.createdAt.getTime() !== open.createdAt.getTime() || stored.modelVersion <= tracked.modelVersion) return;
        if (stored.sealedModel !== null) {
          await open.applyStoredModel(openModel(open.cipher, open.name, stored.sealedModel));
          // The replica that trained writes the new model's segment set; this one only records which model its lists follow.
          open.modelSealTag = sealTagOf(stored.sealedModel);
        }
        tracked.modelVersion = stored.modelVersion;
      }
    });
  }

  /** False when nothing was written between `before` and `after` and memory is not the committed set. */
  #agrees(open: OpenIndex, before: CommitmentBase, after: CommitmentBase | null): boolean {
    if (after === null || after.seq !== before.seq) return true;
    try {
      const committed = storedCommitment(open, after.sealed, after.seq);
      if (!open.commitment.matches(committed, open.size)) return false;
      open.commitment.seq = committed.seq;
      return true;
    } catch {
      return false;
    }
  }

  /** Makes memory match the store for `requested`: `stored` holds those still present. */
  #apply(tracked: Tracked, requested: Buffer[], stored: StoredItem[]): void {
    const { open } = tracked;
    const present = new Set<string>();
    const records: ItemWrite[] = [];
    for (const item of stored) {
      present.add(item.token.toString('latin1'));
      const decoded = decodeItem(open.cipher.open(item.sealed, itemAad(open.name, item.token)));
      // The same write (a change replayed after a load that already saw it): nothing to do.
      if (open.record(decoded.id)?.revision === decoded.revision) continue;
      records.push(OpenIndex.recordOf(decoded, item.token, item.sealed));
      tracked.idsByToken?.set(item.token.toString('latin1'), decoded.id);
    }
    if (records.length > 0) open.applyUpserts(records, { remember: true });
    const removed = requested.filter((token) => !present.has(token.toString('latin1')));
    if (removed.length > 0) open.applyDeletes(this.#idsOf(tracked, removed));
  }

  /** Ids of the tokens that are in memory; the map is rebuilt once when a token is not in it. */
  #idsOf(tracked: Tracked, tokens: Buffer[]): string[] {
    const ids: string[] = [];
    let rebuilt = false;
    for (const token of tokens) {
      const key = token.toString('latin1');
      let id = tracked.idsByToken?.get(key);
      if (id === undefined && !rebuilt) {
        tracked.idsByToken = idsByToken(tracked.open);
        rebuilt = true;
        id = tracked.idsByToken.get(key);
      }
      if (id !== undefined) ids.push(id);
    }
    return ids;
  }

  #closeNow(tracked: Tracked): void {
    this.#tracked.delete(tracked.open.name);
    if (!tracked.open.closed) this.#cache?.drop(tracked.open.name);
  }

  #closeWhenIdle(tracked: Tracked): void {
    // Requests in flight may be writing to it; they finish first (see the header).
    if (!tracked.open.inUse) this.#closeNow(tracked);
  }
}

function uniqueTokens(tokens: Buffer[]): Buffer[] {
  const byKey = new Map<string, Buffer>();
  for (const token of tokens) byKey.set(token.toString('latin1'), token);
  return [...byKey.values()];
}

function idsByToken(open: OpenIndex): Map<string, string> {
  const map = new Map<string, string>();
  for (const id of open.ids()) map.set(open.record(id)!.token.toString('latin1'), id);
  return map;
}

// The index service as a tenant sees it: an API key bound to an index-name prefix reaches only the
// indexes whose names start with it. This view is the one place that rule is enforced: a name
// outside the scope is refused before the service is asked anything about it (no store read, no
// key check, no load), with the IndexNotFoundError the service gives an index that does not exist,
// so a tenant cannot tell another tenant's index from an absent one, by the answer or by the work
// behind it. Listings (indexes, the training queue) leave the other names out. Creating outside
// the prefix is a ValidationError on `name`: the name is the caller's choice, and refusing it the
// same way whether or not such an index exists says nothing about other tenants.

import { IndexNotFoundError, ValidationError } from '../errors.js';
import type { IndexService, TrainingQueueInfo } from '../types.js';

/** Which index names a caller reaches. */
export interface IndexNameScope {
  covers(name: unknown): boolean;
}

/** Names that start with `prefix` (a plain string prefix: end it with a separator, or "acme" covers "acmecorp"). */
export function namePrefixScope(prefix: string): IndexNameScope {
  return { covers: (name) => typeof name === 'string' && name.startsWith(prefix) };
}

/** No name at all: for requests that passed without an API key (only the health query does). */
export const NO_INDEX_NAMES: IndexNameScope = { covers: () => false };

export function scopedIndexService(service: IndexService, scope: IndexNameScope): IndexService {
  return new ScopedIndexService(service, scope);
}

class ScopedIndexService implements IndexService {
  readonly #inner: IndexService;
  readonly #scope: IndexNameScope;

  constructor(inner: IndexService, scope: IndexNameScope) {
    this.#inner = inner;
    this.#scope = scope;
  }

  /** Refuses a name outside the scope exactly as the service refuses an absent index. */
  #reach(name: string): void {
    if (!this.#scope.covers(name)) throw new IndexNotFoundError(name);
  }

  async createIndex(...args: Parameters<IndexService['createIndex']>): ReturnType<IndexService['createIndex']> {
    if (!this.#scope.covers(args[0])) throw new ValidationError('name', 'this API key creates only indexes whose names start with the prefix it is bound to');
    return this.#inner.createIndex(...args);
  }

  async listIndexes(): Promise<string[]> {
    return (await this.#inner.listIndexes()).filter((name) => this.#scope.covers(name));
  }

  async describeIndex(...args: Parameters<IndexService['describeIndex']>): ReturnType<IndexService['describeIndex']> {
    this.#reach(args[0]);
    return this.#inner.describeIndex(...args);
  }

  async deleteIndex(...args: Parameters<IndexService['deleteIndex']>): ReturnType<IndexService['deleteIndex']> {
    this.#reach(args[0]);
    return this.#inner.deleteIndex(...args);
  }

  async rotateIndexKey(...args: Parameters<IndexService['rotateIndexKey']>): ReturnType<IndexService['rotateIndexKey']> {
    this.#reach(args[0]);
    return this.#inner.rotateIndexKey(...args);
  }

  async upsert(...args: Parameters<IndexService['upsert']>): ReturnType<IndexService['upsert']> {
    this.#reach(args[0]);
    return this.#inner.upsert(...args);
  }

  async get(...args: Parameters<IndexService['get']>): ReturnType<IndexService['get']> {
    this.#reach(args[0]);
    return this.#inner.get(...args);
  }

  async delete(...args: Parameters<IndexService['delete']>): ReturnType<IndexService['delete']> {
    this.#reach(args[0]);
    return this.#inner.delete(...args);
  }

  async listIds(...args: Parameters<IndexService['listIds']>): ReturnType<IndexService['listIds']> {
    this.#reach(args[0]);
    return this.#inner.listIds(...args);
  }

  async browse(...args: Parameters<IndexService['browse']>): ReturnType<IndexService['browse']> {
    this.#reach(args[0]);
    return this.#inner.browse(...args);
  }

  async count(...args: Parameters<IndexService['count']>): ReturnType<IndexService['count']> {
    this.#reach(args[0]);
    return this.#inner.count(...args);
  }

  async deleteItems(...args: Parameters<IndexService['deleteItems']>): ReturnType<IndexService['deleteItems']> {
    this.#reach(args[0]);
    return this.#inner.deleteItems(...args);
  }

  async deleteWhere(...args: Parameters<IndexService['deleteWhere']>): ReturnType<IndexService['deleteWhere']> {
    this.#reach(args[0]);
    return this.#inner.deleteWhere(...args);
  }

  async update(...args: Parameters<IndexService['update']>): ReturnType<IndexService['update']> {
    this.#reach(args[0]);
    return this.#inner.update(...args);
  }

  async search(...args: Parameters<IndexService['search']>): ReturnType<IndexService['search']> {
    this.#reach(args[0]);
    return this.#inner.search(...args);
  }

  async train(...args: Parameters<IndexService['train']>): ReturnType<IndexService['train']> {
    this.#reach(args[0]);
    return this.#inner.train(...args);
  }

  /** A run id names no index, so the view cannot refuse a foreign run before waiting on it: not offered (trainIndex(wait: true) is). */
  async waitForRun(): ReturnType<IndexService['waitForRun']> {
    throw new ValidationError('runId', 'waiting on a run by id is not available to an API key bound to a prefix; train with wait: true');
  }

  async cancelTraining(...args: Parameters<IndexService['cancelTraining']>): ReturnType<IndexService['cancelTraining']> {
    this.#reach(args[0]);
    return this.#inner.cancelTraining(...args);
  }

  async trainingStatus(...args: Parameters<IndexService['trainingStatus']>): ReturnType<IndexService['trainingStatus']> {
    this.#reach(args[0]);
    return this.#inner.trainingStatus(...args);
  }

  trainingQueue(): TrainingQueueInfo {
    return this.#visible(this.#inner.trainingQueue());
  }

  async trainingRuns(...args: Parameters<IndexService['trainingRuns']>): ReturnType<IndexService['trainingRuns']> {
    this.#reach(args[0]);
    return this.#inner.trainingRuns(...args);
  }

  async trainingRun(...args: Parameters<IndexService['trainingRun']>): ReturnType<IndexService['trainingRun']> {
    this.#reach(args[0]);
    return this.#inner.trainingRun(...args);
  }

  trainingQueueUpdates(): AsyncIterableIterator<TrainingQueueInfo> {
    return changesOnly(this.#inner.trainingQueueUpdates(), (queue) => this.#visible(queue));
  }

  async indexStats(...args: Parameters<IndexService['indexStats']>): ReturnType<IndexService['indexStats']> {
    this.#reach(args[0]);
    return this.#inner.indexStats(...args);
  }

  async createIndexGrant(...args: Parameters<IndexService['createIndexGrant']>): ReturnType<IndexService['createIndexGrant']> {
    this.#reach(args[0]);
    return this.#inner.createIndexGrant(...args);
  }

  async revokeIndexGrant(...args: Parameters<IndexService['revokeIndexGrant']>): ReturnType<IndexService['revokeIndexGrant']> {
    this.#reach(args[0]);
    return this.#inner.revokeIndexGrant(...args);
  }

  async indexGrants(...args: Parameters<IndexService['indexGrants']>): ReturnType<IndexService['indexGrants']> {
    this.#reach(args[0]);
    return this.#inner.indexGrants(...args);
  }

  /** Totals of the whole process (no names); only /metrics reads them, and it serves unbound keys alone. */
  residentMemory(): { indexes: number; bytes: number } {
    return this.#inner.residentMemory();
  }

  ping(): Promise<boolean> {
    return this.#inner.ping();
  }

  /** The view owns nothing: the service it shows is closed by whoever made it. */
  async close(): Promise<void> {}

  #visible(queue: TrainingQueueInfo): TrainingQueueInfo {
    const covered = (run: { index: string }): boolean => this.#scope.covers(run.index);
    return { ...queue, running: queue.running.filter(covered), queued: queue.queued.filter(covered) };
  }
}

/** What a queue update changes for its reader: which runs are running and queued, in which phase. */
function queueShape(queue: TrainingQueueInfo): string {
  return JSON.stringify([queue.running, queue.queued].map((runs) => runs.map((run) => [run.index, run.runId, run.phase])));
}

/**
 * `stream` through `view`, skipping values whose runs are those of the last one passed on: a change
 * to another tenant's runs must not reach this tenant even as a repeated snapshot (it would tell
 * when others train). Hand-written, not an async generator: return() must end `stream` at once,
 * even while a next() waits on it (an async generator's return() would wait for that next()).
 */
function changesOnly(stream: AsyncIterableIterator<TrainingQueueInfo>, view: (queue: TrainingQueueInfo) => TrainingQueueInfo): AsyncIterableIterator<TrainingQueueInfo> {
  let last: string | null = null;
  const iterator: AsyncIterableIterator<TrainingQueueInfo> = {
    async next() {
      for (;;) {
        const step = await stream.next();
        if (step.done === true) return step;
        const value = view(step.value);
        const seen = queueShape(value);
        if (seen === last) continue;
        last = seen;
        return { value, done: false };
      }
    },
    async return() {
      await stream.return?.();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

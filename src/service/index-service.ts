// The domain API (CyborgDB semantics) over encrypted storage: every call proves its key, validates
// its whole input before touching anything, and changes the store before memory, so a failure at
// any step leaves both as they were (batches are all-or-nothing).

import { DEFAULT_CLUSTER, redisNames, type RedisNames } from './replication/cluster-namespace.js';
import { IndexCipher, generateDataKey, looksLikeGrantToken, wrapDataKey } from '../crypto/index.js';
import { createGrant, listGrants, revokeGrant, validateGrantOptions } from './access/index-grants.js';
import { KeyProof, type ProvenCaller } from './access/key-proof.js';
import type { IndexOperation } from './access/permissions.js';
import { recheckedStream } from './access/rechecked-stream.js';
import type { Config } from '../config.js';
import type { IdempotencyClaim, IdempotentOutcome, Store } from '../storage/index.js';
import {
  IdempotencySweep,
  deleteDigest,
  idempotencyClaim,
  idempotencyKeyReused,
  updateDigest,
  upsertDigest,
  validateIdempotencyKey,
  type RequestDigest,
} from './records/idempotency-record.js';
import { refreshFromStore } from './open/store-refresh.js';
import { repairAfterUnknownOutcome } from './open/unknown-outcome-repair.js';
import { AcceptedKeys } from './open/accepted-keys.js';
import { ITEM_FIELDS } from './enumerations.js';
import { IndexNotFoundError, ItemsNotFoundError, StoreUnavailableError, ValidationError } from './errors.js';
import { rotateKey } from './open/key-rotation.js';
import type { IndexCache } from './open/index-cache.js';
import { sealIndexConfig } from './records/index-config-record.js';
import {
  INDEX_NAME_PATTERN,
  parseKeyArgument,
  validateContents,
  validateCreateOptions,
  validateFirst,
  validateIds,
  validateInclude,
  validateIndexName,
  validateItems,
  validateAlpha,
  validateRerankMult,
  validateFusion,
  validateMaxDistance,
  validateMetadata,
  validateNProbes,
  validateSearchQueries,
  validateTopK,
  type ValidItem,
} from './input/input-validation.js';
import { searchWithText } from './hybrid-search.js';
import mergePatch from 'json-merge-patch';
import { toDomainError, translatingErrors } from './lower-layer-errors.js';
import { compileFilterPlan, isEmptyFilter, type CompiledFilter } from './input/metadata-filter.js';
import { OpenIndex, type PreparedItem } from './open/open-index.js';
import { ItemPresenter } from './item-presenter.js';
import { storedCommitment, writeWithCommitment } from './open/commitment-writes.js';
import { openCursor, sealCursor } from './records/page-cursor.js';
import type { TrainingEventBus } from './training/training-events.js';
import type { TrainingRuns } from './training/training-runs.js';
import type { ReplicaTrainingControl } from './replication/replica-training-control.js';
import type { TrainingScheduler } from './training/training-scheduler.js';
import { NO_SERVICE_METRICS, type ServiceMetrics } from './service-metrics.js';
import { IndexActivity, quantile } from './index-activity.js';
import { LatestValueStream } from './latest-value-stream.js';
import { findTrainingRun, listTrainingRuns } from './training/run-history.js';

/** indexStats emits at most once per interval; its rates are per second over the last complete second. */
const STATS_INTERVAL_MS = 1000;
import type {
  BrowseOptions,
  CreateGrantOptions,
  CreatedIndexGrant,
  CreateIndexOptions,
  Filter,
  IndexGrantInfo,
  IndexInfo,
  IndexKeyInput,
  IndexStats,
  TrainingRunPage,
  IndexService,
  Item,
  ItemField,
  ItemInput,
  ItemPage,
  ItemPatch,
  SearchHit,
  SearchOptions,
  SearchResults,
  TrainOptions,
  TrainingQueueInfo,
  TrainingRun,
  TrainingStatus,
  VectorInput,
  WriteOptions,
} from './types.js';

/** `get` returns every field unless asked otherwise; `search` returns ids and distances only. */
const GET_DEFAULT_FIELDS: readonly ItemField[] = ITEM_FIELDS;
const SEARCH_DEFAULT_FIELDS: readonly ItemField[] = [];

export interface IndexServiceParts {
  config: Config;
  store: Store;
  cache: IndexCache;
  scheduler: TrainingScheduler;
  /** Starts runs on the scheduler (manual and automatic), under leases when replicas share the store. */
  training: TrainingRuns;
  /** With replicas and Redis: cancels forwarded to the replica that runs the run. */
  control?: ReplicaTrainingControl | null;
  events: TrainingEventBus;
  /** Closed by close(): what the factory opened itself (callers close what they passed in). */
  owned: { store: boolean; events: boolean };
  /** Replicas share the store (replication.ts): closed by close(). */
  replication?: { close(): Promise<void> } | null;
  /** Told of searches and upserts (the store is measured where it is built, runs by TrainingRuns). */
  metrics?: ServiceMetrics;
  /** The cluster's Redis names (cluster-namespace.ts); from config.cluster (or the default) when absent. */
  redisNames?: RedisNames;
}

export class CipherdexIndexService implements IndexService {
  readonly #config: Config;
  readonly #store: Store;
  readonly #cache: IndexCache;
  readonly #scheduler: TrainingScheduler;
  readonly #training: TrainingRuns;
  readonly #control: ReplicaTrainingControl | null;
  readonly #events: TrainingEventBus;
  readonly #owned: { store: boolean; events: boolean };
  readonly #replication: IndexServiceParts['replication'];
  readonly #metrics: ServiceMetrics;
  readonly #activity = new IndexActivity();
  readonly #proof: KeyProof;
  readonly #idempotencySweep: IdempotencySweep;
  #closed = false;
  /** Every Redis channel and key of this deployment's cluster; the server keeps its shared counters under them too. */
  readonly redisNames: RedisNames;

  constructor(parts: IndexServiceParts) {
    this.#config = parts.config;
    this.#store = parts.store;
    this.#cache = parts.cache;
    this.#scheduler = parts.scheduler;
    this.#training = parts.training;
    this.#control = parts.control ?? null;
    this.#events = parts.events;
    this.#owned = parts.owned;
    this.#replication = parts.replication ?? null;
    this.#metrics = parts.metrics ?? NO_SERVICE_METRICS;
    this.redisNames = parts.redisNames ?? redisNames(parts.config.cluster ?? DEFAULT_CLUSTER);
    this.#proof = new KeyProof(parts.store);
    this.#idempotencySweep = new IdempotencySweep(parts.store, parts.config.idempotencyRetentionMs);
  }

  async createIndex(name: string, key: IndexKeyInput, options: CreateIndexOptions): Promise<IndexInfo> {
    const indexName = validateIndexName(name);
    const keyBytes = parseKeyArgument(key);
    const config = validateCreateOptions(options, this.#config.limits);
    const dataKey = generateDataKey();
    const wrappedDataKey = wrapDataKey(keyBytes, dataKey, indexName);
    const keys = new AcceptedKeys(indexName, wrappedDataKey, keyBytes);
    keyBytes.fill(0);
    const cipher = new IndexCipher(dataKey);
    const workers = this.#cache.sealWorkers;
    const sealer = workers === null ? null : { workers, handle: workers.register(indexName, dataKey) };
    dataKey.fill(0);
    try {
      // `committed`: this index has an index commitment from its first write on (a missing one is tampering).
      const committed = { ...config, committed: true };
      const stored = await this.#store.createIndex({ name: indexName, wrappedDataKey, sealedConfig: sealIndexConfig(cipher, indexName, committed) });
      const open = new OpenIndex(indexName, committed, stored.createdAt, cipher, keys, sealer, this.#cache.recordBucket, this.#cache.storedItems);
      this.#cache.insert(open);
      return this.#describe(open);
    } catch (error) {
      cipher.destroy();
      keys.forget();
      if (sealer !== null) sealer.workers.unregister(sealer.handle);
      throw toDomainError(error, indexName);
    }
  }

  async listIndexes(): Promise<string[]> {
    try {
      return await this.#store.listIndexNames();
    } catch (error) {
      throw toDomainError(error, '', 'list of index names');
    }
  }

  async describeIndex(name: string, key: IndexKeyInput): Promise<IndexInfo> {
    return this.#use(name, key, 'describeIndex', (open) => this.#describe(open));
  }

  async rotateIndexKey(name: string, key: IndexKeyInput, newKey: IndexKeyInput): Promise<IndexInfo> {
    const newKeyBytes = parseKeyArgument(newKey, 'newKey');
    let caller: ProvenCaller | null = null;
    try {
      caller = await this.#prove(name, key, 'rotateIndexKey');
      await rotateKey(this.#store, this.#cache, name, caller.credential, newKeyBytes);
    } catch (error) {
      throw toDomainError(error, name);
    } finally {
      caller?.wipe();
      newKeyBytes.fill(0);
    }
    return this.describeIndex(name, newKey);
  }

  async deleteIndex(name: string, key: IndexKeyInput): Promise<void> {
    await this.#verify(name, key, 'deleteIndex');
    // A run of this index ends CANCELLED now; its job finds the index closed before it commits.
    this.#scheduler.forget(name);
    this.#activity.forget(name);
    const deleted = await translatingErrors(name, () => this.#store.deleteIndex(name));
    this.#cache.drop(name);
    if (!deleted) throw new IndexNotFoundError(name);
  }

  async upsert(name: string, key: IndexKeyInput, items: ItemInput[], options: WriteOptions = {}): Promise<{ upsertedCount: number; index: IndexInfo }> {
    const started = performance.now();
    const idempotencyKey = validateIdempotencyKey(options.idempotencyKey);
    return this.#use(name, key, 'upsert', async (open) => {
      const valid = validateItems(items, open.config.dimension, open.config.metric, this.#config.limits);
      const prepared = await open.prepare(valid);
      const claim = idempotencyKey === null ? null : this.#claim(open, idempotencyKey, upsertDigest(valid));
      const records = prepared.map((item) => item.record);
      const { count, replayed } = await open.lock.run(async () => {
        if (open.closed) throw new IndexNotFoundError(name);
        // Before anything is written: a batch the memory budget cannot hold is refused whole.
        this.#cache.reserve(open, open.growthBytes(valid.length), 'This upsert');
        const stored = prepared.map((item) => item.stored);
        const changes = prepared.map((item) => ({ id: item.record.id, token: item.stored.token, after: item.record.sealTag }));
        if (claim === null) {
          await this.#write(open, records, () => this.#putPrepared(open, prepared, () => open.applyUpserts(records, { remember: true })));
          return { count: valid.length, replayed: false };
        }
        const outcome = await this.#write(open, records, () =>
          writeWithCommitment(this.#store, open, changes, (commitment) => this.#store.putItemsOnce(name, stored, claim, commitment), (done) => appliedIfDone(done, () => open.applyUpserts(records, { remember: true }))),
        );
        return this.#settle(open, outcome, records, () => {});
      });
      if (!replayed) {
        this.#metrics.upserted(name, valid.length, (performance.now() - started) / 1000);
        this.#activity.recordUpsert(name, valid.length);
      }
      await this.#training.maybeAutoTrain(open);
      return { upsertedCount: count, index: this.#describe(open) };
    });
  }

  /** Stores sealed items with the index commitment that follows from them (one transaction), then `apply` to memory. */
  #putPrepared(open: OpenIndex, prepared: readonly PreparedItem[], apply: () => void): Promise<void> {
    const changes = prepared.map((item) => ({ id: item.record.id, token: item.stored.token, after: item.record.sealTag }));
    const stored = prepared.map((item) => item.stored);
    return writeWithCommitment(this.#store, open, changes, (commitment) => this.#store.putItems(open.name, stored, commitment), apply);
  }

  async get(name: string, key: IndexKeyInput, ids: string[], include?: ItemField[]): Promise<Item[]> {
    return this.#use(name, key, 'get', async (open) => {
      const wanted = validateIds(ids, this.#config.limits);
      const presenter = new ItemPresenter(validateInclude(include, GET_DEFAULT_FIELDS));
      const items: Item[] = [];
      for (const id of wanted) {
        const record = open.record(id);
        if (record !== undefined) items.push(presenter.present(record, { id: record.id }));
      }
      const gone = await presenter.fill(open);
      return gone.size === 0 ? items : items.filter((item) => !gone.has(item));
    });
  }

  async delete(name: string, key: IndexKeyInput, ids: string[], options: WriteOptions = {}): Promise<{ deletedCount: number }> {
    const idempotencyKey = validateIdempotencyKey(options.idempotencyKey);
    return this.#use(name, key, 'delete', async (open) => {
      const unique = [...new Set(validateIds(ids, this.#config.limits))];
      const tokens = unique.map((id) => open.tokenOf(id));
      const claim = idempotencyKey === null ? null : this.#claim(open, idempotencyKey, deleteDigest({ ids: unique }));
      return open.lock.run(async () => {
        if (open.closed) throw new IndexNotFoundError(name);
        const changes = unique.map((id, i) => ({ id, token: tokens[i], after: null }));
        const touched = unique.map((id, i) => ({ id, token: tokens[i] }));
        if (claim === null) {
          const deletedCount = await this.#write(open, touched, () =>
            writeWithCommitment(this.#store, open, changes, (commitment) => this.#store.deleteItems(name, tokens, commitment), () => void open.applyDeletes(unique)),
          );
          return { deletedCount };
        }
        const outcome = await this.#write(open, touched, () =>
          writeWithCommitment(this.#store, open, changes, (commitment) => this.#store.deleteItemsOnce(name, tokens, claim, commitment), (done) => appliedIfDone(done, () => void open.applyDeletes(unique))),
        );
        return { deletedCount: (await this.#settle(open, outcome, touched, () => {})).count };
      });
    });
  }

  async listIds(name: string, key: IndexKeyInput): Promise<string[]> {
    return this.#use(name, key, 'listIds', (open) => open.ids().sort());
  }

  async browse(name: string, key: IndexKeyInput, options: BrowseOptions = {}): Promise<ItemPage> {
    return this.#use(name, key, 'browse', async (open) => {
      const first = validateFirst(options.first);
      const presenter = new ItemPresenter(validateInclude(options.include, GET_DEFAULT_FIELDS));
      const filter = filterOrNull(options.filter);
      const after = options.after === undefined || options.after === null ? null : openCursor(open.cipher, open.name, options.after);
      const { records, hasNextPage } = open.page(after, first, filter);
      const page = records.map((record) => ({ cursor: sealCursor(open.cipher, open.name, record.token), item: presenter.present(record, { id: record.id }) }));
      const gone = await presenter.fill(open);
      // An item deleted while its contents were read is left out; the cursor still moves past it.
      const items = page.filter(({ item }) => !gone.has(item));
      return { items, endCursor: page.at(-1)?.cursor ?? null, hasNextPage };
    });
  }

  async count(name: string, key: IndexKeyInput, filter?: Filter | null): Promise<number> {
    return this.#use(name, key, 'count', (open) => open.count(filterOrNull(filter)));
  }

  async deleteItems(
    name: string,
    key: IndexKeyInput,
    target: { ids?: string[] | null; filter?: Filter | null },
    options: WriteOptions = {},
  ): Promise<{ deletedCount: number }> {
    const byIds = target.ids !== undefined && target.ids !== null;
    if (byIds === (target.filter !== undefined && target.filter !== null)) {
      throw new ValidationError('ids', 'deleteItems takes exactly one of ids and filter');
    }
    return byIds ? this.delete(name, key, target.ids!, options) : this.deleteWhere(name, key, target.filter!, options);
  }

  async deleteWhere(name: string, key: IndexKeyInput, filter: Filter, options: WriteOptions = {}): Promise<{ deletedCount: number }> {
    const idempotencyKey = validateIdempotencyKey(options.idempotencyKey);
    return this.#use(name, key, 'delete', async (open) => {
      const plan = filterOrNull(filter);
      if (plan === null) throw new ValidationError('filter', 'deleting by filter takes a non-empty filter (deleteIndex removes everything)');
      const claim = idempotencyKey === null ? null : this.#claim(open, idempotencyKey, deleteDigest({ filter }));
      return open.lock.run(async () => {
        if (open.closed) throw new IndexNotFoundError(name);
        // Chosen under the lock, so exactly the items that match when the delete commits go.
        const doomed = [...open.matching(plan)];
        const tokens = doomed.map((record) => record.token);
        const apply = (): void => void open.applyDeletes(doomed.map((record) => record.id));
        const changes = doomed.map((record) => ({ id: record.id, token: record.token, after: null }));
        if (claim === null) {
          if (doomed.length === 0) return { deletedCount: 0 };
          const deletedCount = await this.#write(open, doomed, () =>
            writeWithCommitment(this.#store, open, changes, (commitment) => this.#store.deleteItems(name, tokens, commitment), apply),
          );
          return { deletedCount };
        }
        // Even with nothing to delete the store is asked: an earlier attempt may have deleted it all.
        const outcome = await this.#write(open, doomed, () =>
          writeWithCommitment(this.#store, open, changes, (commitment) => this.#store.deleteItemsOnce(name, tokens, claim, commitment), (done) => appliedIfDone(done, apply)),
        );
        return { deletedCount: (await this.#settle(open, outcome, doomed, () => {})).count };
      });
    });
  }

  async update(name: string, key: IndexKeyInput, ids: string[], patch: ItemPatch, options: WriteOptions = {}): Promise<{ updatedCount: number }> {
    const idempotencyKey = validateIdempotencyKey(options.idempotencyKey);
    return this.#use(name, key, 'updateItems', async (open) => {
      const limits = this.#config.limits;
      const unique = [...new Set(validateIds(ids, limits))];
      const patchesMetadata = patch?.metadata !== undefined;
      const patchesContents = patch?.contents !== undefined;
      if (!patchesMetadata && !patchesContents) throw new ValidationError('metadata', 'an update takes metadata (a merge patch), contents, or both');
      // The patch is JSON within the metadata limits; null clears the metadata (RFC 7396).
      const metadataPatch = patchesMetadata ? validateMetadata(patch.metadata, 'metadata', limits).metadata : undefined;
      const contents = patchesContents ? validateContents(patch.contents, 'contents', limits) : undefined;
      const claim =
        idempotencyKey === null
          ? null
          : this.#claim(open, idempotencyKey, updateDigest(unique, patchesMetadata ? { patch: metadataPatch } : null, patchesContents ? { value: contents! } : null));
      return open.lock.run(async () => {
        if (open.closed) throw new IndexNotFoundError(name);
        // Read, merged and written under the lock: concurrent updates never lose each other's fields.
        const missing = unique.filter((id) => open.record(id) === undefined);
        if (missing.length > 0) throw new ItemsNotFoundError(missing);
        const records = unique.map((id) => open.record(id)!);
        // The vector (and the contents a metadata-only patch keeps) as stored: re-sealed bit for
        // bit, the item keeps its slot and list; an item another replica deleted meanwhile is missing.
        const stored = await open.storedRecords(records);
        const gone = records.filter((record) => !stored.has(record)).map((record) => record.id);
        if (gone.length > 0) throw new ItemsNotFoundError(gone);
        const valid = records.map((record): ValidItem => {
          const item = stored.get(record)!;
          const merged: unknown = patchesMetadata ? mergePatch.apply(structuredClone(record.metadata), metadataPatch) : record.metadata;
          const { metadata, metadataJson } = validateMetadata(merged, 'metadata', limits);
          return { id: record.id, vector: item.vector, contents: patchesContents ? contents! : item.contents, metadata, metadataJson };
        });
        const prepared = await open.prepare(valid);
        const sealed = prepared.map((item) => item.stored);
        const writes = prepared.map((item) => item.record);
        if (claim === null) {
          await this.#write(open, writes, () => this.#putPrepared(open, prepared, () => open.applyUpdates(writes)));
          return { updatedCount: valid.length };
        }
        const changes = prepared.map((item) => ({ id: item.record.id, token: item.stored.token, after: item.record.sealTag }));
        const outcome = await this.#write(open, writes, () =>
          writeWithCommitment(this.#store, open, changes, (commitment) => this.#store.putItemsOnce(name, sealed, claim, commitment), (done) => appliedIfDone(done, () => open.applyUpdates(writes))),
        );
        return { updatedCount: (await this.#settle(open, outcome, writes, () => {})).count };
      });
    });
  }

  async search(name: string, key: IndexKeyInput, vectors: VectorInput[] | null, options: SearchOptions = {}): Promise<SearchResults[]> {
    const started = performance.now();
    return this.#use(name, key, 'search', async (open) => {
      const opened = performance.now();
      const limits = this.#config.limits;
      const topK = validateTopK(options.topK, limits);
      const nProbes = validateNProbes(options.nProbes, open.isTrained ? (open.model?.nLists ?? null) : null);
      const exact = options.exact ?? false;
      if (typeof exact !== 'boolean') throw new ValidationError('exact', 'exact is true or false');
      if (exact && nProbes !== undefined) throw new ValidationError('nProbes', 'nProbes and exact: true exclude each other (exact scans every list)');
      const maxDistance = validateMaxDistance(options.maxDistance);
      const presenter = new ItemPresenter(validateInclude(options.include, SEARCH_DEFAULT_FIELDS));
      const filter = filterOrNull(options.filter);
      const near = options.nearItem ?? null;
      const timings = { probe: 0, scan: 0, rerank: 0 };
      const rerankMult = validateRerankMult(options.rerankMult, open.config.type);
      let results: SearchResults[];
      if (near !== null) {
        if ((vectors !== null && vectors !== undefined) || (options.texts !== null && options.texts !== undefined)) {
          throw new ValidationError('nearItem', 'a search takes exactly one of vector(s) and nearItem (and no texts with nearItem)');
        }
        const [id] = validateIds([near], limits);
        const record = open.record(id);
        if (record === undefined) throw new ItemsNotFoundError([id]);
        // The item's vector as written: the engine's row where exact, else the cache or the store.
        const vector = (await open.payloads([record], { vector: true, contents: false })).get(record)?.vector;
        if (vector === undefined) throw new ItemsNotFoundError([id]);
        const controls = { topK, filter, exact, maxDistance, exclude: id, timings, rerankMult };
        results = await open.search(vector, controls, (hit, distance): SearchHit => presenter.present(hit, { id: hit.id, distance }));
      } else {
        const queries = validateSearchQueries(vectors, options.texts, open.config.dimension, open.config.metric, limits);
        const controls = { topK, nProbes, filter, exact, maxDistance, timings, rerankMult };
        results =
          queries.texts === null
            ? await open.search(queries.vectors!, controls, (record, distance): SearchHit => presenter.present(record, { id: record.id, distance }))
            : await searchWithText(
                open,
                { ...queries, texts: queries.texts },
                { ...controls, alpha: validateAlpha(options.alpha), fusion: validateFusion(options.fusion) },
                (record, scores): SearchHit => presenter.present(record, { id: record.id, ...scores }),
              );
      }
      const gone = await presenter.fill(open);
      if (gone.size > 0) results = results.map((result) => ({ ...result, hits: result.hits.filter((hit) => !gone.has(hit)) }));
      const stages = { decrypt: (opened - started) / 1000, probe: timings.probe / 1000, scan: timings.scan / 1000, rerank: timings.rerank / 1000 };
      const seconds = (performance.now() - started) / 1000;
      this.#metrics.searched(name, results.length, stages, seconds);
      this.#activity.recordSearch(name, results.length, seconds * 1000);
      return results;
    });
  }

  async train(name: string, key: IndexKeyInput, options: TrainOptions = {}): Promise<TrainingRun> {
    const start = (): Promise<TrainingRun> => this.#use(name, key, 'train', (open) => this.#training.train(open, options));
    if (options.wait !== true) return start();
    const { done } = await this.#use(name, key, 'train', (open) => this.#training.trainAndWait(open, options, start));
    return done;
  }

  async waitForRun(runId: string): Promise<TrainingRun> {
    return this.#training.waitFor(runId);
  }

  async cancelTraining(name: string, key: IndexKeyInput): Promise<TrainingRun> {
    await this.#verify(name, key, 'cancelTraining');
    // A run on another replica (as last heard) is cancelled there; otherwise here, or
    // TrainingNotRunningError when there is none.
    const remote = this.#scheduler.activeRun(name) === null ? this.#scheduler.remoteActiveRun(name) : null;
    if (remote === null || this.#control === null) return this.#scheduler.cancel(name);
    return this.#control.cancel(name, remote.runId);
  }

  async trainingStatus(name: string, key: IndexKeyInput): Promise<AsyncIterableIterator<TrainingStatus>> {
    const grantId = await this.#verify(name, key, 'trainingStatus');
    const stream = this.#scheduler.subscribe(name);
    // A grant is proven again before every event: revoked or expired, its stream ends with the error.
    return grantId === null ? stream : recheckedStream(stream, () => this.#verify(name, key, 'trainingStatus').then(() => {}));
  }

  trainingQueue(): TrainingQueueInfo {
    const { running, queued } = this.#scheduler.snapshot();
    return {
      retrainThreshold: this.#config.retrainThreshold,
      autoTrainEnabled: this.#config.autoTrainEnabled,
      retrainGrowthFactor: this.#config.retrainGrowthFactor,
      maxConcurrentTrainings: this.#config.maxConcurrentTrainings,
      running,
      queued,
    };
  }

  /** Names of the indexes decrypted in memory right now (for tests and metrics; no key needed, names are public). */
  residentIndexes(): string[] {
    return this.#cache.resident();
  }

  async trainingRuns(name: string, key: IndexKeyInput, options: { first?: number | null; after?: string | null } = {}): Promise<TrainingRunPage> {
    return this.#use(name, key, 'trainingRuns', (open) => listTrainingRuns(this.#store, open, options.first, options.after));
  }

  async trainingRun(name: string, key: IndexKeyInput, runId: string): Promise<TrainingRun> {
    return this.#use(name, key, 'trainingRuns', (open) => findTrainingRun(this.#store, open, runId));
  }

  trainingQueueUpdates(): AsyncIterableIterator<TrainingQueueInfo> {
    const stream = new LatestValueStream<TrainingQueueInfo>(() => unsubscribe());
    const unsubscribe = this.#scheduler.onQueueChange(() => stream.offer(this.trainingQueue()));
    stream.offer(this.trainingQueue());
    return stream;
  }

  async indexStats(name: string, key: IndexKeyInput): Promise<AsyncIterableIterator<IndexStats>> {
    // Opening proves the key and gives the count to start from; later ticks need no key.
    let vectorCount = await this.#use(name, key, 'indexStats', (open) => open.size);
    const snapshot = (): IndexStats => {
      const open = this.#cache.loaded(name);
      if (open !== undefined) vectorCount = open.size;
      const last = this.#activity.lastSecond(name);
      return {
        index: name,
        vectorCount,
        upsertsPerSecond: last.upserts,
        searchesPerSecond: last.searches,
        searchP50Ms: quantile(last.latenciesMs, 0.5),
        searchP99Ms: quantile(last.latenciesMs, 0.99),
        residentBytes: open?.memoryBytes() ?? 0,
        intervalMs: STATS_INTERVAL_MS,
        at: new Date(),
      };
    };
    const timer = setInterval(() => stream.offer(snapshot()), STATS_INTERVAL_MS);
    timer.unref();
    const stream = new LatestValueStream<IndexStats>(() => clearInterval(timer));
    stream.offer(snapshot());
    return looksLikeGrantToken(key) ? recheckedStream(stream, () => this.#verify(name, key, 'indexStats').then(() => {})) : stream;
  }

  residentMemory(): { indexes: number; bytes: number } {
    return this.#cache.residentMemory();
  }

  async ping(): Promise<boolean> {
    // Listing index names is the cheapest read that proves the store answers.
    return this.#store.listIndexNames().then(
      () => true,
      () => false,
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#scheduler.close();
    await this.#replication?.close();
    await this.#cache.close();
    await this.#cache.sealWorkers?.close();
    if (this.#owned.events) await this.#events.close();
    if (this.#owned.store) await this.#store.close();
  }

  async createIndexGrant(name: string, key: IndexKeyInput, options: CreateGrantOptions): Promise<CreatedIndexGrant> {
    const valid = validateGrantOptions(options, Date.now());
    return this.#withDataKey(name, key, (dataKey) => createGrant(this.#store, name, dataKey, valid));
  }

  async revokeIndexGrant(name: string, key: IndexKeyInput, grantId: string): Promise<IndexGrantInfo> {
    const revoked = await this.#withDataKey(name, key, (dataKey) => revokeGrant(this.#store, name, dataKey, grantId));
    this.#cache.loaded(name)?.keys.forgetGrant(revoked.id);
    this.#proof.forget(revoked.id);
    return revoked;
  }

  async indexGrants(name: string, key: IndexKeyInput): Promise<IndexGrantInfo[]> {
    return this.#withDataKey(name, key, (dataKey) => listGrants(this.#store, name, dataKey));
  }

  /**
   * Runs a store write of items, translating its errors; when the store became unreachable while it
   * was in flight (it may have committed), memory is repaired from the store once it answers again.
   */
  async #write<T>(open: OpenIndex, touched: ReadonlyArray<{ id: string; token: Buffer }>, work: () => Promise<T>): Promise<T> {
    try {
      return await translatingErrors(open.name, work);
    } catch (error) {
      if (error instanceof StoreUnavailableError && error.fault === 'unreachable') repairAfterUnknownOutcome(this.#store, open, touched);
      throw error;
    }
  }

  /** The store's view of a write under an idempotency key (records/idempotency-record.ts). */
  #claim(open: OpenIndex, idempotencyKey: string, request: RequestDigest): IdempotencyClaim {
    return idempotencyClaim(open.cipher, idempotencyKey, request, this.#config.idempotencyRetentionMs);
  }

  /**
   * Follows an idempotent write's outcome, under the index's write lock: a write done now reaches
   * memory (`apply`); one done by an earlier attempt (whose answer may never have arrived, nor its
   * change reached memory here) is read back from the store for the items it names; a key used for
   * another request is refused. Answers the count to return.
   */
  async #settle(
    open: OpenIndex,
    outcome: IdempotentOutcome,
    touched: ReadonlyArray<{ id: string; token: Buffer }>,
    apply: () => void,
  ): Promise<{ count: number; replayed: boolean }> {
    this.#idempotencySweep.maybeSweep();
    if (outcome.kind === 'mismatch') throw idempotencyKeyReused();
    if (outcome.kind === 'done') {
      apply();
      return { count: outcome.count, replayed: false };
    }
    await translatingErrors(open.name, () => refreshFromStore(this.#store, open, touched));
    // An earlier attempt committed (with its commitment) but memory never heard: when memory now is
    // the committed set, it is current again and later writes chain onto that commitment.
    await translatingErrors(open.name, async () => {
      const committed = await this.#store.readCommitment(open.name, []);
      if (committed === null || committed.seq <= open.commitment.seq) return;
      const state = storedCommitment(open, committed.sealed, committed.seq);
      if (open.commitment.matches(state, open.size)) open.commitment.seq = state.seq;
    });
    return { count: outcome.count, replayed: true };
  }

  /** Runs `work` with the open index once the caller proved `key` may do `operation` on it. */
  async #use<T>(name: string, key: IndexKeyInput, operation: IndexOperation, work: (open: OpenIndex) => Promise<T> | T): Promise<T> {
    const caller = await this.#prove(name, key, operation);
    try {
      return await this.#cache.use(name, caller.credential, work);
    } catch (error) {
      throw toDomainError(error, name);
    } finally {
      // This request's copy of the key; an open index keeps its own while it stays open.
      caller.wipe();
    }
  }

  /** Proves `key` may do `operation` on `name` without loading it; returns the caller's grant id (null for the index key). */
  async #verify(name: string, key: IndexKeyInput, operation: IndexOperation): Promise<string | null> {
    const caller = await this.#prove(name, key, operation);
    try {
      await this.#cache.verify(name, caller.credential);
      return caller.grantId;
    } catch (error) {
      throw toDomainError(error, name);
    } finally {
      caller.wipe();
    }
  }

  /** Runs `work` with the index's data key as stored now, for an ADMIN caller (grants need it). */
  async #withDataKey<T>(name: string, key: IndexKeyInput, work: (dataKey: Buffer) => Promise<T>): Promise<T> {
    const caller = await this.#prove(name, key, 'grants');
    try {
      const dataKey = await this.#cache.unwrapDataKey(name, caller.credential);
      try {
        return await work(dataKey);
      } finally {
        dataKey.fill(0);
      }
    } catch (error) {
      throw toDomainError(error, name);
    } finally {
      caller.wipe();
    }
  }

  async #prove(name: string, key: IndexKeyInput, operation: IndexOperation): Promise<ProvenCaller> {
    if (this.#closed) throw new Error('The index service is closed.');
    checkName(name);
    try {
      return await this.#proof.prove(name, key, operation);
    } catch (error) {
      throw toDomainError(error, name);
    }
  }

  #describe(open: OpenIndex): IndexInfo {
    return {
      name: open.name,
      dimension: open.config.dimension,
      metric: open.config.metric,
      type: open.config.type,
      nLists: open.model?.nLists ?? open.config.nLists,
      pqSubvectors: open.config.pqSubvectors ?? null,
      pqBits: open.config.pqBits ?? null,
      vectorCount: open.size,
      residentBytes: open.residentBytes,
      bytesPerVector: open.size === 0 ? null : open.residentBytes / open.size,
      isTrained: open.isTrained,
      isTraining: this.#scheduler.isTraining(open.name),
      // After a restart the scheduler knows no runs; the stored model remembers the one that made it.
      lastTrainingRun: this.#scheduler.lastRun(open.name) ?? open.model?.run ?? null,
      createdAt: open.createdAt,
      textSearch: open.config.textSearch === true,
      textFields: [...(open.config.textFields ?? [])],
      textLanguage: open.config.textLanguage ?? null,
    };
  }
}

/** Names that break the naming rule cannot exist, so they are unknown indexes, not bad arguments. */
function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string') throw new ValidationError('name', 'an index name is a string');
  if (!INDEX_NAME_PATTERN.test(name)) throw new IndexNotFoundError(name);
}

/** A compiled filter, or null for an absent or empty one (which matches everything). Throws ValidationError. */
function filterOrNull(filter: Filter | null | undefined): CompiledFilter | null {
  const plan = compileFilterPlan(filter);
  return isEmptyFilter(filter) ? null : plan;
}

/** Applies an idempotent write to memory when it was done now (a replay or a mismatch wrote nothing); says whether it was. */
function appliedIfDone(outcome: IdempotentOutcome, apply: () => void): boolean {
  if (outcome.kind !== 'done') return false;
  apply();
  return true;
}

// The store as a replica's service sees it: each write is announced to the other replicas once it
// is durable, and a model this replica saves is reported as already in memory (its training job
// swaps it in right after saving), so catching up does not load it again.

import type { CommitmentBase, CommitmentRule, CommitmentUpdate, IdempotencyClaim, IdempotentOutcome, ModelFence, ReplicationStore, Store, StoredGrant, StoredIndex, StoredItem, StoredItemTags, StoredTrainingRun } from '../../storage/index.js';

export interface StoreAnnouncements {
  /** The index changed (items written or deleted, model saved, index deleted). */
  changed(index: string): void;
  /** A grant of the index was revoked: replicas forget it at once. */
  revokedGrant(index: string, grantId: string): void;
  /** This process saved model `version` of `index`. */
  savedModel(index: string, version: number): void;
}

export class AnnouncingStore implements Store {
  readonly #inner: Store;
  readonly #announce: StoreAnnouncements;

  constructor(inner: Store, announce: StoreAnnouncements) {
    this.#inner = inner;
    this.#announce = announce;
  }

  get kind(): Store['kind'] {
    return this.#inner.kind;
  }

  get replication(): ReplicationStore | undefined {
    return this.#inner.replication;
  }

  createIndex(index: { name: string; wrappedDataKey: Buffer; sealedConfig: Buffer }): Promise<StoredIndex> {
    return this.#inner.createIndex(index);
  }

  getIndex(name: string): Promise<StoredIndex | null> {
    return this.#inner.getIndex(name);
  }

  listIndexNames(): Promise<string[]> {
    return this.#inner.listIndexNames();
  }

  async deleteIndex(name: string): Promise<boolean> {
    const deleted = await this.#inner.deleteIndex(name);
    if (deleted) this.#announce.changed(name);
    return deleted;
  }

  async putItems(index: string, items: StoredItem[], commitment?: CommitmentUpdate | CommitmentRule): Promise<void> {
    await this.#inner.putItems(index, items, commitment);
    this.#announce.changed(index);
  }

  async deleteItems(index: string, tokens: Buffer[], commitment?: CommitmentUpdate | CommitmentRule): Promise<number> {
    const deleted = await this.#inner.deleteItems(index, tokens, commitment);
    this.#announce.changed(index);
    return deleted;
  }

  async putItemsOnce(index: string, items: StoredItem[], claim: IdempotencyClaim, commitment?: CommitmentUpdate | CommitmentRule): Promise<IdempotentOutcome> {
    const outcome = await this.#inner.putItemsOnce(index, items, claim, commitment);
    if (outcome.kind === 'done') this.#announce.changed(index);
    return outcome;
  }

  async deleteItemsOnce(index: string, tokens: Buffer[], claim: IdempotencyClaim, commitment?: CommitmentUpdate | CommitmentRule): Promise<IdempotentOutcome> {
    const outcome = await this.#inner.deleteItemsOnce(index, tokens, claim, commitment);
    if (outcome.kind === 'done') this.#announce.changed(index);
    return outcome;
  }

  pruneIdempotencyRecords(olderThanMs: number): Promise<number> {
    return this.#inner.pruneIdempotencyRecords(olderThanMs);
  }

  readCommitment(index: string, tokens: Buffer[]): Promise<CommitmentBase | null> {
    return this.#inner.readCommitment(index, tokens);
  }

  establishCommitment(index: string, commitment: CommitmentUpdate, sealedConfig: Buffer): Promise<boolean> {
    return this.#inner.establishCommitment(index, commitment, sealedConfig);
  }

  getItems(index: string, tokens: Buffer[]): Promise<StoredItem[]> {
    return this.#inner.getItems(index, tokens);
  }

  scanItems(index: string, pageSize?: number): AsyncIterable<StoredItem[]> {
    return this.#inner.scanItems(index, pageSize);
  }

  countItems(index: string): Promise<number> {
    return this.#inner.countItems(index);
  }

  readItemTags(index: string): Promise<StoredItemTags | null> {
    return this.#inner.readItemTags(index);
  }

  async replaceSegments(index: string, setId: Buffer, segments: Buffer[]): Promise<void> {
    await this.#inner.replaceSegments(index, setId, segments);
    // Announced like a model: replicas learn that the index row changed (a later cold open reads the new set).
    this.#announce.changed(index);
  }

  readSegments(index: string, setId: Buffer, from: number, count: number): Promise<Buffer[]> {
    return this.#inner.readSegments(index, setId, from, count);
  }

  async replaceWrappedDataKey(index: string, expected: Buffer, replacement: Buffer): Promise<number | null> {
    const version = await this.#inner.replaceWrappedDataKey(index, expected, replacement);
    // Other replicas re-read the wrapping, so the old key stops opening the index there too.
    if (version !== null) this.#announce.changed(index);
    return version;
  }

  async saveModel(index: string, sealedModel: Buffer, fence?: ModelFence): Promise<number> {
    const version = await this.#inner.saveModel(index, sealedModel, fence);
    this.#announce.savedModel(index, version);
    this.#announce.changed(index);
    return version;
  }

  putTrainingRun(index: string, token: Buffer, sealed: Buffer): Promise<void> {
    return this.#inner.putTrainingRun(index, token, sealed);
  }

  listTrainingRuns(index: string, limit: number, before?: number): Promise<StoredTrainingRun[]> {
    return this.#inner.listTrainingRuns(index, limit, before);
  }

  getTrainingRun(index: string, token: Buffer): Promise<StoredTrainingRun | null> {
    return this.#inner.getTrainingRun(index, token);
  }

  createGrant(grant: Omit<StoredGrant, 'lastUsedAt'>): Promise<void> {
    return this.#inner.createGrant(grant);
  }

  getGrant(index: string, id: string): Promise<StoredGrant | null> {
    return this.#inner.getGrant(index, id);
  }

  listGrants(index: string): Promise<StoredGrant[]> {
    return this.#inner.listGrants(index);
  }

  async deleteGrant(index: string, id: string): Promise<boolean> {
    const deleted = await this.#inner.deleteGrant(index, id);
    if (deleted) this.#announce.revokedGrant(index, id);
    return deleted;
  }

  touchGrant(index: string, id: string, at: Date): Promise<void> {
    return this.#inner.touchGrant(index, id, at);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

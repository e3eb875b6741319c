// Per-index topics of TrainingStatus events: in one process, or across replicas through an event
// target that carries them (replication/replica-training-events.ts, over Redis). Slow subscribers
// get superseded progress events coalesced; phase changes and the end of a run are never dropped.
//
// Why not createPubSub's subscribe from @graphql-yoga/subscription (5.1.1 here): its Repeater only
// adds the event listener on the first next(), so events published between subscribe() and the
// first pull are lost (the scheduler yields the current state first, then relies on the topic);
// its `repeaterBuffer` is one instance shared by every subscription; a SlidingBuffer would drop
// phase changes; and without a buffer, 1024 undelivered events make the listener throw inside
// dispatchEvent. We keep its event target contract (a CustomEvent whose `detail` is the payload,
// an event type per topic).
import { randomUUID } from 'node:crypto';
import { isTerminalPhase } from './training-status.js';
import type { TrainingStatus } from '../types.js';

/** Topic names are this prefix and the index name (on Redis, each carries the cluster namespace: cluster-namespace.ts). */
export const TRAINING_TOPIC_PREFIX = 'training:';

export interface TrainingEventBus {
  publish(index: string, status: TrainingStatus): void;
  /** Events published after the call, until the iterator is returned (return() must free everything). */
  subscribe(index: string): AsyncIterableIterator<TrainingStatus>;
  /** Open subscriptions on this process, for one index or all. */
  subscriberCount(index?: string): number;
  /** Ends every subscription (after it delivered what was already queued) and releases connections. */
  close(): Promise<void>;
}

/** What travels on the remote target: the status, and which bus published it (to skip our own echoes). */
export interface TrainingEnvelope {
  origin: string;
  status: TrainingStatus;
}

export interface TrainingEventBusOptions {
  /**
   * Carries events to other replicas: `dispatchEvent` sends a CustomEvent<TrainingEnvelope> whose
   * type is the topic, and its listeners hear the other replicas' envelopes. Events published here
   * reach this process's subscribers directly (synchronously, so nothing is lost while a remote
   * subscription is being set up); envelopes from the remote target that this bus published itself
   * are ignored.
   */
  remote?: { target: EventTarget; close?: () => Promise<void> };
  /** Undelivered events per subscriber before superseded progress events are coalesced. */
  bufferSize?: number;
}

const DEFAULT_BUFFER_SIZE = 256;

/** Events between subscribers of this process only. */
export function createLocalTrainingEvents(options: Omit<TrainingEventBusOptions, 'remote'> = {}): TrainingEventBus {
  return createTrainingEventBus(options);
}

export function createTrainingEventBus(options: TrainingEventBusOptions = {}): TrainingEventBus {
  const bufferSize = options.bufferSize ?? DEFAULT_BUFFER_SIZE;
  const origin = randomUUID();
  const subscribers = new Map<string, Set<StatusSubscription>>();
  const remoteListeners = new Map<string, (event: Event) => void>();
  let closed = false;

  function deliver(index: string, status: TrainingStatus): void {
    const set = subscribers.get(index);
    if (set === undefined) return;
    for (const subscription of [...set]) subscription.push(status);
  }

  function listenRemote(index: string): void {
    const remote = options.remote;
    if (remote === undefined || remoteListeners.has(index)) return;
    const listener = (event: Event): void => {
      const envelope = (event as CustomEvent<TrainingEnvelope | null>).detail;
      if (envelope === null || envelope.origin === origin || envelope.status.index !== index) return;
      deliver(index, envelope.status);
    };
    remoteListeners.set(index, listener);
    remote.target.addEventListener(TRAINING_TOPIC_PREFIX + index, listener);
  }

  function unlistenRemote(index: string): void {
    const listener = remoteListeners.get(index);
    if (listener === undefined) return;
    remoteListeners.delete(index);
    options.remote?.target.removeEventListener(TRAINING_TOPIC_PREFIX + index, listener);
  }

  function remove(index: string, subscription: StatusSubscription): void {
    const set = subscribers.get(index);
    if (set === undefined || !set.delete(subscription)) return;
    if (set.size === 0) {
      subscribers.delete(index);
      unlistenRemote(index);
    }
  }

  return {
    publish(index, status) {
      if (closed) return;
      deliver(index, status);
      const envelope: TrainingEnvelope = { origin, status };
      options.remote?.target.dispatchEvent(new CustomEvent(TRAINING_TOPIC_PREFIX + index, { detail: envelope }));
    },

    subscribe(index) {
      const subscription = new StatusSubscription(bufferSize, () => remove(index, subscription));
      if (closed) {
        subscription.end(false);
        return subscription;
      }
      let set = subscribers.get(index);
      if (set === undefined) {
        set = new Set();
        subscribers.set(index, set);
      }
      set.add(subscription);
      listenRemote(index);
      return subscription;
    },

    subscriberCount(index) {
      if (index !== undefined) return subscribers.get(index)?.size ?? 0;
      let count = 0;
      for (const set of subscribers.values()) count += set.size;
      return count;
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const set of [...subscribers.values()]) for (const subscription of [...set]) subscription.end(true);
      await options.remote?.close?.();
    },
  };
}

/**
 * True when `later` makes `earlier` redundant for a subscriber that has not seen either yet: same
 * run, same non-terminal phase (successive ITERATING events). Dropping `earlier` then loses an
 * intermediate progress value, never a phase change nor the end of a run.
 */
export function supersedes(later: TrainingStatus, earlier: TrainingStatus): boolean {
  return later.runId === earlier.runId && later.phase === earlier.phase && !isTerminalPhase(earlier.phase);
}

/** One subscriber's queue: unbounded for phase changes, coalescing progress once it holds `capacity` events. */
class StatusSubscription implements AsyncIterableIterator<TrainingStatus> {
  private pending: TrainingStatus[] = [];
  private readonly waiters: Array<(result: IteratorResult<TrainingStatus, undefined>) => void> = [];
  private done = false;

  constructor(
    private readonly capacity: number,
    private readonly onEnd: () => void,
  ) {}

  push(status: TrainingStatus): void {
    if (this.done) return;
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      waiter({ value: status, done: false });
      return;
    }
    this.pending.push(status);
    if (this.pending.length > this.capacity) this.coalesce();
  }

  /** Drops the oldest event that the one after it supersedes (latest wins). */
  private coalesce(): void {
    for (let i = 0; i + 1 < this.pending.length; i++) {
      if (supersedes(this.pending[i + 1], this.pending[i])) {
        this.pending.splice(i, 1);
        return;
      }
    }
  }

  next(): Promise<IteratorResult<TrainingStatus, undefined>> {
    const value = this.pending.shift();
    if (value !== undefined) return Promise.resolve({ value, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  return(): Promise<IteratorResult<TrainingStatus, undefined>> {
    this.end(false);
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Stops the subscription; with `drain`, events already queued are still delivered. */
  end(drain: boolean): void {
    if (!drain) this.pending = [];
    if (this.done) return;
    this.done = true;
    this.onEnd();
    for (const waiter of this.waiters.splice(0)) waiter({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<TrainingStatus> {
    return this;
  }
}

/**
 * `first`, then everything `rest` yields. Returning it returns `rest` at once, even while a next()
 * is waiting for an event (an async generator would wait for that event before running finally).
 */
export function startWith(
  first: TrainingStatus,
  rest: AsyncIterableIterator<TrainingStatus>,
  onReturn: () => void = () => {},
): AsyncIterableIterator<TrainingStatus> {
  let head: TrainingStatus | null = first;
  let returned = false;
  const iterator: AsyncIterableIterator<TrainingStatus> = {
    next() {
      if (returned) return Promise.resolve({ value: undefined, done: true });
      if (head !== null) {
        const value = head;
        head = null;
        return Promise.resolve({ value, done: false });
      }
      return rest.next();
    },
    async return() {
      if (!returned) {
        returned = true;
        onReturn();
        await rest.return?.();
      }
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

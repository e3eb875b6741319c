// Per-index topics of TrainingStatus events: in one process, or across replicas through any
// graphql-yoga PubSub event target (createRedisEventTarget). Slow subscribers get superseded
// progress events coalesced; phase changes and the end of a run are never dropped.
//
// Why not createPubSub's subscribe from @graphql-yoga/subscription (5.1.1 here): its Repeater only
// adds the event listener on the first next(), so events published between subscribe() and the
// first pull are lost (the scheduler yields the current state first, then relies on the topic);
// its `repeaterBuffer` is one instance shared by every subscription; a SlidingBuffer would drop
// phase changes; and without a buffer, 1024 undelivered events make the listener throw inside
// dispatchEvent. We keep its event target contract (a CustomEvent whose `detail` is the payload),
// so any target that works with createPubSub, Redis included, works here.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { isTerminalPhase } from './training-status.js';
import type { TrainingPhase, TrainingStatus, TrainingTrigger } from '../types.js';

export interface TrainingEventBus {
  publish(index: string, status: TrainingStatus): void;
  /** Events published after the call, until the iterator is returned (return() must free everything). */
  subscribe(index: string): AsyncIterableIterator<TrainingStatus>;
  /** Open subscriptions on this process, for one index or all. */
  subscriberCount(index?: string): number;
  /** Ends every subscription (after it delivered what was already queued) and releases connections. */
  close(): Promise<void>;
}

export interface TrainingEventBusOptions {
  /**
   * Carries events to other replicas. Events published here reach this process's subscribers
   * directly (synchronously, so nothing is lost while a remote subscription is being set up);
   * events from the remote target that this bus published itself are ignored.
   */
  remote?: { target: EventTarget; close?: () => Promise<void> };
  /** Undelivered events per subscriber before superseded progress events are coalesced. */
  bufferSize?: number;
  /** Prefix of the event target's topic names. */
  topicPrefix?: string;
}

const DEFAULT_BUFFER_SIZE = 256;

/** Events between subscribers of this process only. */
export function createLocalTrainingEvents(options: Omit<TrainingEventBusOptions, 'remote'> = {}): TrainingEventBus {
  return createTrainingEventBus(options);
}

/**
 * Events shared by every replica on one Redis (REDIS_URL). Dates travel as ISO strings and are
 * revived on arrival. The publishing connection waits out Redis outages instead of rejecting
 * (createRedisEventTarget does not handle a rejected publish).
 */
export function createRedisTrainingEvents(
  redisUrl: string,
  options: Omit<TrainingEventBusOptions, 'remote'> = {},
): TrainingEventBus {
  const publishClient = new Redis(redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
  const subscribeClient = new Redis(redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
  // ioredis prints unhandled 'error' events; reconnection is automatic, so there is nothing to do here.
  publishClient.on('error', () => {});
  subscribeClient.on('error', () => {});
  const target = createRedisEventTarget<CustomEvent<RemoteEnvelope>>({
    publishClient,
    subscribeClient,
    serializer: { stringify: (message) => JSON.stringify(message), parse: (message) => parseEnvelope(message) },
  });
  return createTrainingEventBus({
    ...options,
    remote: {
      target,
      close: async () => {
        await Promise.allSettled([publishClient.quit(), subscribeClient.quit()]);
      },
    },
  });
}

interface RemoteEnvelope {
  origin: string;
  status: TrainingStatus;
}

export function createTrainingEventBus(options: TrainingEventBusOptions = {}): TrainingEventBus {
  const bufferSize = options.bufferSize ?? DEFAULT_BUFFER_SIZE;
  const prefix = options.topicPrefix ?? 'cipherdex:training:';
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
      const envelope = (event as CustomEvent<RemoteEnvelope | null>).detail;
      if (envelope === null || envelope.origin === origin || envelope.status.index !== index) return;
      deliver(index, envelope.status);
    };
    remoteListeners.set(index, listener);
    remote.target.addEventListener(prefix + index, listener);
  }

  function unlistenRemote(index: string): void {
    const listener = remoteListeners.get(index);
    if (listener === undefined) return;
    remoteListeners.delete(index);
    options.remote?.target.removeEventListener(prefix + index, listener);
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
      const envelope: RemoteEnvelope = { origin, status };
      options.remote?.target.dispatchEvent(new CustomEvent(prefix + index, { detail: envelope }));
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

const PHASES: ReadonlySet<string> = new Set<TrainingPhase>([
  'IDLE', 'QUEUED', 'INITIALIZING', 'ITERATING', 'ASSIGNING', 'PERSISTING', 'COMPLETED', 'FAILED', 'CANCELLED',
]);
const TRIGGERS: ReadonlySet<string> = new Set<TrainingTrigger>(['MANUAL', 'AUTOMATIC']);

/**
 * Parses a Redis message back into an envelope: Dates revived from their ISO strings. Anything that
 * is not a well-formed envelope (another publisher on the channel) becomes null and is ignored.
 */
export function parseEnvelope(message: string): RemoteEnvelope | null {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return null;
  }
  if (!isRecord(value) || typeof value.origin !== 'string' || !isRecord(value.status)) return null;
  const status = reviveStatus(value.status);
  return status === null ? null : { origin: value.origin, status };
}

function reviveStatus(raw: Record<string, unknown>): TrainingStatus | null {
  const numbers = ['iteration', 'maxIters', 'nLists', 'batchSize', 'tolerance', 'progress', 'elapsedMs', 'vectorCount'] as const;
  if (typeof raw.index !== 'string' || typeof raw.phase !== 'string' || !PHASES.has(raw.phase)) return null;
  if (!numbers.every((name) => typeof raw[name] === 'number')) return null;
  const startedAt = reviveDate(raw.startedAt);
  const finishedAt = reviveDate(raw.finishedAt);
  if (startedAt === undefined || finishedAt === undefined) return null;
  const trigger = typeof raw.trigger === 'string' && TRIGGERS.has(raw.trigger) ? (raw.trigger as TrainingTrigger) : null;
  return {
    runId: typeof raw.runId === 'string' ? raw.runId : null,
    index: raw.index,
    trigger,
    phase: raw.phase as TrainingPhase,
    iteration: raw.iteration as number,
    maxIters: raw.maxIters as number,
    nLists: raw.nLists as number,
    batchSize: raw.batchSize as number,
    tolerance: raw.tolerance as number,
    shift: typeof raw.shift === 'number' ? raw.shift : null,
    inertia: typeof raw.inertia === 'number' ? raw.inertia : null,
    converged: raw.converged === true,
    progress: raw.progress as number,
    elapsedMs: raw.elapsedMs as number,
    etaMs: typeof raw.etaMs === 'number' ? raw.etaMs : null,
    vectorCount: raw.vectorCount as number,
    startedAt,
    finishedAt,
    message: typeof raw.message === 'string' ? raw.message : null,
  };
}

/** Null stays null; an ISO string becomes a Date; anything else is malformed (undefined). */
function reviveDate(value: unknown): Date | null | undefined {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

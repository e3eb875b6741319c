// The one Redis transport of training events: events shared by every process on one Redis, plus
// the last status of every index, so a replica can answer "what is this index's training doing"
// for runs executing elsewhere.
//
// One pattern subscription (PSUBSCRIBE on every training topic, made before the service serves)
// delivers events to this process's subscribers and keeps the latest status per index. A
// per-topic SUBSCRIBE made when a client subscribes (createRedisTrainingEvents) would lose the
// events published while it is being set up, and would know nothing of the run's state before.
// Each publish also stores the status in a Redis hash, from which a replica that starts (or
// reconnects) later learns the statuses it missed. Each message is parsed once, on arrival.

import type { Redis } from 'ioredis';
import { createTrainingEventBus, TRAINING_TOPIC_PREFIX, type TrainingEnvelope, type TrainingEventBus } from '../training/training-events.js';
import type { RemoteTrainingStatuses } from '../training/training-scheduler.js';
import { isOneOf, TRAINING_PHASES, TRAINING_TRIGGERS } from '../enumerations.js';
import type { TrainingStatus } from '../types.js';
import type { RedisNames } from './cluster-namespace.js';
import { closeReplicaRedis, connectReplicaRedis, type ReplicaRedis } from './replica-redis.js';
import type { RedisTimeouts } from './redis-timeouts.js';

/** The Redis names used here: the cluster's training channels and its hash of latest statuses. */
export type TrainingRedisNames = Pick<RedisNames, 'trainingTopicPrefix' | 'trainingStatus'>;

export interface ReplicaTrainingEvents {
  events: TrainingEventBus;
  /** The last status any replica (this one included) published per index; forget() also clears it for later replicas. */
  runs: RemoteTrainingStatuses;
  /** Resolves once everything published so far has been stored and published by Redis. */
  flush(): Promise<void>;
}

/** The wire form: the bus's envelope plus when it was published (the publisher's clock), which orders a status against the stored one after a reconnect. */
export interface TrainingMessage extends TrainingEnvelope {
  at: number;
}

/**
 * An event target whose dispatch goes to Redis and whose listeners hear what Redis delivers. Its
 * event types are the bus's topics; on Redis each is the cluster's channel for the index.
 */
class RedisTopics extends EventTarget {
  readonly #publisher: Redis;
  readonly #names: TrainingRedisNames;

  constructor(publisher: Redis, names: TrainingRedisNames) {
    super();
    this.#publisher = publisher;
    this.#names = names;
  }

  override dispatchEvent(event: Event): boolean {
    const envelope = (event as CustomEvent<TrainingEnvelope>).detail;
    const message = JSON.stringify({ ...envelope, at: Date.now() });
    // One transaction: the stored status and the published one never disagree.
    void this.#publisher
      .multi()
      .hset(this.#names.trainingStatus, envelope.status.index, message)
      .publish(this.#names.trainingTopicPrefix + envelope.status.index, message)
      .exec()
      .catch(() => {});
    return true;
  }

  deliver(topic: string, envelope: TrainingEnvelope): void {
    super.dispatchEvent(new CustomEvent(topic, { detail: envelope }));
  }
}

/**
 * Subscribes, then loads the stored statuses, before resolving: once it has resolved, every
 * later event reaches this process. The connections belong to the caller (events.close() does
 * not close them).
 */
export async function createReplicaTrainingEvents(redis: ReplicaRedis, names: TrainingRedisNames): Promise<ReplicaTrainingEvents> {
  const { publisher, subscriber } = redis;
  const { trainingTopicPrefix: channelPrefix, trainingStatus } = names;
  const topics = new RedisTopics(publisher, names);
  const latest = new Map<string, TrainingMessage>();
  const statusListeners = new Set<(status: TrainingStatus) => void>();
  /** When each deleted index was forgotten: older statuses (our own echoes included) stay out. */
  const forgotten = new Map<string, number>();

  /** Keeps `candidate` if it is newer than what is known; true when it was kept. */
  const note = (index: string, candidate: TrainingMessage): boolean => {
    if (candidate.at <= (forgotten.get(index) ?? -1)) return false;
    const known = latest.get(index);
    if (known !== undefined && candidate.at < known.at) return false;
    latest.set(index, candidate);
    for (const listener of [...statusListeners]) listener(candidate.status);
    return true;
  };

  subscriber.on('pmessage', (_pattern: string, channel: string, message: string) => {
    if (!channel.startsWith(channelPrefix)) return;
    const received = parseTrainingMessage(message);
    if (received === null || channel !== channelPrefix + received.status.index) return;
    // Noted first, delivered second, in one step: a subscriber that reads the latest status and
    // then listens misses nothing and sees nothing twice.
    note(received.status.index, received);
    topics.deliver(TRAINING_TOPIC_PREFIX + received.status.index, received);
  });

  /** Learns the stored statuses; after a reconnect, subscribers get those that changed meanwhile. */
  const load = async (deliver: boolean): Promise<void> => {
    const stored = await publisher.hgetall(trainingStatus);
    for (const [index, message] of Object.entries(stored)) {
      const parsed = parseTrainingMessage(message);
      if (parsed === null || parsed.status.index !== index) continue;
      const known = latest.get(index);
      const changed = known === undefined || known.at !== parsed.at;
      if (note(index, parsed) && changed && deliver) topics.deliver(TRAINING_TOPIC_PREFIX + index, parsed);
    }
  };
  await subscriber.psubscribe(`${channelPrefix}*`);
  await load(false);
  // Events published while the connection was down are lost; the stored statuses are not (the end
  // of a run, above all, which a subscriber waits for).
  subscriber.on('ready', () => void load(true).catch(() => {}));

  const events = createTrainingEventBus({ remote: { target: topics } });
  return {
    events,
    runs: {
      latest: (index) => latest.get(index)?.status ?? null,
      all: () => [...latest.values()].map((message) => message.status),
      onStatus(listener) {
        statusListeners.add(listener);
        return () => statusListeners.delete(listener);
      },
      forget(index) {
        latest.delete(index);
        forgotten.set(index, Date.now());
        void publisher.hdel(trainingStatus, index).catch(() => {});
      },
    },
    flush: async () => {
      await publisher.ping();
    },
  };
}

/**
 * Training events over Redis for a service without replication (REDIS_URL with SQLite): the same
 * transport on connections of its own, which close() closes.
 */
export async function openRedisTrainingEvents(redisUrl: string, names: TrainingRedisNames, timeouts?: RedisTimeouts): Promise<TrainingEventBus> {
  const redis = await connectReplicaRedis(redisUrl, timeouts);
  let made: ReplicaTrainingEvents;
  try {
    made = await createReplicaTrainingEvents(redis, names);
  } catch (error) {
    void closeReplicaRedis(redis, 'now');
    throw error;
  }
  const { events } = made;
  return {
    publish: (index, status) => events.publish(index, status),
    subscribe: (index) => events.subscribe(index),
    subscriberCount: (index) => events.subscriberCount(index),
    close: async () => {
      await events.close();
      await closeReplicaRedis(redis);
    },
  };
}

/**
 * Parses a Redis message (one JSON.parse, Dates revived from their ISO strings). Anything that is
 * not a well-formed message (another publisher on the channel) becomes null and is ignored; a
 * message without its time of publication counts as older than any other.
 */
export function parseTrainingMessage(message: string): TrainingMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return null;
  }
  if (!isRecord(value) || typeof value.origin !== 'string' || !isRecord(value.status)) return null;
  const status = reviveStatus(value.status);
  return status === null ? null : { origin: value.origin, status, at: typeof value.at === 'number' ? value.at : 0 };
}

/** A status from its JSON form (Dates from ISO strings); null when malformed. */
export function reviveStatus(raw: Record<string, unknown>): TrainingStatus | null {
  const numbers = ['iteration', 'maxIters', 'nLists', 'batchSize', 'tolerance', 'progress', 'elapsedMs', 'vectorCount'] as const;
  if (typeof raw.index !== 'string' || !isOneOf(TRAINING_PHASES, raw.phase)) return null;
  if (!numbers.every((name) => typeof raw[name] === 'number')) return null;
  const startedAt = reviveDate(raw.startedAt);
  const finishedAt = reviveDate(raw.finishedAt);
  if (startedAt === undefined || finishedAt === undefined) return null;
  const trigger = isOneOf(TRAINING_TRIGGERS, raw.trigger) ? raw.trigger : null;
  return {
    runId: typeof raw.runId === 'string' ? raw.runId : null,
    index: raw.index,
    trigger,
    phase: raw.phase,
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
    ...(typeof raw.replica === 'string' ? { replica: raw.replica } : {}),
  };
}

/** Null stays null; an ISO string becomes a Date; anything else is malformed (undefined). */
function reviveDate(value: unknown): Date | null | undefined {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Training events shared by replicas through Redis, plus the last status of every index, so a
// replica can answer "what is this index's training doing" for runs executing elsewhere.
//
// One pattern subscription (PSUBSCRIBE on every training topic, made before the service serves)
// delivers events to this process's subscribers and keeps the latest status per index. A
// per-topic SUBSCRIBE made when a client subscribes (createRedisTrainingEvents) would lose the
// events published while it is being set up, and would know nothing of the run's state before.
// Each publish also stores the status in a Redis hash, from which a replica that starts (or
// reconnects) later learns the statuses it missed. Topic names and envelopes are those of
// training-events.ts, so both kinds of replica understand each other.

import type { Redis } from 'ioredis';
import { createTrainingEventBus, parseEnvelope, type TrainingEventBus } from '../training/training-events.js';
import type { RemoteTrainingStatuses } from '../training/training-scheduler.js';
import type { TrainingStatus } from '../types.js';

type Envelope = NonNullable<ReturnType<typeof parseEnvelope>>;

export const TRAINING_TOPIC_PREFIX = 'cipherdex:training:';
/** Hash of index name -> the last envelope published for it. */
export const LATEST_STATUS_KEY = 'cipherdex:training-status';

export interface ReplicaTrainingEvents {
  events: TrainingEventBus;
  /** The last status any replica (this one included) published per index; forget() also clears it for later replicas. */
  runs: RemoteTrainingStatuses;
  /** Resolves once everything published so far has been stored and published by Redis. */
  flush(): Promise<void>;
}

export interface ReplicaRedis {
  /** Publishes and stores; commands wait out outages (maxRetriesPerRequest: null). */
  publisher: Redis;
  /** In subscriber mode once a subscription is made. */
  subscriber: Redis;
}

interface Latest {
  status: TrainingStatus;
  /** When it was published (the publisher's clock): orders a status against the stored one after a reconnect. */
  at: number;
}

/** The wire form: an envelope of training-events.ts plus the time of publication. */
function parseMessage(message: string): Latest | null {
  const envelope: Envelope | null = parseEnvelope(message);
  if (envelope === null) return null;
  const at = (JSON.parse(message) as { at?: unknown }).at;
  return { status: envelope.status, at: typeof at === 'number' ? at : 0 };
}

/** An event target whose dispatch goes to Redis and whose listeners hear what Redis delivers. */
class RedisTopics extends EventTarget {
  readonly #publisher: Redis;

  constructor(publisher: Redis) {
    super();
    this.#publisher = publisher;
  }

  override dispatchEvent(event: Event): boolean {
    const envelope = (event as CustomEvent<Envelope>).detail;
    const message = JSON.stringify({ ...envelope, at: Date.now() });
    // One transaction: the stored status and the published one never disagree.
    void this.#publisher
      .multi()
      .hset(LATEST_STATUS_KEY, envelope.status.index, message)
      .publish(event.type, message)
      .exec()
      .catch(() => {});
    return true;
  }

  deliver(topic: string, envelope: Envelope): void {
    super.dispatchEvent(new CustomEvent(topic, { detail: envelope }));
  }
}

/**
 * Subscribes, then loads the stored statuses, before resolving: once it has resolved, every
 * later event reaches this process. The connections belong to the caller (events.close() does
 * not close them).
 */
export async function createReplicaTrainingEvents(redis: ReplicaRedis): Promise<ReplicaTrainingEvents> {
  const { publisher, subscriber } = redis;
  const topics = new RedisTopics(publisher);
  const latest = new Map<string, Latest>();
  /** When each deleted index was forgotten: older statuses (our own echoes included) stay out. */
  const forgotten = new Map<string, number>();

  /** Keeps `candidate` if it is newer than what is known; true when it was kept. */
  const note = (index: string, candidate: Latest): boolean => {
    if (candidate.at <= (forgotten.get(index) ?? -1)) return false;
    const known = latest.get(index);
    if (known !== undefined && candidate.at < known.at) return false;
    latest.set(index, candidate);
    return true;
  };

  subscriber.on('pmessage', (_pattern: string, topic: string, message: string) => {
    if (!topic.startsWith(TRAINING_TOPIC_PREFIX)) return;
    const received = parseMessage(message);
    if (received === null || topic !== TRAINING_TOPIC_PREFIX + received.status.index) return;
    // Noted first, delivered second, in one step: a subscriber that reads the latest status and
    // then listens misses nothing and sees nothing twice.
    note(received.status.index, received);
    topics.deliver(topic, parseEnvelope(message)!);
  });

  /** Learns the stored statuses; after a reconnect, subscribers get those that changed meanwhile. */
  const load = async (deliver: boolean): Promise<void> => {
    const stored = await publisher.hgetall(LATEST_STATUS_KEY);
    for (const [index, message] of Object.entries(stored)) {
      const parsed = parseMessage(message);
      if (parsed === null || parsed.status.index !== index) continue;
      const known = latest.get(index);
      const changed = known === undefined || known.at !== parsed.at;
      if (note(index, parsed) && changed && deliver) topics.deliver(TRAINING_TOPIC_PREFIX + index, parseEnvelope(message)!);
    }
  };
  await subscriber.psubscribe(`${TRAINING_TOPIC_PREFIX}*`);
  await load(false);
  // Events published while the connection was down are lost; the stored statuses are not (the end
  // of a run, above all, which a subscriber waits for).
  subscriber.on('ready', () => void load(true).catch(() => {}));

  const events = createTrainingEventBus({ remote: { target: topics }, topicPrefix: TRAINING_TOPIC_PREFIX });
  return {
    events,
    runs: {
      latest: (index) => latest.get(index)?.status ?? null,
      forget(index) {
        latest.delete(index);
        forgotten.set(index, Date.now());
        void publisher.hdel(LATEST_STATUS_KEY, index).catch(() => {});
      },
    },
    flush: async () => {
      await publisher.ping();
    },
  };
}

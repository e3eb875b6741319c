// Starting runs: the automatic rule with its retry window, the lease a run claims first (with
// replicas) and gives back when the run ends, the pin that keeps the index in memory meanwhile,
// and which failures an automatic start keeps to itself (the typed ones) and which it surfaces;
// an explicit caller that waits joins the active run or gets one follow-up run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { IndexCipher, generateDataKey } from '../../../src/crypto/index.js';
import { StoreUnavailableError, TrainingInProgressError, ValidationError } from '../../../src/service/errors.js';
import { validateItems } from '../../../src/service/input/input-validation.js';
import { AcceptedKeys } from '../../../src/service/open/accepted-keys.js';
import { OpenIndex } from '../../../src/service/open/open-index.js';
import { sealIndexConfig, type IndexConfig } from '../../../src/service/records/index-config-record.js';
import { createLocalTrainingEvents } from '../../../src/service/training/training-events.js';
import { AUTO_TRAIN_RETRY_MS, TrainingRuns, type RunLease, type RunLeases } from '../../../src/service/training/training-runs.js';
import { TrainingScheduler, type TrainingJob } from '../../../src/service/training/training-scheduler.js';
import { SqliteStore } from '../../../src/storage/index.js';
import { seededVectors } from '../reference-search.js';

const DIM = 4;
const VECTORS = 40;
const settings = { autoTrainEnabled: true, retrainThreshold: VECTORS, retrainGrowthFactor: 4, trainingMemoryBudget: 2 ** 30 };

/** Leases that record what they were asked, and fail claims with `refusal` while it is set. */
class RecordingLeases implements RunLeases {
  claims: string[] = [];
  released: string[] = [];
  refusal: Error | null = null;
  failJobs = false;

  async claim(index: string, runId: string): Promise<RunLease> {
    this.claims.push(runId);
    if (this.refusal !== null) throw this.refusal;
    return {
      guard: (job: TrainingJob): TrainingJob => (this.failJobs ? () => Promise.reject(new Error('lease lost')) : job),
      release: async () => {
        this.released.push(runId);
      },
    };
  }
}

let dir: string;
let store: SqliteStore;
let open: OpenIndex;
let scheduler: TrainingScheduler;
let leases: RecordingLeases;
let clock: number;

async function openIndexWithVectors(name: string): Promise<OpenIndex> {
  const config: IndexConfig = { dimension: DIM, metric: 'euclidean', type: 'ivf_flat', nLists: null };
  const cipher = new IndexCipher(generateDataKey());
  await store.createIndex({ name, wrappedDataKey: Buffer.alloc(48, 1), sealedConfig: sealIndexConfig(cipher, name, config) });
  const index = new OpenIndex(name, config, new Date(), cipher, new AcceptedKeys(name, Buffer.alloc(48, 1)));
  const items = seededVectors(VECTORS, DIM, 3).map((vector, i) => ({ id: `item-${i}`, vector }));
  const prepared = await index.prepare(validateItems(items, DIM, 'euclidean', loadConfig({}).limits));
  await store.putItems(name, prepared.map((item) => item.stored));
  index.applyUpserts(prepared.map((item) => item.record));
  return index;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cipherdex-training-runs-'));
  store = await SqliteStore.open(join(dir, 'store.db'));
  open = await openIndexWithVectors('docs');
  clock = Date.now();
  scheduler = new TrainingScheduler({ maxConcurrent: 1, events: createLocalTrainingEvents(), now: () => clock });
  leases = new RecordingLeases();
});

afterEach(async () => {
  await scheduler.close();
  open.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function runs(overrides: Partial<typeof settings> = {}, withLeases = true): TrainingRuns {
  return new TrainingRuns({ config: { ...settings, ...overrides }, store, scheduler, leases: withLeases ? leases : null });
}

describe('an automatic run', () => {
  it('claims the lease first, keeps the index pinned while it runs, and releases both when it ends', async () => {
    await runs().maybeAutoTrain(open);
    expect(leases.claims).toHaveLength(1);
    const [runId] = leases.claims;
    expect(scheduler.lastRun('docs')).toMatchObject({ runId, trigger: 'AUTOMATIC' });
    expect(open.inUse).toBe(true);
    const final = await scheduler.waitFor(runId);
    expect(final.phase).toBe('COMPLETED');
    await new Promise((resolve) => setImmediate(resolve));
    expect(open.inUse).toBe(false);
    expect(leases.released).toEqual([runId]);
    expect(open.isTrained).toBe(true);
  });

  it('is not queued below the threshold or when auto-training is off', async () => {
    await runs({ retrainThreshold: VECTORS + 1 }).maybeAutoTrain(open);
    await runs({ autoTrainEnabled: false }).maybeAutoTrain(open);
    expect(leases.claims).toEqual([]);
    expect(scheduler.lastRun('docs')).toBeNull();
  });

  it.each([
    ['within the retry window, is not queued again', 0, 1],
    ['once the retry window has passed, is queued again', AUTO_TRAIN_RETRY_MS + 1, 2],
  ])('after a failed run, %s', async (_, sinceFailure, claims) => {
    clock = Date.now() - sinceFailure;
    leases.failJobs = true;
    const training = runs();
    await training.maybeAutoTrain(open);
    expect((await scheduler.waitFor(leases.claims[0])).phase).toBe('FAILED');
    await training.maybeAutoTrain(open);
    expect(leases.claims).toHaveLength(claims);
  });

  it('keeps typed refusals to itself: a run elsewhere, a database that cannot grant the lease', async () => {
    const training = runs();
    leases.refusal = new TrainingInProgressError('docs', 'run-elsewhere');
    await expect(training.maybeAutoTrain(open)).resolves.toBeUndefined();
    leases.refusal = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    await expect(training.maybeAutoTrain(open)).resolves.toBeUndefined();
    expect(leases.claims).toHaveLength(2);
    expect(scheduler.lastRun('docs')).toBeNull();
    expect(open.inUse).toBe(false);
    // A manual run gets the same fault as a typed error.
    await expect(training.train(open, {})).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('surfaces an unexpected error even with replicas, leaving the index unpinned', async () => {
    const bug = new TypeError('a bug in the lease code');
    leases.refusal = bug;
    await expect(runs().maybeAutoTrain(open)).rejects.toBe(bug);
    expect(open.inUse).toBe(false);
    expect(scheduler.lastRun('docs')).toBeNull();
  });
});

describe('waitFor', () => {
  it('refuses what is not a run id', async () => {
    await expect(runs().waitFor('')).rejects.toMatchObject({ code: 'VALIDATION_ERROR', argument: 'runId' });
  });
});

describe('trainAndWait, with a run of the index already active', () => {
  /** Holds the one training slot until released, so that the runs queued behind it stay queued. */
  function occupySlot(): () => void {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    scheduler.enqueue({
      index: 'busy', trigger: 'AUTOMATIC', vectorCount: 1, params: { nLists: 1, batchSize: 1, maxIters: 1, tolerance: 0 },
      job: async () => (await held, { iterations: 1, shift: 0, inertia: 0, converged: true }),
    });
    return release;
  }

  it('joins a queued automatic run and moves it ahead of the other automatic runs', async () => {
    const release = occupySlot();
    const training = runs({}, false);
    const other = await openIndexWithVectors('other');
    await training.maybeAutoTrain(other);
    await training.maybeAutoTrain(open);
    expect(scheduler.snapshot().queued.map((r) => r.index)).toEqual(['other', 'docs']);
    const automatic = scheduler.activeRun('docs')!;
    let followUps = 0;
    const { done } = await training.trainAndWait(open, {}, async () => (followUps++, training.train(open, {})));
    expect(scheduler.snapshot().queued.map((r) => r.index)).toEqual(['docs', 'other']);
    release();
    const final = await done;
    expect(final).toMatchObject({ runId: automatic.runId, trigger: 'AUTOMATIC', phase: 'COMPLETED' });
    expect(followUps).toBe(0);
    await scheduler.waitFor(scheduler.activeRun('other')!.runId);
    other.close();
  });

  it('queues one follow-up run when the arguments differ, shared by callers asking the same, and refuses others', async () => {
    const release = occupySlot();
    const training = runs({}, false);
    await training.maybeAutoTrain(open);
    const automatic = scheduler.activeRun('docs')!;
    expect(automatic.nLists).not.toBe(4);
    let followUps = 0;
    const start = async () => (followUps++, training.train(open, { nLists: 4 }));
    const first = await training.trainAndWait(open, { nLists: 4 }, start);
    const second = await training.trainAndWait(open, { nLists: 4 }, start);
    await expect(training.trainAndWait(open, { nLists: 5 }, start)).rejects.toBeInstanceOf(TrainingInProgressError);
    await expect(training.trainAndWait(open, { nLists: 4, requireConvergence: true }, start)).rejects.toBeInstanceOf(TrainingInProgressError);
    // Bad arguments are refused as such, whatever is running.
    await expect(training.trainAndWait(open, { nLists: 0 }, start)).rejects.toBeInstanceOf(ValidationError);
    // Automatic runs stay out of the follow-up's way.
    expect(scheduler.activeRun('docs')?.runId).toBe(automatic.runId);
    release();
    const [a, b] = await Promise.all([first.done, second.done]);
    expect(a).toEqual(b);
    expect(a).toMatchObject({ trigger: 'MANUAL', nLists: 4, phase: 'COMPLETED' });
    expect(a.runId).not.toBe(automatic.runId);
    expect((await scheduler.waitFor(automatic.runId)).phase).toBe('COMPLETED');
    expect(followUps).toBe(1);
    // With the follow-up done, the index trains afresh.
    const again = await training.trainAndWait(open, { nLists: 5 }, start);
    expect(await again.done).toMatchObject({ trigger: 'MANUAL', nLists: 5, phase: 'COMPLETED' });
  });

  it('joins a run that requires convergence only when the caller requires it too', async () => {
    const release = occupySlot();
    const training = runs({}, false);
    const required = await training.train(open, { nLists: 4, maxIters: 1, tolerance: 0, requireConvergence: true });
    let followUps = 0;
    const start = async () => (followUps++, training.train(open, { nLists: 4 }));
    const joined = await training.trainAndWait(open, { requireConvergence: true }, start);
    const relaxed = await training.trainAndWait(open, {}, start);
    release();
    await expect(joined.done).rejects.toMatchObject({ code: 'CONVERGENCE_FAILED' });
    expect(await relaxed.done).toMatchObject({ trigger: 'MANUAL', nLists: 4, phase: 'COMPLETED' });
    expect((await scheduler.waitFor(required.runId)).phase).toBe('FAILED');
    expect(followUps).toBe(1);
  });
});

// The tenant's view of the index service: a name outside the prefix is refused as absent before the
// service under it is asked anything (no call at all, so no work whose timing could tell); names
// inside pass through unchanged; listings and the queue leave other tenants out; a queue update
// that changes only other tenants' runs never reaches the tenant.

import { describe, expect, it } from 'vitest';
import { LatestValueStream } from '../../../src/service/latest-value-stream.js';
import {
  IndexNotFoundError,
  NO_INDEX_NAMES,
  namePrefixScope,
  scopedIndexService,
  ValidationError,
  type IndexService,
  type TrainingQueueInfo,
  type TrainingRun,
} from '../../../src/service/index.js';

interface Call {
  method: string;
  args: unknown[];
}

/** An IndexService that records every call and answers each with a token naming the method. */
function recordingService(answers: Partial<Record<keyof IndexService, (...args: unknown[]) => unknown>> = {}): { service: IndexService; calls: Call[] } {
  const calls: Call[] = [];
  const service = new Proxy(
    {},
    {
      get(_target, property) {
        const method = String(property);
        return (...args: unknown[]) => {
          calls.push({ method, args });
          const answer = answers[method as keyof IndexService];
          return answer !== undefined ? answer(...args) : Promise.resolve(`answer of ${method}`);
        };
      },
    },
  ) as IndexService;
  return { service, calls };
}

const KEY = 'index-key';

/**
 * Every method that takes an index name, with arguments after the name. A Record over the
 * interface's keys: a method added to IndexService does not compile here until it is listed.
 */
const NAMED: Record<Exclude<keyof IndexService, 'createIndex' | 'listIndexes' | 'waitForRun' | 'trainingQueue' | 'trainingQueueUpdates' | 'residentMemory' | 'ping' | 'close'>, unknown[]> = {
  describeIndex: [KEY],
  deleteIndex: [KEY],
  rotateIndexKey: [KEY, 'new-key'],
  upsert: [KEY, [{ id: 'a', vector: [1] }]],
  get: [KEY, ['a'], ['contents']],
  delete: [KEY, ['a']],
  listIds: [KEY],
  browse: [KEY, { first: 2 }],
  count: [KEY, { kind: 'x' }],
  deleteItems: [KEY, { ids: ['a'] }],
  deleteWhere: [KEY, { kind: 'x' }],
  update: [KEY, ['a'], { contents: 'c' }],
  search: [KEY, [[1]], { topK: 3 }],
  train: [KEY, { nLists: 2 }],
  cancelTraining: [KEY],
  trainingStatus: [KEY],
  trainingRuns: [KEY, { first: 1 }],
  trainingRun: [KEY, 'run-1'],
  indexStats: [KEY],
  createIndexGrant: [KEY, { permissions: ['READ'] }],
  revokeIndexGrant: [KEY, 'grant-1'],
  indexGrants: [KEY],
};

function call(service: IndexService, method: string, name: string, rest: unknown[]): Promise<unknown> {
  return (service as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[method]!(name, ...rest);
}

function run(index: string, runId: string, phase: TrainingRun['phase']): TrainingRun {
  return { index, runId, phase, trigger: 'MANUAL' } as TrainingRun;
}

function queue(running: TrainingRun[], queued: TrainingRun[] = []): TrainingQueueInfo {
  return { retrainThreshold: 10, autoTrainEnabled: true, retrainGrowthFactor: 4, maxConcurrentTrainings: 1, running, queued };
}

describe('scopedIndexService', () => {
  for (const [method, rest] of Object.entries(NAMED)) {
    it(`${method}: another tenant's name is IndexNotFoundError without a call below; its own passes through unchanged`, async () => {
      const { service, calls } = recordingService();
      const acme = scopedIndexService(service, namePrefixScope('acme-'));
      for (const foreign of ['globex-docs', 'acme', 'ACME-docs', 'x-acme-docs', '']) {
        const refusal = call(acme, method, foreign, rest);
        await expect(refusal).rejects.toBeInstanceOf(IndexNotFoundError);
        await expect(refusal).rejects.toMatchObject({ index: foreign, message: new IndexNotFoundError(foreign).message });
      }
      expect(calls).toEqual([]);
      await expect(call(acme, method, 'acme-docs', rest)).resolves.toBe(`answer of ${method}`);
      expect(calls).toEqual([{ method, args: ['acme-docs', ...rest] }]);
    });
  }

  it('createIndex outside the prefix is a ValidationError on name, whether or not such an index exists, and creates nothing', async () => {
    const { service, calls } = recordingService();
    const acme = scopedIndexService(service, namePrefixScope('acme-'));
    const refusal = acme.createIndex('globex-docs', KEY, { dimension: 4 });
    await expect(refusal).rejects.toBeInstanceOf(ValidationError);
    await expect(refusal).rejects.toMatchObject({ argument: 'name' });
    expect(calls).toEqual([]);
    await expect(acme.createIndex('acme-docs', KEY, { dimension: 4 })).resolves.toBe('answer of createIndex');
    expect(calls).toEqual([{ method: 'createIndex', args: ['acme-docs', KEY, { dimension: 4 }] }]);
  });

  it("lists only the tenant's indexes and queued or running runs", async () => {
    const all = queue([run('globex-a', 'r1', 'ITERATING'), run('acme-a', 'r2', 'ITERATING')], [run('acme-b', 'r3', 'QUEUED'), run('globex-b', 'r4', 'QUEUED')]);
    const { service } = recordingService({
      listIndexes: async () => ['acme-a', 'acme-b', 'acmecorp', 'globex-a', 'globex-b'],
      trainingQueue: () => all,
    });
    const acme = scopedIndexService(service, namePrefixScope('acme-'));
    expect(await acme.listIndexes()).toEqual(['acme-a', 'acme-b']);
    const seen = acme.trainingQueue();
    expect(seen.running.map((r) => r.index)).toEqual(['acme-a']);
    expect(seen.queued.map((r) => r.index)).toEqual(['acme-b']);
    expect(seen).toMatchObject({ retrainThreshold: 10, autoTrainEnabled: true, retrainGrowthFactor: 4, maxConcurrentTrainings: 1 });
    // The view copies: the service's own snapshot is untouched.
    expect(all.running).toHaveLength(2);
  });

  it("a queue update that changes only other tenants' runs does not reach the tenant; return() ends the stream at once", async () => {
    let ended = 0;
    const updates = new LatestValueStream<TrainingQueueInfo>(() => ended++);
    const { service } = recordingService({ trainingQueueUpdates: () => updates });
    const stream = scopedIndexService(service, namePrefixScope('acme-')).trainingQueueUpdates();

    updates.offer(queue([]));
    expect((await stream.next()).value).toEqual(queue([]));
    // Globex starts a run, then acme queues one: the tenant sees only the second change.
    updates.offer(queue([run('globex-a', 'g1', 'ITERATING')]));
    const next = stream.next();
    await new Promise((resolve) => setTimeout(resolve, 10));
    updates.offer(queue([run('globex-a', 'g1', 'ITERATING')], [run('acme-a', 'a1', 'QUEUED')]));
    expect((await next).value).toEqual(queue([], [run('acme-a', 'a1', 'QUEUED')]));
    // Globex's run ends; acme's starts: one update, acme's run only.
    updates.offer(queue([run('globex-a', 'g2', 'ITERATING')], [run('acme-a', 'a1', 'QUEUED')]));
    updates.offer(queue([run('acme-a', 'a1', 'ITERATING')]));
    expect((await stream.next()).value).toEqual(queue([run('acme-a', 'a1', 'ITERATING')]));

    // A client that leaves while nothing changes: its pending next() ends, and so does the service's stream.
    const waiting = stream.next();
    await stream.return!();
    expect(await waiting).toEqual({ value: undefined, done: true });
    expect(ended).toBe(1);
  });

  it('reaches nothing without a key (NO_INDEX_NAMES), and waitForRun, which names no index, is not offered', async () => {
    const { service, calls } = recordingService({ listIndexes: async () => ['acme-a'] });
    const none = scopedIndexService(service, NO_INDEX_NAMES);
    await expect(none.describeIndex('acme-a', KEY)).rejects.toBeInstanceOf(IndexNotFoundError);
    await expect(none.createIndex('acme-a', KEY, { dimension: 4 })).rejects.toBeInstanceOf(ValidationError);
    expect(calls).toEqual([]);
    expect(await none.listIndexes()).toEqual([]);
    const acme = scopedIndexService(service, namePrefixScope('acme-'));
    await expect(acme.waitForRun('run-1')).rejects.toMatchObject({ argument: 'runId' });
    expect(calls.map((c) => c.method)).toEqual(['listIndexes']);
  });
});

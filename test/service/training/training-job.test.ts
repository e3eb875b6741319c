// Training through the service on both stores: runs complete and swap in a persisted model,
// searches stay correct before, during and after, writes made during a run are placed, every
// documented refusal is a typed error, and automatic training follows the policy.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConvergenceError,
  IncompatibleIndexError,
  InsufficientResourcesError,
  InsufficientVectorsError,
  TrainingInProgressError,
  ValidationError,
} from '../../../src/service/errors.js';
import type { CipherdexIndexService } from '../../../src/service/index-service.js';
import type { ItemInput, TrainingPhase, TrainingStatus } from '../../../src/service/types.js';
import { bruteForce, recall, seededVectors } from '../reference-search.js';
import { forEachStore, newKey, type ServiceStoreHarness } from '../service-harness.js';
import { rejection } from '../../support/rejection.js';

const DIM = 8;
const EMBEDDINGS = fileURLToPath(new URL('../../../../shared/data/bge-m3-alice-pp-1000x1024/', import.meta.url));

function itemsOf(vectors: number[][], prefix = 'item'): ItemInput[] {
  return vectors.map((vector, i) => ({ id: `${prefix}-${i}`, vector, metadata: { i } }));
}

/** Every hit list equals brute force over `items` (same ids in the same order). */
async function expectExact(service: CipherdexIndexService, name: string, key: string, items: ItemInput[], queries: number[][], nProbes?: number) {
  const results = await service.search(name, key, queries, { topK: 5, nProbes });
  results.forEach((result, q) => {
    expect(result.exact).toBe(true);
    expect(result.hits.map((hit) => hit.id)).toEqual(bruteForce('euclidean', items.map((item) => ({ id: item.id, vector: item.vector })), queries[q], 5).map((hit) => hit.id));
  });
}

forEachStore((fresh) => {
  let harness: ServiceStoreHarness;
  let service: CipherdexIndexService;
  const key = newKey();
  const items = itemsOf(seededVectors(300, DIM, 1));
  const queries = seededVectors(6, DIM, 2);

  beforeEach(async () => {
    harness = await fresh();
    service = await harness.service();
    await service.createIndex('docs', key, { dimension: DIM });
    await service.upsert('docs', key, items);
  });

  afterEach(async () => {
    await harness.dispose();
  });

  describe('a manual run', () => {
    it('trains, swaps in the model, stays exact with every list probed, and reloads the persisted model', async () => {
      const run = await service.train('docs', key, { nLists: 6, maxIters: 50 });
      expect(run).toMatchObject({ index: 'docs', trigger: 'MANUAL', nLists: 6, maxIters: 50, batchSize: 2048, tolerance: 1e-6, vectorCount: 300 });
      expect(['QUEUED', 'INITIALIZING']).toContain(run.phase);
      const final = await service.waitForRun(run.runId);
      expect(final).toMatchObject({ runId: run.runId, phase: 'COMPLETED', progress: 1 });
      expect(final.iteration).toBeGreaterThan(0);
      const info = await service.describeIndex('docs', key);
      expect(info).toMatchObject({ isTrained: true, isTraining: false, nLists: 6, lastTrainingRun: { runId: run.runId, phase: 'COMPLETED' } });

      await expectExact(service, 'docs', key, items, queries, 6);
      const probed = await service.search('docs', key, queries, { topK: 5, nProbes: 1 });
      expect(probed.every((result) => result.exact === false)).toBe(true);
      expect(await harness.rawIndexColumn('docs', 'sealed_model')).not.toBeNull();

      // A new process applies the stored model without training again, and answers the same.
      const before = await service.search('docs', key, queries, { topK: 5, nProbes: 2 });
      await service.close();
      const reopened = await harness.service();
      expect(await reopened.describeIndex('docs', key)).toMatchObject({
        isTrained: true,
        nLists: 6,
        vectorCount: 300,
        // The run that made the model, read back from the model record.
        lastTrainingRun: { runId: run.runId, trigger: 'MANUAL', phase: 'COMPLETED', nLists: 6, maxIters: 50, iteration: final.iteration, vectorCount: 300, converged: final.converged },
      });
      expect(await reopened.search('docs', key, queries, { topK: 5, nProbes: 2 })).toEqual(before);
      await expectExact(reopened, 'docs', key, items, queries, 6);
    });

    it('with wait, resolves with the final run; defaults nLists from the vector count', async () => {
      const final = await service.train('docs', key, { wait: true });
      expect(final.phase).toBe('COMPLETED');
      expect(final.nLists).toBeGreaterThanOrEqual(1);
      expect(final.nLists).toBeLessThanOrEqual(150);
      expect((await service.describeIndex('docs', key)).nLists).toBe(final.nLists);
    });

    it('publishes every phase on trainingStatus, from the current state on', async () => {
      const stream = await service.trainingStatus('docs', key);
      const first = await stream.next();
      expect(first.value).toMatchObject({ phase: 'IDLE', runId: null, index: 'docs' });
      const run = await service.train('docs', key, { nLists: 4, maxIters: 20, tolerance: 0 });
      const seen: TrainingStatus[] = [];
      for (;;) {
        const { value } = await stream.next();
        seen.push(value as TrainingStatus);
        if (['COMPLETED', 'FAILED', 'CANCELLED'].includes((value as TrainingStatus).phase)) break;
      }
      await stream.return?.();
      const phases = [...new Set(seen.map((status) => status.phase))];
      expect(phases[phases.length - 1]).toBe('COMPLETED');
      for (const phase of ['ITERATING', 'PERSISTING'] as TrainingPhase[]) expect(phases).toContain(phase);
      expect(seen.every((status) => status.runId === run.runId)).toBe(true);
      const iterations = seen.filter((status) => status.phase === 'ITERATING').map((status) => status.iteration);
      expect(iterations).toEqual([...iterations].sort((a, b) => a - b));
    });

    it('serves searches from the previous state during a run and places writes made meanwhile', async () => {
      const run = await service.train('docs', key, { nLists: 5 });
      // Whatever the run is doing now, answers are exact (the index has no model yet).
      await expectExact(service, 'docs', key, items, queries);
      const added = itemsOf(seededVectors(40, DIM, 3), 'late');
      const replaced = itemsOf(seededVectors(10, DIM, 4)).map((item, i) => ({ ...item, id: `item-${i * 7}` }));
      await service.upsert('docs', key, [...added, ...replaced]);
      await service.delete('docs', key, ['item-1', 'item-2']);
      expect((await service.waitForRun(run.runId)).phase).toBe('COMPLETED');
      const current = new Map<string, ItemInput>();
      for (const item of [...items, ...added, ...replaced]) current.set(item.id, item);
      current.delete('item-1');
      current.delete('item-2');
      const all = [...current.values()];
      expect((await service.describeIndex('docs', key)).vectorCount).toBe(all.length);
      await expectExact(service, 'docs', key, all, [...queries, added[3].vector as number[], replaced[2].vector as number[]], 5);
      // Every item sits in the list of its nearest centroid: probing one list finds it by its own vector.
      const findsItself = async (svc: CipherdexIndexService) => {
        const results = await svc.search('docs', key, all.map((item) => item.vector), { topK: 1, nProbes: 1 });
        return all.filter((item, i) => results[i].hits[0]?.id !== item.id).map((item) => item.id);
      };
      expect(await findsItself(service)).toEqual([]);
      // Replaced after the model was stored: the stored assignment no longer describes these items.
      const movedLater = itemsOf(seededVectors(20, DIM, 9)).map((item, i) => ({ ...item, id: `item-${100 + i}`, vector: (item.vector as number[]).map((v) => -v) }));
      await service.upsert('docs', key, movedLater);
      for (const item of movedLater) current.set(item.id, item);
      all.splice(0, all.length, ...current.values());
      expect(await findsItself(service)).toEqual([]);
      // After a restart the stored assignments are reused only for unchanged items; the rest are placed anew.
      await service.close();
      const reopened = await harness.service();
      await expectExact(reopened, 'docs', key, all, [...queries, added[3].vector as number[], replaced[2].vector as number[]], 5);
      expect(await findsItself(reopened)).toEqual([]);
    });
  });

  describe('refusals', () => {
    it('refuses out-of-range parameters with ValidationError naming each', async () => {
      const cases: [Record<string, number>, string][] = [
        [{ nLists: 0 }, 'nLists'],
        [{ nLists: 65_537 }, 'nLists'],
        [{ nLists: 1.5 }, 'nLists'],
        [{ batchSize: 0 }, 'batchSize'],
        [{ maxIters: 0 }, 'maxIters'],
        [{ maxIters: 10_001 }, 'maxIters'],
        [{ tolerance: -1e-9 }, 'tolerance'],
        [{ tolerance: Number.NaN }, 'tolerance'],
        [{ tolerance: Infinity }, 'tolerance'],
      ];
      for (const [options, argument] of cases) {
        const error = await rejection(service.train('docs', key, options));
        expect(error, JSON.stringify(options)).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).argument).toBe(argument);
      }
      expect((await service.describeIndex('docs', key)).lastTrainingRun).toBeNull();
    });

    it('refuses too few vectors with InsufficientVectorsError { required, actual }', async () => {
      await service.createIndex('empty', key, { dimension: DIM });
      expect(await rejection(service.train('empty', key))).toBeInstanceOf(InsufficientVectorsError);
      const error = await rejection(service.train('docs', key, { nLists: 151 }));
      expect(error).toBeInstanceOf(InsufficientVectorsError);
      expect(error).toMatchObject({ required: 302, actual: 300 });
    });

    it('refuses lists that contradict the configured nLists with IncompatibleIndexError', async () => {
      await service.createIndex('fixed', key, { dimension: DIM, nLists: 4 });
      await service.upsert('fixed', key, items.slice(0, 50));
      expect(await rejection(service.train('fixed', key, { nLists: 5 }))).toBeInstanceOf(IncompatibleIndexError);
      expect((await service.train('fixed', key, { wait: true })).nLists).toBe(4);
    });

    it('refuses a job over the memory budget with InsufficientResourcesError', async () => {
      const small = await harness.service({ trainingMemoryBudget: 1024 });
      const error = await rejection(small.train('docs', key, { nLists: 4 }));
      expect(error).toBeInstanceOf(InsufficientResourcesError);
      expect((error as InsufficientResourcesError).availableBytes).toBe(1024);
      expect((error as InsufficientResourcesError).requiredBytes).toBeGreaterThan(1024);
    });

    it('refuses a second run while one is queued or running with TrainingInProgressError', async () => {
      const run = await service.train('docs', key, { nLists: 4 });
      const error = await rejection(service.train('docs', key, { nLists: 4 }));
      expect(error).toBeInstanceOf(TrainingInProgressError);
      expect((error as TrainingInProgressError).runId).toBe(run.runId);
      await service.waitForRun(run.runId);
    });

    it('with requireConvergence, does not swap in a run that stopped above tolerance', async () => {
      const run = await service.train('docs', key, { nLists: 8, maxIters: 1, tolerance: 0, requireConvergence: true });
      const error = await rejection(service.waitForRun(run.runId));
      expect(error).toBeInstanceOf(ConvergenceError);
      expect(error).toMatchObject({ iterations: 1, tolerance: 0 });
      expect(await service.describeIndex('docs', key)).toMatchObject({ isTrained: false, lastTrainingRun: { phase: 'FAILED' } });
      expect(await harness.rawIndexColumn('docs', 'sealed_model')).toBeNull();
      expect(await rejection(service.train('docs', key, { nLists: 8, maxIters: 1, tolerance: 0, requireConvergence: true, wait: true }))).toBeInstanceOf(ConvergenceError);
    });

    it('cancels a run: it ends CANCELLED and the index keeps its previous state', async () => {
      const run = await service.train('docs', key, { nLists: 4, maxIters: 10_000, tolerance: 0 });
      const cancelling = await service.cancelTraining('docs', key);
      expect(cancelling.runId).toBe(run.runId);
      const final = await service.waitForRun(run.runId);
      // A run that reached its commit point before the cancel arrived completes instead.
      expect(['CANCELLED', 'COMPLETED']).toContain(final.phase);
      expect((await service.describeIndex('docs', key)).isTrained).toBe(final.phase === 'COMPLETED');
    });

    it('cancels the run of an index being deleted, and forgets it', async () => {
      const run = await service.train('docs', key, { nLists: 4, maxIters: 10_000, tolerance: 0 });
      await service.deleteIndex('docs', key);
      expect((await service.waitForRun(run.runId)).phase).toBe('CANCELLED');
      expect(await service.listIndexes()).toEqual([]);
      expect(service.trainingQueue()).toMatchObject({ running: [], queued: [] });
    });
  });

  describe('automatic training', () => {
    it('queues an AUTOMATIC run once the index crosses the threshold, without making the upsert wait', async () => {
      const auto = await harness.service({ autoTrainEnabled: true, retrainThreshold: 350, retrainGrowthFactor: 4 });
      expect(auto.trainingQueue()).toMatchObject({ retrainThreshold: 350, autoTrainEnabled: true, retrainGrowthFactor: 4 });
      await auto.createIndex('auto', key, { dimension: DIM });
      const below = await auto.upsert('auto', key, items);
      expect(below.index).toMatchObject({ isTraining: false, lastTrainingRun: null });
      const crossed = await auto.upsert('auto', key, itemsOf(seededVectors(60, DIM, 5), 'more'));
      expect(crossed.index.isTraining).toBe(true);
      expect(crossed.index.lastTrainingRun).toMatchObject({ trigger: 'AUTOMATIC', vectorCount: 360 });
      const final = await auto.waitForRun(crossed.index.lastTrainingRun!.runId);
      expect(final.phase).toBe('COMPLETED');
      expect(await auto.describeIndex('auto', key)).toMatchObject({ isTrained: true });
      // Trained on 360: the next automatic run waits for more than 4 x 360 vectors.
      const after = await auto.upsert('auto', key, itemsOf(seededVectors(10, DIM, 6), 'extra'));
      expect(after.index.isTraining).toBe(false);
    });

    it('never trains on its own when disabled', async () => {
      const off = await harness.service({ autoTrainEnabled: false, retrainThreshold: 10 });
      await off.createIndex('off', key, { dimension: DIM });
      const result = await off.upsert('off', key, items);
      expect(result.index).toMatchObject({ isTraining: false, lastTrainingRun: null });
      expect(off.trainingQueue().autoTrainEnabled).toBe(false);
    });
  });
});

describe.skipIf(!existsSync(EMBEDDINGS))('real embeddings (bge-m3, cosine)', () => {
  function readMatrix(file: string): number[][] {
    const bytes = readFileSync(`${EMBEDDINGS}${file}`);
    const floats = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    return Array.from({ length: floats.length / 1024 }, (_, i) => Array.from(floats.subarray(i * 1024, (i + 1) * 1024)));
  }

  forEachStore((fresh) => {
    it('finds the exact cosine neighbours untrained, and the same with every list probed after training', async () => {
      const harness = await fresh();
      try {
        const service = await harness.service();
        const key = newKey();
        const paragraphs = readMatrix('paragraph-queries.f32');
        const sentences = readMatrix('sentence-queries.f32').slice(0, 40);
        const items = paragraphs.map((vector, i) => ({ id: `p${i}`, vector }));
        await service.createIndex('alice', key, { dimension: 1024, metric: 'cosine' });
        await service.upsert('alice', key, items);
        const expected = sentences.map((query) => bruteForce('cosine', items, query, 10));
        const untrained = await service.search('alice', key, sentences, { topK: 10 });
        untrained.forEach((result, q) => {
          expect(result.exact).toBe(true);
          expect(result.hits.map((hit) => hit.id)).toEqual(expected[q].map((hit) => hit.id));
          result.hits.forEach((hit, i) => expect(hit.distance).toBeCloseTo(expected[q][i].distance, 4));
        });
        await service.train('alice', key, { nLists: 10, wait: true });
        const all = await service.search('alice', key, sentences, { topK: 10, nProbes: 10 });
        all.forEach((result, q) => {
          expect(result.exact).toBe(true);
          expect(result.hits.map((hit) => hit.id)).toEqual(expected[q].map((hit) => hit.id));
        });
        const few = await service.search('alice', key, sentences, { topK: 10, nProbes: 3 });
        const meanRecall = few.reduce((sum, result, q) => sum + recall(result.hits.map((hit) => hit.id), expected[q].map((hit) => hit.id)), 0) / few.length;
        expect(few.every((result) => !result.exact)).toBe(true);
        // 3 of 10 lists: most true neighbours share the query's clusters; a broken model scores near 0.3.
        expect(meanRecall).toBeGreaterThan(0.5);
      } finally {
        await harness.dispose();
      }
    });
  });
});

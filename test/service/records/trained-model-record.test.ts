// Trained models round-trip through their sealed record, and the record opens only for its index.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IndexCipher, SealIntegrityError, generateDataKey } from '../../../src/crypto/index.js';
import { decodeModel, encodeModel, openModel, sealModel, type TrainedModel } from '../../../src/service/records/trained-model-record.js';

function model(index = 'docs'): TrainedModel {
  return {
    nLists: 3,
    dimension: 2,
    centroids: new Float32Array([0.5, -1, 2.25, 3, -0, 1e-30]),
    trainedVectorCount: 7,
    tokens: [randomBytes(32), randomBytes(32)],
    revisions: new Uint32Array([0xffffffff, 7]),
    lists: new Uint32Array([2, 0]),
    info: {
      index,
      run: {
        runId: 'run-1', index, trigger: 'MANUAL', phase: 'COMPLETED', iteration: 12, maxIters: 100, nLists: 3, batchSize: 2048, tolerance: 1e-6,
        shift: 1e-7, inertia: 4.5, converged: true, progress: 1, elapsedMs: 30, etaMs: 0, vectorCount: 7,
        startedAt: new Date('2025-01-01T00:00:00.000Z'), finishedAt: new Date('2025-01-01T00:00:00.030Z'), message: null,
      },
    },
  };
}

describe('trained model record', () => {
  it('round-trips every field exactly', () => {
    const original = model();
    const decoded = decodeModel(encodeModel(original));
    expect(Array.from(decoded.centroids)).toEqual(Array.from(original.centroids));
    expect(decoded.tokens.map((t) => t.toString('hex'))).toEqual(original.tokens.map((t) => t.toString('hex')));
    expect(Array.from(decoded.revisions)).toEqual([0xffffffff, 7]);
    expect(Array.from(decoded.lists)).toEqual([2, 0]);
    expect(decoded).toMatchObject({ nLists: 3, dimension: 2, trainedVectorCount: 7, info: original.info });
  });

  it('refuses a record whose length disagrees with its header', () => {
    const bytes = encodeModel(model());
    expect(() => decodeModel(bytes.subarray(0, bytes.length - 1))).toThrow(/length/);
  });

  it('opens under its own index only', () => {
    const cipher = new IndexCipher(generateDataKey());
    const sealed = sealModel(cipher, model('docs'));
    expect(openModel(cipher, 'docs', sealed).info.run.runId).toBe('run-1');
    expect(() => openModel(cipher, 'other', sealed)).toThrow(SealIntegrityError);
  });
});

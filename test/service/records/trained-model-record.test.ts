// Trained models round-trip through their sealed record, and the record opens only for its index.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IndexCipher, SealIntegrityError, generateDataKey } from '../../../src/crypto/index.js';
import { decodeModel, encodeModel, openModel, sealModel, sealModelInSteps, type TrainedModel } from '../../../src/service/records/trained-model-record.js';

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

const V1_RECORD =
  'AQAAAAIAAAACAAAAAgAAAAUAAABoAQAAAAAAPwAAgL8AABBAAABAQAEAAAAAAAAACQAAAAcAAAABAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICeyJpbmRleCI6ImRvY3MiLCJydW4iOnsicnVuSWQiOiJydW4tMSIsImluZGV4IjoiZG9jcyIsInRyaWdnZXIiOiJNQU5VQUwiLCJwaGFzZSI6IkNPTVBMRVRFRCIsIml0ZXJhdGlvbiI6MywibWF4SXRlcnMiOjEwMCwibkxpc3RzIjoyLCJiYXRjaFNpemUiOjIwNDgsInRvbGVyYW5jZSI6MC4wMDAwMDEsInNoaWZ0IjowLCJpbmVydGlhIjoxLjUsImNvbnZlcmdlZCI6dHJ1ZSwicHJvZ3Jlc3MiOjEsImVsYXBzZWRNcyI6NCwiZXRhTXMiOjAsInZlY3RvckNvdW50Ijo1LCJzdGFydGVkQXQiOiIyMDI1LTAxLTAxVDAwOjAwOjAwLjAwMFoiLCJmaW5pc2hlZEF0IjoiMjAyNS0wMS0wMVQwMDowMDowMC4wMDRaIiwibWVzc2FnZSI6bnVsbH19';

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

  it('seals in steps a record that opens to the same model, and stops when the cipher is destroyed', () => {
    const count = 40_000;
    const large = { ...model(), trainedVectorCount: count, tokens: Array.from({ length: count }, () => randomBytes(32)), revisions: new Uint32Array(count).fill(3), lists: new Uint32Array(count).fill(1) };
    const cipher = new IndexCipher(generateDataKey());
    const steps = sealModelInSteps(cipher, large);
    let pauses = 0;
    let step = steps.next();
    for (; step.done !== true; step = steps.next()) pauses++;
    // 40,000 tokens: two pauses while encoding, one more while sealing 1.6 MB.
    expect(pauses).toBe(3);
    const opened = openModel(cipher, 'docs', step.value);
    expect(opened.tokens.map((t) => t.toString('hex'))).toEqual(large.tokens.map((t) => t.toString('hex')));
    expect(Array.from(opened.lists)).toEqual(Array.from(large.lists));
    const interrupted = sealModelInSteps(cipher, large);
    for (let i = 0; i < 3; i++) interrupted.next();
    cipher.destroy();
    expect(() => interrupted.next()).toThrow();
  });

  it('writes format 2 and round-trips the list codec parameters', () => {
    const codec = new Uint8Array([1, 2, 3, 250, 0, 7]);
    const bytes = encodeModel({ ...model(), codec });
    expect(bytes.readUInt8(0)).toBe(2);
    const decoded = decodeModel(bytes);
    expect(Array.from(decoded.codec ?? [])).toEqual(Array.from(codec));
    expect(Array.from(decoded.lists)).toEqual([2, 0]);
    expect(decodeModel(encodeModel(model())).codec).toBeUndefined();
  });

  it('still reads a format 1 record (written before codec parameters existed)', () => {
    // Written by the format 1 encoder: 2 lists of dimension 2, tokens of bytes 1 and 2.
    const v1 = Buffer.from(V1_RECORD, 'base64');
    expect(v1.readUInt8(0)).toBe(1);
    const decoded = decodeModel(v1);
    expect(decoded).toMatchObject({ nLists: 2, dimension: 2, trainedVectorCount: 5 });
    expect(Array.from(decoded.centroids)).toEqual([0.5, -1, 2.25, 3]);
    expect(decoded.codec).toBeUndefined();
    expect(Array.from(decoded.lists)).toEqual([1, 0]);
    expect(Array.from(decoded.revisions)).toEqual([9, 7]);
    expect(decoded.tokens.map((t) => t[0])).toEqual([1, 2]);
    expect(decoded.info.run.finishedAt).toEqual(new Date('2025-01-01T00:00:00.004Z'));
  });

  it('refuses an unknown format', () => {
    const bytes = encodeModel(model());
    bytes.writeUInt8(3, 0);
    expect(() => decodeModel(bytes)).toThrow(/unknown model record format/);
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

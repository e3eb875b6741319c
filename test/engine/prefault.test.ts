// Snapshot memory touched by another thread (prefault.ts): touching changes no byte, and a
// training snapshot copies into the chunks it is given when they have room, else into new ones.
import { describe, expect, it } from 'vitest';
import { createVectorIndex } from '../../src/engine/index-factory.js';
import { prefaultRows } from '../../src/engine/prefault.js';
import { allocateSharedRowChunks, rowsPerChunk } from '../../src/engine/shared-rows.js';
import { randomVectors } from './helpers.js';

const D = 16;

describe('prefaultRows', () => {
  it('touches every chunk without changing what it holds', async () => {
    const chunks = allocateSharedRowChunks(5000, D, false, 64 * 1024);
    expect(chunks.length).toBeGreaterThan(1);
    chunks.forEach((chunk, c) => chunk.forEach((_, i) => (chunk[i] = c * 1e6 + i)));
    await prefaultRows(chunks);
    chunks.forEach((chunk, c) => expect(chunk.every((value, i) => value === c * 1e6 + i)).toBe(true));
  });

  it('refuses arrays that are not shared row chunks', async () => {
    expect(() => prefaultRows([new Float32Array(16)])).toThrow(/allocateSharedRows/);
  });
});

describe('trainingSnapshot into given chunks', () => {
  const n = 3000;
  const data = randomVectors(n, D, 41);
  const ids = Uint32Array.from({ length: n }, (_, i) => i + 10);
  const chunkBytes = 64 * 1024;
  const filled = () => {
    const index = createVectorIndex({ type: 'ivf_flat', dimension: D, metric: 'cosine', snapshotChunkBytes: chunkBytes });
    index.addBatch(ids, data);
    return index;
  };

  it('copies into the chunks allocateSnapshot gave when they have room, as into new ones', async () => {
    const index = filled();
    const into = index.allocateSnapshot(n + 700);
    await prefaultRows(into);
    const given = index.trainingSnapshot(undefined, into);
    const fresh = filled().trainingSnapshot();
    expect(given.vectors.length).toBe(Math.ceil(n / rowsPerChunk(D, chunkBytes)));
    given.vectors.forEach((chunk, c) => {
      expect(chunk.buffer).toBe(into[c].buffer);
      expect(Array.from(chunk)).toEqual(Array.from(fresh.vectors[c]));
    });
    expect(Array.from(given.ids)).toEqual(Array.from(fresh.ids));
  });

  it('takes new memory when the rows outgrew the chunks it was given', () => {
    const index = filled();
    const into = index.allocateSnapshot(n - 1);
    const snapshot = index.trainingSnapshot(undefined, into);
    expect(snapshot.vectors.reduce((rows, chunk) => rows + chunk.length / D, 0)).toBe(n);
    for (const chunk of snapshot.vectors) expect(into.some((given) => given.buffer === chunk.buffer)).toBe(false);
  });
});

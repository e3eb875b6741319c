// ChunkWriter.string writes exactly the bytes Buffer.from would, whether a string fits in the
// current chunk or straddles chunks (multi-byte UTF-8, lone surrogates, latin1), and its chunks own
// their ArrayBuffers (so they can be transferred to a sealing worker).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChunkWriter } from '../../../src/service/segments/segment-chunks.js';

describe('ChunkWriter.string', () => {
  it('writes the bytes Buffer.from gives, across chunk boundaries (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.string({ unit: fc.constantFrom('\ud800', 'é', 'a', '€') }))),
        fc.integer({ min: 1, max: 40 }),
        (strings, chunkBytes) => {
          const writer = new ChunkWriter(chunkBytes);
          const expected: Buffer[] = [];
          strings.forEach((value, i) => {
            const encoding = i % 3 === 2 ? 'latin1' : 'utf8';
            expected.push(Buffer.from(value, encoding));
            writer.u32(i);
            writer.string(value, encoding, Buffer.byteLength(value, encoding));
            const index = Buffer.alloc(4);
            index.writeUInt32LE(i, 0);
            expected.splice(expected.length - 1, 0, index);
          });
          const total = Buffer.concat(expected);
          expect(writer.length).toBe(total.length);
          const chunks = writer.finish();
          expect(Buffer.concat(chunks).equals(total)).toBe(true);
          for (const chunk of chunks) {
            expect(chunk.length).toBeLessThanOrEqual(chunkBytes);
            expect(chunk.byteOffset).toBe(0);
            expect(chunk.buffer.byteLength).toBe(chunkBytes);
          }
        },
      ),
      { numRuns: 200, seed: 7 },
    );
  });
});

// ListMemories: list blocks placed under a per-memory limit, new memories started when the others
// are full, a block larger than the limit alone in its memory; and InvertedLists spread over many
// memories keeping every row, norm, code and id through growth, removal and compaction.
import { describe, expect, it } from 'vitest';
import { BlockArena } from '../../src/engine/block-arena.js';
import { EngineInputError } from '../../src/engine/errors.js';
import { InvertedLists } from '../../src/engine/inverted-lists.js';
import { KernelHeap } from '../../src/engine/kernel-heap.js';
import { ROW_TILE } from '../../src/engine/kernels.js';
import { ADDRESS_SPAN, addressMemory, addressOffset, ListMemories, MAX_LIST_MEMORY_BYTES } from '../../src/engine/list-memories.js';
import { createRandom } from '../../src/engine/random.js';
import { ScalarQuantizer } from '../../src/engine/scalar-quantizer.js';

describe('ListMemories', () => {
  it('fills a memory up to the limit, then starts another; freed room is used again', () => {
    const memories = new ListMemories(4096, 'plain');
    const a = memories.alloc(2048);
    const b = memories.alloc(2048);
    expect([a.memory, b.memory]).toEqual([0, 0]);
    expect(memories.listBytesIn(0)).toBe(4096);
    const c = memories.alloc(1024);
    expect(c.memory).toBe(1);
    expect(memories.count).toBe(2);
    memories.free(0, a.block);
    expect(memories.listBytesIn(0)).toBe(2048);
    // The newest memory is tried first, then the older ones with room.
    expect(memories.alloc(1024).memory).toBe(1);
    expect(memories.alloc(2048).memory).toBe(1);
    expect(memories.alloc(2048).memory).toBe(0);
    expect(memories.alloc(64).memory).toBe(2);
    expect(memories.byteLength).toBe([0, 1, 2].reduce((sum, m) => sum + memories.heap(m).byteLength, 0));
  });

  it('gives a block larger than the limit a memory of its own, where it may still grow in place', () => {
    const memories = new ListMemories(4096, 'plain');
    memories.alloc(1024);
    const big = memories.alloc(10_000);
    expect(big.memory).toBe(1);
    const grown = memories.extendTop(1, big.block, 20_000);
    expect(grown?.offset).toBe(big.block.offset);
    expect(memories.listBytesIn(1)).toBe(grown?.bytes);
    // A block that is not alone in its memory does not grow past the limit.
    const small = memories.alloc(1024);
    expect(small.memory).toBe(0);
    expect(memories.extendTop(0, small.block, 8192)).toBeNull();
    expect(memories.extendTop(0, small.block, 2048)).not.toBeNull();
  });

  it('starts a new memory when one cannot grow, after reclaiming its garbage once', () => {
    // Memory 0 may grow to 64 KiB only, far below the 1 MiB limit: growth fails first.
    const small = new BlockArena(new KernelHeap({ kernels: 'plain', maxBytes: 65_536 }));
    const memories = new ListMemories(1 << 20, 'plain', [small]);
    const a = memories.alloc(20 << 10);
    const b = memories.alloc(30 << 10);
    expect([a.memory, b.memory]).toEqual([0, 0]);
    memories.heap(0).f32.fill(7, b.block.offset >> 2, (b.block.offset + b.block.bytes) >> 2);
    // The freed block is a hole below a live one, too small for the next: compaction makes room,
    // the live block slides down.
    memories.free(0, a.block);
    const c = memories.alloc(30 << 10);
    expect(c.memory).toBe(0);
    expect(b.block.offset).toBe(0);
    expect(memories.heap(0).f32[(b.block.bytes >> 2) - 1]).toBe(7);
    // Now full and nothing to reclaim: the block goes to a new memory, and memory 0 takes no more.
    expect(memories.alloc(30 << 10).memory).toBe(1);
    expect(memories.alloc(64).memory).toBe(1);
  });

  it('rejects a limit outside its range with a typed error', () => {
    for (const bad of [0, 100, 1.5, MAX_LIST_MEMORY_BYTES + 1, Number.NaN]) {
      expect(() => new ListMemories(bad)).toThrow(EngineInputError);
    }
  });

  it('addresses rows across memories: memory 0 addresses are plain offsets', () => {
    expect(addressMemory(1234)).toBe(0);
    expect(addressOffset(1234)).toBe(1234);
    const address = 7 * ADDRESS_SPAN + (2 ** 31 - 64);
    expect(addressMemory(address)).toBe(7);
    expect(addressOffset(address)).toBe(2 ** 31 - 64);
  });
});

const STRIDE = 8;

describe('InvertedLists over many memories', () => {
  /** Lists under a 2 KiB limit with int8 codes, fed rows filled with their id from a primary block. */
  function setup(count: number) {
    const memories = new ListMemories(2048, 'plain');
    const codec = ScalarQuantizer.fit(Float32Array.from({ length: 2 * STRIDE }, (_, i) => (i < STRIDE ? -1000 : 1000)), [0, STRIDE], STRIDE);
    const lists = new InvertedLists(memories, STRIDE, count, undefined, codec);
    const source = memories.primary.alloc(STRIDE * 4);
    const add = (list: number, id: number): void => {
      memories.heap(0).f32.fill(id, source.offset >> 2, (source.offset >> 2) + STRIDE);
      lists.append(list, id, source, 0, id * 10, id);
    };
    const expected = (id: number): Int8Array => {
      const codes = new Int8Array(codec.codeBytes);
      codec.encode(new Float32Array(STRIDE).fill(id), 0, codes, 0);
      return codes;
    };
    return { memories, lists, add, expected };
  }

  /** Each list's rows, norms, codes and ids agree in the list's own memory; the locator points at each row. */
  function expectConsistent(setupResult: ReturnType<typeof setup>): number[] {
    const { lists, expected } = setupResult;
    const seen: number[] = [];
    for (let l = 0; l < lists.count; l++) {
      const heap = lists.heapOf(l);
      expect(lists.capacity(l) % ROW_TILE).toBe(0);
      for (let i = 0; i < lists.length(l); i++) {
        const id = lists.ids(l)[i];
        seen.push(id);
        expect(heap.f32[(lists.rowsAt(l) >> 2) + i * STRIDE + STRIDE - 1]).toBe(id);
        expect(heap.f32[(lists.normsAt(l) >> 2) + i]).toBe(id * 10);
        const at = lists.codesAt(l) + i * lists.codeBytes;
        expect(Array.from(heap.i8.subarray(at, at + lists.codeBytes))).toEqual(Array.from(expected(id)));
        expect(lists.listOf(id)).toBe(l);
        expect(lists.rowOf(id)).toBe(lists.memoryOf(l) * ADDRESS_SPAN + lists.rowsAt(l) + i * STRIDE * 4);
      }
    }
    expect(seen.length).toBe(lists.size);
    return seen.sort((a, b) => a - b);
  }

  it('spreads growing lists over new memories, each list wholly in one, moving rows, norms and codes along', () => {
    const s = setup(6);
    for (let id = 0; id < 600; id++) s.add(id % 6, id);
    expect(s.memories.count).toBeGreaterThan(3);
    const used = new Set(Array.from({ length: 6 }, (_, l) => s.lists.memoryOf(l)));
    expect(used.size).toBeGreaterThan(1);
    expect(expectConsistent(s)).toEqual(Array.from({ length: 600 }, (_, i) => i));
  });

  it('stays consistent through random removals, re-adds and the compaction of every memory', () => {
    const s = setup(5);
    const random = createRandom(17);
    const live = new Set<number>();
    for (let step = 0; step < 3000; step++) {
      const id = Math.floor(random() * 400);
      if (live.has(id) && random() < 0.6) {
        expect(s.lists.remove(id)).toBe(true);
        live.delete(id);
      } else if (!live.has(id)) {
        s.add(id % 5, id);
        live.add(id);
      }
      if (step % 500 === 499) for (let m = 0; m < s.memories.count; m++) s.memories.arena(m).compact();
    }
    expect(s.memories.count).toBeGreaterThan(1);
    expect(expectConsistent(s)).toEqual([...live].sort((a, b) => a - b));
  });
});

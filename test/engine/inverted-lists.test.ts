// InvertedLists: dense lists through appends and swap-removals, codes and epochs kept with their rows.
import { describe, expect, it } from 'vitest';
import { BlockArena } from '../../src/engine/block-arena.js';
import { InvertedLists } from '../../src/engine/inverted-lists.js';
import { KernelHeap } from '../../src/engine/kernel-heap.js';
import { ROW_TILE } from '../../src/engine/kernels.js';
import { createRandom } from '../../src/engine/random.js';
import { ScalarQuantizer } from '../../src/engine/scalar-quantizer.js';

const STRIDE = 8;

/** Lists over a plain heap, and a one-row source block whose row is filled with `id`. */
function setup(count: number) {
  const arena = new BlockArena(new KernelHeap({ kernels: 'plain' }));
  const lists = new InvertedLists(arena, STRIDE, count);
  const source = arena.alloc(STRIDE * 4);
  const add = (list: number, id: number): void => {
    arena.heap.f32.fill(id, source.offset >> 2, (source.offset >> 2) + STRIDE);
    lists.append(list, id, source, 0, id * 10, id);
  };
  return { arena, lists, add };
}

/** Every list's rows, norms and ids agree, and the locator points at each id's own row. */
function expectConsistent(arena: BlockArena, lists: InvertedLists): number[] {
  const f32 = arena.heap.f32;
  const seen: number[] = [];
  for (let l = 0; l < lists.count; l++) {
    const ids = lists.ids(l);
    expect(lists.capacity(l) % ROW_TILE).toBe(0);
    expect(lists.length(l)).toBeLessThanOrEqual(lists.capacity(l));
    for (let i = 0; i < lists.length(l); i++) {
      const id = ids[i];
      seen.push(id);
      expect(f32[(lists.rowsAt(l) >> 2) + i * STRIDE]).toBe(id);
      expect(f32[(lists.normsAt(l) >> 2) + i]).toBe(id * 10);
      expect(lists.listOf(id)).toBe(l);
      expect(lists.rowOf(id)).toBe(lists.rowsAt(l) + i * STRIDE * 4);
    }
  }
  expect(seen.length).toBe(lists.size);
  return seen.sort((a, b) => a - b);
}

describe('InvertedLists', () => {
  it('appends rows with their norms and ids, growing lists past their first capacity', () => {
    const { arena, lists, add } = setup(3);
    for (let id = 0; id < 100; id++) add(id % 3, id);
    expect(lists.size).toBe(100);
    expect(lists.length(0)).toBe(34);
    expect(expectConsistent(arena, lists)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('removes by moving the last row into the hole: lists stay dense', () => {
    const { arena, lists, add } = setup(1);
    for (let id = 0; id < 10; id++) add(0, id);
    expect(lists.remove(3)).toBe(true);
    expect(lists.length(0)).toBe(9);
    expect(lists.ids(0)[3]).toBe(9);
    expect(lists.has(3)).toBe(false);
    expect(lists.remove(3)).toBe(false);
    expectConsistent(arena, lists);
  });

  it('stays consistent and compact through many random adds and removals', () => {
    const { arena, lists, add } = setup(4);
    const random = createRandom(11);
    const live = new Set<number>();
    for (let step = 0; step < 5000; step++) {
      const id = Math.floor(random() * 400);
      if (live.has(id)) {
        lists.remove(id);
        live.delete(id);
      } else {
        add(id % 4, id);
        live.add(id);
      }
    }
    expect(expectConsistent(arena, lists)).toEqual([...live].sort((a, b) => a - b));
    // removing almost everything shrinks the lists again
    for (const id of [...live].slice(5)) lists.remove(id);
    let capacity = 0;
    for (let l = 0; l < 4; l++) capacity += lists.capacity(l);
    expect(capacity).toBeLessThanOrEqual(4 * 2 * ROW_TILE);
    expectConsistent(arena, lists);
  });

  it('keeps each row\'s int8 codes beside it through appends, moves and growth', () => {
    const arena = new BlockArena(new KernelHeap({ kernels: 'plain' }));
    const quantizer = ScalarQuantizer.fit(new Float32Array([0, 0, 0, 0, 0, 0, 0, 0, 500, 500, 500, 500, 500, 500, 500, 500]), [0, 8], STRIDE);
    const lists = new InvertedLists(arena, STRIDE, 2, undefined, quantizer);
    const source = arena.alloc(STRIDE * 4);
    const random = createRandom(12);
    const live = new Set<number>();
    for (let step = 0; step < 3000; step++) {
      const id = Math.floor(random() * 300);
      if (live.delete(id)) {
        lists.remove(id);
        continue;
      }
      arena.heap.f32.fill(id, source.offset >> 2, (source.offset >> 2) + STRIDE);
      lists.append(id % 2, id, source, 0, 0, 0);
      live.add(id);
    }
    const want = new Int8Array(quantizer.codeBytes);
    for (let l = 0; l < 2; l++) {
      for (let i = 0; i < lists.length(l); i++) {
        const id = lists.ids(l)[i];
        quantizer.encodeRow(new Float32Array(STRIDE).fill(id), 0, want, 0);
        const at = lists.codesAt(l) + i * lists.codeBytes;
        expect(Array.from(arena.heap.i8.subarray(at, at + lists.codeBytes))).toEqual(Array.from(want));
      }
    }
    expect(lists.size).toBe(live.size);
  });

  it('a rebuild takes over ids, slots and epochs and leaves the lists it replaces intact', () => {
    const { arena, lists, add } = setup(1);
    for (let id = 0; id < 40; id++) add(0, id);
    lists.remove(7);
    const fresh = new BlockArena(new KernelHeap({ kernels: 'plain' }));
    const sizes = [0, 0, 0];
    for (let i = 0; i < lists.length(0); i++) sizes[lists.ids(0)[i] % 3]++;
    const rebuilt = new InvertedLists(fresh, STRIDE, 3, sizes, null, lists);
    const f32 = arena.heap.f32;
    for (let i = 0; i < lists.length(0); i++) {
      const id = lists.ids(0)[i];
      rebuilt.appendSlot(id % 3, id, lists.slotOf(id), f32, (lists.rowsAt(0) >> 2) + i * STRIDE, f32[(lists.normsAt(0) >> 2) + i]);
    }
    expect(rebuilt.size).toBe(39);
    expect(rebuilt.has(7)).toBe(false);
    expect(expectConsistent(fresh, rebuilt)).toEqual(expectConsistent(arena, lists));
    expect(rebuilt.epochOf(12)).toBe(12);
    expect(lists.listOf(12)).toBe(0); // the old lists still answer for themselves
  });

  it('reserves expected sizes up front and keeps the epoch each id was written in', () => {
    const arena = new BlockArena(new KernelHeap({ kernels: 'plain' }));
    const lists = new InvertedLists(arena, STRIDE, 2, [20, 3]);
    expect(lists.capacity(0)).toBe(24);
    expect(lists.capacity(1)).toBe(ROW_TILE);
    const other = new Float32Array(STRIDE).fill(5);
    lists.appendFrom(1, 42, other, 0, 50, 7);
    expect(lists.epochOf(42)).toBe(7);
    expect(lists.epochOf(43)).toBe(-1);
    expect(arena.heap.f32[lists.rowOf(42) >> 2]).toBe(5);
  });
});

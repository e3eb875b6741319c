// BlockArena: aligned disjoint blocks, in-place growth of the top block, compaction that keeps contents.
import { describe, expect, it } from 'vitest';
import { BlockArena, type Block } from '../../src/engine/block-arena.js';
import { KernelHeap } from '../../src/engine/kernel-heap.js';

function fill(arena: BlockArena, block: Block, value: number): void {
  arena.heap.f32.fill(value, block.offset >> 2, (block.offset + block.bytes) >> 2);
}

function holds(arena: BlockArena, block: Block, value: number): boolean {
  return arena.heap.f32.subarray(block.offset >> 2, (block.offset + block.bytes) >> 2).every((v) => v === value);
}

describe('BlockArena', () => {
  it('hands out aligned, disjoint blocks and grows the heap as needed', () => {
    const arena = new BlockArena(new KernelHeap({ kernels: 'plain' }));
    const blocks = [100, 5000, 70_000, 1].map((bytes) => arena.alloc(bytes));
    blocks.forEach((b) => expect(b.offset % 64).toBe(0));
    for (let i = 1; i < blocks.length; i++) expect(blocks[i].offset).toBeGreaterThanOrEqual(blocks[i - 1].offset + blocks[i - 1].bytes);
    expect(arena.heap.byteLength).toBeGreaterThanOrEqual(arena.usedBytes);
  });

  it('reuses the top when the last block is freed', () => {
    const arena = new BlockArena(new KernelHeap({ kernels: 'plain' }));
    arena.alloc(1000);
    const last = arena.alloc(1000);
    const used = arena.usedBytes;
    arena.free(last);
    expect(arena.usedBytes).toBeLessThan(used);
    expect(arena.garbageBytes).toBe(0);
    expect(arena.alloc(1000).offset).toBe(last.offset);
  });

  it('grows the topmost block in place, and only that one', () => {
    const arena = new BlockArena(new KernelHeap({ kernels: 'plain' }));
    const below = arena.alloc(4096);
    const top = arena.alloc(4096);
    fill(arena, top, 3);
    expect(arena.extendTop(below, 8192)).toBeNull();
    const grown = arena.extendTop(top, 1 << 20);
    expect(grown?.offset).toBe(top.offset);
    expect(grown?.bytes).toBe(1 << 20);
    expect(arena.usedBytes).toBe(4096 + (1 << 20));
    expect(arena.heap.f32.subarray(top.offset >> 2, (top.offset + 4096) >> 2).every((v) => v === 3)).toBe(true);
    expect(arena.garbageBytes).toBe(0);
    expect(arena.alloc(64).offset).toBe(top.offset + (1 << 20));
  });

  it('compaction moves live blocks down with their contents and reclaims freed space', () => {
    const arena = new BlockArena(new KernelHeap({ kernels: 'plain' }));
    const blocks = Array.from({ length: 10 }, () => arena.alloc(256 * 1024));
    blocks.forEach((b, i) => fill(arena, b, i + 1));
    for (let i = 0; i < 10; i += 2) arena.free(blocks[i]);
    expect(arena.garbageBytes).toBe(5 * 256 * 1024);
    const usedBefore = arena.usedBytes;
    arena.compact();
    expect(arena.garbageBytes).toBe(0);
    expect(arena.usedBytes).toBe(5 * 256 * 1024);
    expect(arena.usedBytes).toBeLessThan(usedBefore);
    for (let i = 1; i < 10; i += 2) expect(holds(arena, blocks[i], i + 1)).toBe(true);
  });

  it('puts a block in the smallest hole it fits in, and keeps the rest of the hole', () => {
    const arena = new BlockArena(new KernelHeap({ kernels: 'plain' }));
    const [large, , small, , top] = [8192, 64, 4096, 64, 64].map((bytes) => arena.alloc(bytes));
    fill(arena, top, 5);
    arena.free(large);
    arena.free(small);
    const used = arena.usedBytes;
    const fits = arena.alloc(3000);
    expect(fits.offset).toBe(small.offset);
    const next = arena.alloc(4096);
    expect(next.offset).toBe(large.offset);
    // What is left of the large hole takes the next block that fits it.
    expect(arena.alloc(4096).offset).toBe(large.offset + 4096);
    expect(arena.usedBytes).toBe(used);
    expect(arena.garbageBytes).toBe(4096 - 3008);
    expect(holds(arena, top, 5)).toBe(true);
  });

  it('joins neighbouring holes, so a block larger than either fits their union', () => {
    const arena = new BlockArena(new KernelHeap({ kernels: 'plain' }));
    const [a, b, c] = [4096, 4096, 4096].map((bytes) => arena.alloc(bytes));
    arena.alloc(64);
    arena.free(a);
    arena.free(c);
    arena.free(b);
    expect(arena.garbageBytes).toBe(3 * 4096);
    expect(arena.alloc(3 * 4096).offset).toBe(a.offset);
    expect(arena.garbageBytes).toBe(0);
  });

  it('compacts by itself once garbage outweighs half the live data', () => {
    const arena = new BlockArena(new KernelHeap({ kernels: 'plain' }));
    const keep = arena.alloc(1 << 20);
    fill(arena, keep, 7);
    for (let i = 0; i < 8; i++) {
      const temp = arena.alloc(1 << 20);
      arena.alloc(64); // pins temp below the top
      arena.free(temp);
    }
    arena.alloc(64);
    expect(arena.garbageBytes).toBeLessThan(2 << 20);
    expect(holds(arena, keep, 7)).toBe(true);
  });
});

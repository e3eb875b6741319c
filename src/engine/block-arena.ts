// Movable blocks inside a KernelHeap, for storage that grows and shrinks (the inverted lists).
// Blocks are bump-allocated; freed space is reclaimed by sliding the live blocks down, which is
// why holders keep the Block object and read `offset` after every allocation.
import { alignUp, type KernelHeap } from './kernel-heap.js';

export class Block {
  constructor(
    public offset: number,
    readonly bytes: number,
  ) {}
}

/** Reclaim freed space once it exceeds this share of the live bytes (and MIN_GARBAGE). */
const GARBAGE_RATIO = 0.5;
const MIN_GARBAGE = 1 << 20;

export class BlockArena {
  private blocks: Block[] = [];
  private readonly dead = new WeakSet<Block>();
  private top: number;
  private garbage = 0;

  constructor(
    readonly heap: KernelHeap,
    private readonly start = 0,
  ) {
    this.top = alignUp(start);
  }

  /** Bytes from the arena start to the end of the last block. */
  get usedBytes(): number {
    return this.top - this.start;
  }

  get garbageBytes(): number {
    return this.garbage;
  }

  /** A new block; may move every other block (compaction), never the contents of any. */
  alloc(bytes: number): Block {
    const size = alignUp(Math.max(bytes, 1));
    if (this.garbage > MIN_GARBAGE && this.garbage > (this.usedBytes - this.garbage) * GARBAGE_RATIO) this.compact();
    this.heap.growTo(this.top + size);
    const block = new Block(this.top, size);
    this.blocks.push(block);
    this.top += size;
    return block;
  }

  /**
   * Takes over a block another thread already wrote at `offset` of this memory (lists built off
   * the main thread): blocks are adopted in address order, above every block held so far.
   */
  adopt(offset: number, bytes: number): Block {
    const size = alignUp(Math.max(bytes, 1));
    if (offset < this.top || offset % 16 !== 0) throw new RangeError(`cannot adopt a block at ${offset}: the arena's top is ${this.top}`);
    this.heap.growTo(offset + size);
    const block = new Block(offset, size);
    this.blocks.push(block);
    // Any gap below the block is garbage a later compaction reclaims.
    this.garbage += offset - this.top;
    this.top = offset + size;
    return block;
  }

  /**
   * Grows `block` to `bytes` where it stands when it is the topmost block (nothing moves);
   * returns the grown block, or null when it is not on top and the caller must move it.
   */
  extendTop(block: Block, bytes: number): Block | null {
    const last = this.blocks[this.blocks.length - 1];
    if (last !== block || this.dead.has(block)) return null;
    const size = alignUp(Math.max(bytes, block.bytes));
    this.heap.growTo(block.offset + size);
    const grown = new Block(block.offset, size);
    this.blocks[this.blocks.length - 1] = grown;
    this.dead.add(block);
    this.top = block.offset + size;
    return grown;
  }

  free(block: Block): void {
    if (this.dead.has(block)) return;
    this.dead.add(block);
    this.garbage += block.bytes;
    // Freeing the topmost blocks just lowers the top.
    while (this.blocks.length > 0 && this.dead.has(this.blocks[this.blocks.length - 1])) {
      const last = this.blocks.pop() as Block;
      this.top = last.offset;
      this.garbage -= last.bytes;
    }
  }

  /** Slides live blocks down over the freed ones, in address order. */
  compact(): void {
    const f32 = this.heap.f32;
    let cursor = alignUp(this.start);
    const live: Block[] = [];
    for (const block of this.blocks) {
      if (this.dead.has(block)) continue;
      if (block.offset !== cursor) {
        f32.copyWithin(cursor >> 2, block.offset >> 2, (block.offset + block.bytes) >> 2);
        block.offset = cursor;
      }
      cursor += block.bytes;
      live.push(block);
    }
    this.blocks = live;
    this.top = cursor;
    this.garbage = 0;
  }
}

// Movable blocks inside a KernelHeap, for storage that grows and shrinks (the inverted lists).
// A block takes the smallest freed hole it fits in, else the top; once holes nobody fits in
// outweigh half the live bytes, the live blocks slide down over them (compaction), which is why
// holders keep the Block object and read `offset` after every allocation. Reusing holes matters
// under a stream of upserts: lists outgrow their blocks all the time, and every compaction copies
// the whole arena in one call (40-120 ms at 200 MiB, measured), a stall for every search waiting.
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
  /** Live and freed blocks in address order; the freed ones are the holes. */
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
    const reused = this.allocInHole(size);
    if (reused) return reused;
    if (this.garbage > MIN_GARBAGE && this.garbage > (this.usedBytes - this.garbage) * GARBAGE_RATIO) this.compact();
    this.heap.growTo(this.top + size);
    const block = new Block(this.top, size);
    this.blocks.push(block);
    this.top += size;
    return block;
  }

  /** The smallest hole `size` fits in, taken from its start (the rest stays a hole); null if none fits. */
  private allocInHole(size: number): Block | null {
    if (this.garbage < size) return null;
    let best = -1;
    for (let i = 0; i < this.blocks.length; i++) {
      const hole = this.blocks[i];
      if (hole.bytes >= size && this.dead.has(hole) && (best < 0 || hole.bytes < this.blocks[best].bytes)) best = i;
    }
    if (best < 0) return null;
    const hole = this.blocks[best];
    const block = new Block(hole.offset, size);
    if (hole.bytes === size) this.blocks[best] = block;
    else this.blocks.splice(best, 1, block, this.hole(hole.offset + size, hole.bytes - size));
    this.garbage -= size;
    return block;
  }

  private hole(offset: number, bytes: number): Block {
    const hole = new Block(offset, bytes);
    this.dead.add(hole);
    return hole;
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
    // Any gap below the block is a hole.
    if (offset > this.top) this.blocks.push(this.hole(this.top, offset - this.top));
    this.blocks.push(block);
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
    // A freed block joins the holes beside it, so that a larger block fits in the union.
    const at = this.indexOf(block);
    let first = at;
    let last = at;
    while (first > 0 && this.dead.has(this.blocks[first - 1])) first--;
    while (last + 1 < this.blocks.length && this.dead.has(this.blocks[last + 1])) last++;
    if (last > first) {
      const end = this.blocks[last].offset + this.blocks[last].bytes;
      this.blocks.splice(first, last - first + 1, this.hole(this.blocks[first].offset, end - this.blocks[first].offset));
    }
    // A hole at the top just lowers the top.
    const top = this.blocks[this.blocks.length - 1];
    if (top !== undefined && this.dead.has(top)) {
      this.blocks.pop();
      this.top = top.offset;
      this.garbage -= top.bytes;
    }
  }

  /** Where `block` is in `blocks` (by address: blocks never overlap and none is empty). */
  private indexOf(block: Block): number {
    let lo = 0;
    let hi = this.blocks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.blocks[mid].offset < block.offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
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

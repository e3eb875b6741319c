// The WebAssembly memories an index's lists live in: one arena per memory, every list block wholly
// inside one of them, and a new memory started when the current ones are full or cannot grow.
// A wasm32 memory addresses at most 4 GiB, so a single memory capped an index near a million
// 768-d vectors; lists spread over several memories make the machine's RAM the limit.
// Memory 0 is the primary one: the centroids and the search scratch live there.
import { BlockArena, type Block } from './block-arena.js';
import { EngineInputError } from './errors.js';
import { alignUp, HeapExhaustedError, KernelHeap } from './kernel-heap.js';
import type { KernelChoice } from './kernels.js';

/**
 * The most one list memory grows to: 2 GiB, not the 4 GiB wasm32 allows, because the engine's
 * JS side turns byte offsets into typed-array indices with `>> 2` (int32), exact only below 2^31.
 */
export const MAX_LIST_MEMORY_BYTES = 2 ** 31;

/**
 * List bytes one memory takes by default: the maximum less room for the scratch a batch search
 * places beside the lists it scans (prepared queries, scores) and for garbage awaiting compaction.
 */
export const DEFAULT_LIST_MEMORY_BYTES = MAX_LIST_MEMORY_BYTES - (512 << 20);

/**
 * A row's address across memories, as candidates carry it: memory * ADDRESS_SPAN + byte offset.
 * Exact in a float64 for any realistic number of memories.
 */
export const ADDRESS_SPAN = 2 ** 32;

export function addressMemory(address: number): number {
  return Math.floor(address / ADDRESS_SPAN);
}

export function addressOffset(address: number): number {
  return address % ADDRESS_SPAN;
}

/** The smallest limit: tests spread a few hundred kilobytes of lists over many memories. */
export const MIN_LIST_MEMORY_BYTES = 1024;

/** Checks the per-memory byte limit an index or a list build is given. */
export function assertListMemoryBytes(bytes: number): void {
  if (!Number.isInteger(bytes) || bytes < MIN_LIST_MEMORY_BYTES || bytes > MAX_LIST_MEMORY_BYTES) {
    throw new EngineInputError(`list memory bytes must be an integer from ${MIN_LIST_MEMORY_BYTES} to ${MAX_LIST_MEMORY_BYTES}, got ${String(bytes)}`);
  }
}

export class ListMemories {
  private readonly arenas: BlockArena[];
  /** Live list bytes per memory (not the scratch): what the limit is measured against. */
  private readonly listBytes: number[];
  /** Memories that failed to grow: no new list block is placed there. */
  private readonly full: boolean[];

  /**
   * `limit` is the list bytes one memory takes before lists go to another (tests force small
   * memories with it). A block larger than the limit gets a memory of its own, which then grows
   * past the limit (up to MAX_LIST_MEMORY_BYTES): a list is never split. `arenas` adopts existing
   * memories (lists built by another thread), the first being the primary.
   */
  constructor(
    readonly limit: number = DEFAULT_LIST_MEMORY_BYTES,
    private readonly kernels: KernelChoice = 'auto',
    arenas?: BlockArena[],
  ) {
    assertListMemoryBytes(limit);
    this.arenas = arenas && arenas.length > 0 ? arenas.slice() : [ListMemories.newArena(kernels)];
    this.listBytes = this.arenas.map(() => 0);
    this.full = this.arenas.map(() => false);
  }

  /** One memory with no limit of its own: what a bare arena stands for. */
  static single(arena: BlockArena): ListMemories {
    return new ListMemories(MAX_LIST_MEMORY_BYTES, 'auto', [arena]);
  }

  /** The memories of `memories`, adopted (their arenas start empty: `adopt` places the blocks). */
  static adopting(memories: WebAssembly.Memory[], limit: number, kernels: KernelChoice): ListMemories {
    const arenas = memories.map((memory) => new BlockArena(new KernelHeap({ memory, kernels, maxBytes: MAX_LIST_MEMORY_BYTES })));
    return new ListMemories(limit, kernels, arenas);
  }

  private static newArena(kernels: KernelChoice): BlockArena {
    return new BlockArena(new KernelHeap({ kernels, maxBytes: MAX_LIST_MEMORY_BYTES }));
  }

  get count(): number {
    return this.arenas.length;
  }

  /** The arena of memory 0, where the centroids and the scratch go. */
  get primary(): BlockArena {
    return this.arenas[0];
  }

  arena(memory: number): BlockArena {
    return this.arenas[memory];
  }

  heap(memory: number): KernelHeap {
    return this.arenas[memory].heap;
  }

  /** The WebAssembly memories, in order (what another thread's lists adopt). */
  memories(): WebAssembly.Memory[] {
    return this.arenas.map((arena) => arena.heap.memory);
  }

  /** Bytes of every memory together. */
  get byteLength(): number {
    let bytes = 0;
    for (const arena of this.arenas) bytes += arena.heap.byteLength;
    return bytes;
  }

  /**
   * A block for a list: in the newest memory with room under the limit, else the others with
   * room, else a new memory. May compact the memory it lands in (moving the blocks there).
   */
  alloc(bytes: number): { memory: number; block: Block } {
    const size = alignUp(Math.max(bytes, 1));
    for (let memory = this.arenas.length - 1; memory >= 0; memory--) {
      if (this.full[memory] || this.listBytes[memory] + size > this.limit) continue;
      const block = this.tryAlloc(memory, size);
      if (block) return { memory, block };
    }
    const memory = this.arenas.length;
    this.arenas.push(ListMemories.newArena(this.kernels));
    this.listBytes.push(0);
    this.full.push(false);
    const block = this.tryAlloc(memory, size);
    // A fresh memory that cannot hold the block: one list larger than a memory may be.
    if (!block) throw new HeapExhaustedError(size, MAX_LIST_MEMORY_BYTES);
    return { memory, block };
  }

  /** `block` of `memory` grown in place when it is that memory's top block and the limit allows (else null). */
  extendTop(memory: number, block: Block, bytes: number): Block | null {
    const size = alignUp(Math.max(bytes, block.bytes));
    const after = this.listBytes[memory] - block.bytes + size;
    // The only list of its memory may grow past the limit: it cannot move anywhere roomier.
    if (after > this.limit && this.listBytes[memory] !== block.bytes) return null;
    try {
      const grown = this.arenas[memory].extendTop(block, size);
      if (grown) this.listBytes[memory] = after;
      return grown;
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      this.full[memory] = true;
      return null;
    }
  }

  /** Takes over a block already written at `offset` of `memory` (lists built by another thread). */
  adopt(memory: number, offset: number, bytes: number): Block {
    const block = this.arenas[memory].adopt(offset, bytes);
    this.listBytes[memory] += block.bytes;
    return block;
  }

  free(memory: number, block: Block): void {
    this.arenas[memory].free(block);
    this.listBytes[memory] -= block.bytes;
  }

  /** Live list bytes in `memory`. */
  listBytesIn(memory: number): number {
    return this.listBytes[memory];
  }

  private tryAlloc(memory: number, size: number): Block | null {
    const arena = this.arenas[memory];
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const block = arena.alloc(size);
        this.listBytes[memory] += block.bytes;
        return block;
      } catch (error) {
        // The memory cannot grow (the wasm32 maximum, or the system refused): reclaim its
        // garbage once, then give up on it for new blocks.
        if (!(error instanceof RangeError)) throw error;
        if (attempt === 0 && arena.garbageBytes > 0) {
          arena.compact();
          continue;
        }
        this.full[memory] = true;
      }
    }
    return null;
  }
}

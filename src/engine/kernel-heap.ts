// A shared WebAssembly memory together with the kernels bound to it and typed views of it: the
// only place engine data must live for the kernels to scan it without copying.
import { bindKernels, type HeapViews, type KernelChoice, type Kernels } from './kernels.js';

const PAGE = 65_536;
/** 4 GiB: the most a 32-bit WebAssembly memory can address. */
export const MAX_HEAP_BYTES = 65_536 * PAGE;

/** Alignment of everything placed in a heap: one f32x4 lane group and a cache line. */
export const HEAP_ALIGN = 64;

export function alignUp(bytes: number, to: number = HEAP_ALIGN): number {
  return Math.ceil(bytes / to) * to;
}

export class HeapExhaustedError extends RangeError {
  constructor(bytes: number, most: number = MAX_HEAP_BYTES) {
    super(`engine heap would need ${bytes} bytes, more than the ${most} this WebAssembly memory may grow to`);
    this.name = 'HeapExhaustedError';
  }
}

export class KernelHeap implements HeapViews {
  readonly memory: WebAssembly.Memory;
  readonly kernels: Kernels;
  /** The most this heap grows to (the memory's maximum). */
  readonly maxBytes: number;
  private views: { f32: Float32Array; u32: Uint32Array; f64: Float64Array; i8: Int8Array; u8: Uint8Array; i16: Int16Array };

  /**
   * Shared so that a worker can be handed the same memory; growing a shared memory never
   * detaches existing views, which also keeps a running scan safe from a concurrent grow.
   * `maxBytes` caps the memory (a whole number of 64 KiB pages; default the wasm32 maximum);
   * with `memory` it says what that memory was created with.
   */
  constructor(options: { bytes?: number; maxBytes?: number; memory?: WebAssembly.Memory; kernels?: KernelChoice; module?: WebAssembly.Module | null } = {}) {
    this.maxBytes = options.maxBytes ?? MAX_HEAP_BYTES;
    this.memory = options.memory
      ?? new WebAssembly.Memory({ initial: Math.max(1, Math.ceil((options.bytes ?? PAGE) / PAGE)), maximum: Math.ceil(this.maxBytes / PAGE), shared: true });
    this.views = this.makeViews();
    this.kernels = options.module === undefined
      ? bindKernels(this.memory, this, options.kernels)
      : bindKernels(this.memory, this, options.kernels, options.module);
  }

  get f32(): Float32Array {
    return this.views.f32;
  }

  get u32(): Uint32Array {
    return this.views.u32;
  }

  get f64(): Float64Array {
    return this.views.f64;
  }

  get i8(): Int8Array {
    return this.views.i8;
  }

  get u8(): Uint8Array {
    return this.views.u8;
  }

  get i16(): Int16Array {
    return this.views.i16;
  }

  get byteLength(): number {
    return this.views.f32.byteLength;
  }

  /** Makes the memory at least `bytes` long, growing by at least an eighth to keep growth amortised. */
  growTo(bytes: number): void {
    const current = this.memory.buffer.byteLength;
    if (bytes <= current) {
      this.refresh();
      return;
    }
    if (bytes > this.maxBytes) throw new HeapExhaustedError(bytes, this.maxBytes);
    const wanted = Math.min(this.maxBytes, Math.max(bytes, current + Math.floor(current / 8)));
    try {
      this.memory.grow(Math.ceil((wanted - current) / PAGE));
    } catch {
      this.memory.grow(Math.ceil((bytes - current) / PAGE));
    }
    this.refresh();
  }

  /**
   * A fresh region of `bytes` at the end of the memory that no one else uses: growing a shared
   * memory is atomic, so two threads reserving from the same memory get disjoint regions.
   */
  reserve(bytes: number): number {
    const pages = Math.ceil(alignUp(bytes) / PAGE);
    let start: number;
    try {
      start = this.memory.grow(pages) * PAGE;
    } catch {
      throw new HeapExhaustedError(this.memory.buffer.byteLength + pages * PAGE, this.maxBytes);
    }
    this.refresh();
    return start;
  }

  private refresh(): void {
    if (this.views.f32.byteLength !== this.memory.buffer.byteLength) this.views = this.makeViews();
  }

  private makeViews(): { f32: Float32Array; u32: Uint32Array; f64: Float64Array; i8: Int8Array; u8: Uint8Array; i16: Int16Array } {
    const buffer = this.memory.buffer;
    return {
      f32: new Float32Array(buffer), u32: new Uint32Array(buffer), f64: new Float64Array(buffer),
      i8: new Int8Array(buffer), u8: new Uint8Array(buffer), i16: new Int16Array(buffer),
    };
  }
}

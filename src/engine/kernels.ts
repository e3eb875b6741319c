// The distance kernels behind one interface: WebAssembly SIMD when it is built and supported,
// hand-unrolled typed-array loops otherwise. Both read the same KernelHeap memory by byte address.
import { plainKernels } from './plain-kernels.js';
import { kernelModuleStatus } from './simd/kernel-module.js';

/** Rows handed to `dotRows` and `nearest` come in multiples of this (callers pad capacity). */
export const ROW_TILE = 8;
/** Queries handed to `dotBlock` come in multiples of this. */
export const QUERY_TILE = 4;

/**
 * Addresses are byte offsets into the heap; a row is `rowBytes` long (a multiple of 16, the
 * vector zero-padded). Counts are multiples of the tiles above; outputs past the real rows are
 * computed from padding and ignored by callers.
 */
export interface Kernels {
  readonly simd: boolean;
  /** out[i] = q . x_i for i < n (n a multiple of ROW_TILE). */
  dotRows(q: number, x: number, n: number, rowBytes: number, out: number): void;
  /** out[i * ldo + j] = q_i . x_j for i < m (multiple of QUERY_TILE), j < n (even); ldo in floats. */
  dotBlock(q: number, m: number, x: number, n: number, rowBytes: number, out: number, ldo: number): void;
  /**
   * For each row x_i (i < n, a multiple of ROW_TILE): the centroid j < k (k even) minimising
   * cnorms[j] - 2 x_i.c_j. Writes labels[i] (u32), best[i] and second[i] (f32, the runner-up).
   */
  nearest(
    x: number, n: number, c: number, k: number, rowBytes: number,
    cnorms: number, labels: number, best: number, second: number,
  ): void;
}

/** Current typed views of a heap's memory (they change when the memory grows). */
export interface HeapViews {
  readonly f32: Float32Array;
  readonly u32: Uint32Array;
}

export type KernelChoice = 'auto' | 'simd' | 'plain';

/** Which kernels `auto` picks in this process. */
export function kernelInfo(): { simd: boolean; reason?: string } {
  return kernelModuleStatus.available ? { simd: true } : { simd: false, reason: kernelModuleStatus.reason };
}

function simdKernels(memory: WebAssembly.Memory, module: WebAssembly.Module): Kernels {
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Omit<Kernels, 'simd'>;
  return { simd: true, dotRows: exports.dotRows, dotBlock: exports.dotBlock, nearest: exports.nearest };
}

/**
 * Kernels bound to one memory. `module` overrides the module loaded at start (tests pass a freshly
 * assembled one); `simd` without a usable module is an error, `auto` falls back quietly.
 */
export function bindKernels(
  memory: WebAssembly.Memory,
  views: HeapViews,
  choice: KernelChoice = 'auto',
  module: WebAssembly.Module | null = kernelModuleStatus.available ? kernelModuleStatus.module : null,
): Kernels {
  if (choice === 'plain') return plainKernels(views);
  if (module) return simdKernels(memory, module);
  if (choice === 'simd') {
    throw new Error(`SIMD kernels unavailable: ${kernelModuleStatus.available ? 'no module' : kernelModuleStatus.reason}`);
  }
  return plainKernels(views);
}

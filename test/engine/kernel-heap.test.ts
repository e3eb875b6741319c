// KernelHeap: growth that keeps contents, disjoint reservations over one shared memory, the 4 GiB ceiling.
import { describe, expect, it } from 'vitest';
import { HeapExhaustedError, KernelHeap, MAX_HEAP_BYTES } from '../../src/engine/kernel-heap.js';

describe('KernelHeap', () => {
  it('grows to what is asked and keeps its contents', () => {
    const heap = new KernelHeap({ kernels: 'plain' });
    heap.f32[10] = 3.5;
    heap.growTo(5 << 20);
    expect(heap.byteLength).toBeGreaterThanOrEqual(5 << 20);
    expect(heap.f32[10]).toBe(3.5);
    expect(heap.f64.buffer).toBe(heap.f32.buffer);
  });

  it('reserves disjoint regions at the end, even for two heaps over one memory', () => {
    const a = new KernelHeap({ kernels: 'plain' });
    const b = new KernelHeap({ memory: a.memory, kernels: 'plain' });
    const first = a.reserve(100_000);
    const second = b.reserve(100_000);
    expect(second).toBeGreaterThanOrEqual(first + 100_000);
    expect(a.byteLength).toBeLessThan(b.byteLength);
  });

  it('refuses to grow past what WebAssembly can address', () => {
    const heap = new KernelHeap({ kernels: 'plain' });
    expect(() => heap.growTo(MAX_HEAP_BYTES + 1)).toThrow(HeapExhaustedError);
  });
});

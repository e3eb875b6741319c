// Loads the assembled SIMD kernels once, at start, and says why when they are not usable.
import { readFileSync } from 'node:fs';

/** Where `npm run build:wasm` writes the assembled kernels (build/ at the repository root). */
export const KERNELS_WASM_URL = new URL('../../../build/engine/kernels.wasm', import.meta.url);

export type KernelModuleStatus =
  | { available: true; module: WebAssembly.Module }
  | { available: false; reason: string };

function load(): KernelModuleStatus {
  let bytes: Buffer;
  try {
    bytes = readFileSync(KERNELS_WASM_URL);
  } catch {
    return { available: false, reason: 'not built: run `npm run build:wasm`' };
  }
  try {
    // Compiling fails on a runtime without WebAssembly SIMD or shared memory; that is the fallback case.
    return { available: true, module: new WebAssembly.Module(new Uint8Array(bytes)) };
  } catch (error) {
    return { available: false, reason: `cannot compile: ${(error as Error).message}` };
  }
}

export const kernelModuleStatus: KernelModuleStatus = load();

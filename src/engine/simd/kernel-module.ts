// Loads the assembled SIMD kernels once, at start, and says why when they are not usable.
import { readFileSync } from 'node:fs';

/** Where `npm run build:wasm` writes the assembled kernels (build/ at the repository root). */
export const KERNELS_WASM_URL = new URL('../../../build/engine/kernels.wasm', import.meta.url);

export type KernelModuleStatus =
  | { available: true; module: WebAssembly.Module }
  | { available: false; reason: string };

/** Every function the engine calls; a build/ from before one was added lacks it. */
export const KERNEL_EXPORTS = [
  'dotRows', 'dotBlock', 'nearest', 'sumRows', 'gatherRows', 'dotRowsI8', 'dotBlockI8', 'selectScores', 'selectBlock', 'kthScore', 'nearestProbes',
  'quantizeRowsI16', 'quantizeQueriesI16', 'encodeRowsI8', 'dotBlockI16', 'nearestI16', 'seedPotential', 'rerankSums', 'pqScan',
] as const;

function load(): KernelModuleStatus {
  let bytes: Buffer;
  try {
    bytes = readFileSync(KERNELS_WASM_URL);
  } catch {
    return { available: false, reason: 'not built: run `npm run build:wasm`' };
  }
  try {
    // Compiling fails on a runtime without WebAssembly SIMD or shared memory; that is the fallback case.
    const module = new WebAssembly.Module(new Uint8Array(bytes));
    const names = new Set(WebAssembly.Module.exports(module).map((entry) => entry.name));
    const missing = KERNEL_EXPORTS.filter((name) => !names.has(name));
    if (missing.length > 0) {
      // Said once, loudly: the plain fallback is correct but many times slower, and a checkout
      // that pulled new kernels without rebuilding would otherwise only look slow.
      const reason = `stale build (no ${missing.join(', ')}): run \`npm run build:wasm\``;
      process.emitWarning(`SIMD kernels unavailable, using the plain fallback: ${reason}`, { code: 'CIPHERDEX_STALE_KERNELS' });
      return { available: false, reason };
    }
    return { available: true, module };
  } catch (error) {
    return { available: false, reason: `cannot compile: ${(error as Error).message}` };
  }
}

export const kernelModuleStatus: KernelModuleStatus = load();

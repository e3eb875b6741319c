// Build step: assembles kernels.wat into the WebAssembly binary the engine loads at start.
// Run as `npm run build:wasm`; the output under build/ is generated, never committed or downloaded.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import wabtInit from 'wabt';
import { KERNELS_WASM_URL } from './kernel-module.js';

const WAT_URL = new URL('./kernels.wat', import.meta.url);

/** The kernels as WebAssembly bytes, assembled from the committed text source. */
export async function assembleKernels(): Promise<Uint8Array<ArrayBuffer>> {
  const wabt = await wabtInit();
  const source = await readFile(WAT_URL, 'utf8');
  const features = { simd: true, threads: true, bulk_memory: true };
  const parsed = wabt.parseWat('kernels.wat', source, features);
  try {
    parsed.resolveNames();
    (parsed.validate as (options: typeof features) => void)(features);
    return new Uint8Array(parsed.toBinary({}).buffer);
  } finally {
    parsed.destroy();
  }
}

async function main(): Promise<void> {
  const bytes = await assembleKernels();
  const out = fileURLToPath(KERNELS_WASM_URL);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, bytes);
  console.log(`wrote ${out} (${bytes.byteLength} bytes)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}

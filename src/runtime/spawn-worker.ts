// Starts a worker_threads worker from a module that sits beside the caller, also when the
// project runs from TypeScript source (tests, or a source newer than the build) rather than from dist/.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** tsx's ESM API, for a worker that must load TypeScript. */
function tsxApiUrl(): string {
  const resolve = (import.meta as ImportMeta & { resolve?: (specifier: string) => string }).resolve;
  if (typeof resolve === 'function') return resolve('tsx/esm/api');
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('tsx/package.json');
  const exports = (JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports;
  return pathToFileURL(join(dirname(manifest), exports['./esm/api'].import.default)).href;
}

/** `spawnSiblingWorker(import.meta.url, 'training-worker')` runs ./training-worker.(ts|js); `workerData` reaches it as such. */
export function spawnSiblingWorker(callerUrl: string, moduleName: string, workerData?: unknown): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${moduleName}.js`, callerUrl), { workerData });
  // The worker registers tsx itself: loader flags given to the parent do not reach worker
  // threads reliably on Node 20.
  const entry = JSON.stringify(new URL(`./${moduleName}.ts`, callerUrl).href);
  return new Worker(`import(${JSON.stringify(tsxApiUrl())}).then(({ tsImport }) => tsImport(${entry}, ${entry}));`, { eval: true, workerData });
}

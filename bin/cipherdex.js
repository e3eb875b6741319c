#!/usr/bin/env node
// npm bin of the `cipherdex` command and `npm start`: runs the compiled build when it is current,
// else the TypeScript source through tsx's loader.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compiledModule } from './compiled-build.js';

// Plain node loads the compiled modules in about half the time tsx takes to compile and load them
// (docs/benchmarks.md, cold open), in the main thread and in every worker the server starts.
const compiled = compiledModule(fileURLToPath(new URL('..', import.meta.url)), 'cli/main');
if (compiled !== null) {
  await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}

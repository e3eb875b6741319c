// Whether the compiled build in dist/ may stand in for the TypeScript source: `npm run build`
// (run by `npm ci` through prepare) writes it, and an edit made since must never be served stale.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newestSourceMs(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMs(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * The compiled counterpart of `src/<module>.ts` under `root`, or null when there is no complete
 * build as new as every source file. `npm run build` touches dist/.build-complete once tsc has
 * compiled everything without an error, so a build that stopped halfway or failed never counts.
 */
export function compiledModule(root, module) {
  try {
    if (statSync(join(root, 'dist', '.build-complete')).mtimeMs < newestSourceMs(join(root, 'src'))) return null;
    const compiled = join(root, 'dist', `${module}.js`);
    return statSync(compiled).isFile() ? compiled : null;
  } catch {
    return null;
  }
}

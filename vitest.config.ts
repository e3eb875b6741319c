// Test runner configuration. `graphql` is aliased to one resolved copy because vitest can
// otherwise load two module instances and Pothos-built schemas fail with "another realm" errors.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: { alias: { graphql: require.resolve('graphql') } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default for `run` is one fork per core minus one: a single fork on a 2-core CI machine,
    // where most files wait on servers, sockets and child processes. One fork per core halves the run.
    maxWorkers: Math.max(2, availableParallelism()),
  },
});

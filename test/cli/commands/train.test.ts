// `cipherdex train` end to end: --follow prints the live subscription down to COMPLETED and a
// summary, --wait blocks for the outcome, typed errors and a cancelled run exit with their codes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, cliEnv, clusteredVectors, describeIndex, newIndexKey, runCli, seedIndex, startCli, startTestServer } from '../cli-harness.js';

const LIFECYCLE = ['QUEUED', 'INITIALIZING', 'ITERATING', 'ASSIGNING', 'PERSISTING', 'COMPLETED'];

let server: TestServer;
const key = newIndexKey();
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  server = await startTestServer();
  env = cliEnv(server, { CIPHERDEX_INDEX_KEY: key });
  await seedIndex(server, 'clusters', key, clusteredVectors(3000, 16, 8, 21));
  await seedIndex(server, 'tiny', key, clusteredVectors(3, 4, 1, 22));
});
afterAll(async () => {
  await server?.close();
});

async function untilIdle(name: string): Promise<void> {
  while ((await describeIndex(server, name, key)).isTraining) await new Promise((resolve) => setTimeout(resolve, 50));
}

describe('cipherdex train', () => {
  it('--follow prints every phase and iteration of the run it starts, then a summary', async () => {
    const result = await runCli(['train', 'clusters', '--follow', '--n-lists', '8', '--max-iters', '40', '--tolerance', '1e-4'], env);
    expect(result.stderr).toMatch(/Training run \S+ of "clusters" started \(3000 vectors, 8 lists, maxIters 40\)/);
    expect(result.code).toBe(0);

    // Without a terminal, each state is one line: "[elapsed] PHASE NN% iteration i/40 shift ... ETA ...".
    const states = [...result.stderr.matchAll(/^\[\s*[^\]]+\] (\w+) (\d+)% iteration (\d+)\/40 shift (\S+) inertia (\S+) ETA (\S+)/gm)].map((match) => ({
      phase: match[1]!,
      percent: Number(match[2]),
      iteration: Number(match[3]),
    }));
    expect(states.some((state) => state.phase === 'ITERATING' && state.iteration >= 1)).toBe(true);
    const final = states.at(-1)!;
    expect(final).toMatchObject({ phase: 'COMPLETED', percent: 100 });
    // Phases only move forward, and so do the iteration count and the progress bar.
    for (let i = 1; i < states.length; i++) {
      expect(LIFECYCLE.indexOf(states[i]!.phase)).toBeGreaterThanOrEqual(LIFECYCLE.indexOf(states[i - 1]!.phase));
      expect(states[i]!.iteration).toBeGreaterThanOrEqual(states[i - 1]!.iteration);
      expect(states[i]!.percent).toBeGreaterThanOrEqual(states[i - 1]!.percent);
    }

    expect(result.stdout).toMatch(/^Training run \S+ of "clusters" COMPLETED after /m);
    expect(result.stdout).toContain('lists 8, vectors 3,000, batch size 2,048');
    expect(result.stdout).toMatch(new RegExp(`iterations ${final.iteration}/40, (converged|not converged)`));
    const index = await describeIndex(server, 'clusters', key);
    expect(index).toMatchObject({ isTrained: true, nLists: 8 });
    expect(index.lastTrainingRun?.phase).toBe('COMPLETED');
  });

  it('--wait blocks until the run ends and prints its summary', async () => {
    const result = await runCli(['train', 'clusters', '--wait', '--max-iters', '3', '--batch-size', '512'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/COMPLETED after/);
    expect(result.stdout).toMatch(/iterations [1-3]\/3/);
    expect(result.stdout).toContain('batch size 512');
    // No live view with --wait: only the start line and the summary.
    expect(result.stderr).not.toContain('ITERATING');
  });

  it('without --follow or --wait returns once the run is queued', async () => {
    const result = await runCli(['train', 'clusters', '--max-iters', '2'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Queued training run \S+ of "clusters" \(phase \w+, \d+ lists, maxIters 2\)\.$/m);
    await untilIdle('clusters');
  });

  it('turns typed training errors into exit code 3, and bad flags into 1', async () => {
    const tooFew = await runCli(['train', 'tiny', '--n-lists', '8'], env);
    expect(tooFew.code).toBe(3);
    expect(tooFew.stderr).toMatch(/Training needs at least 16 vectors; the index holds 3\. \(INSUFFICIENT_VECTORS\)/);

    const outOfRange = await runCli(['train', 'clusters', '--max-iters', '100000000'], env);
    expect(outOfRange.code).toBe(3);
    expect(outOfRange.stderr).toContain('(VALIDATION_ERROR)');

    const notANumber = await runCli(['train', 'clusters', '--max-iters', 'many'], env);
    expect(notANumber.code).toBe(1);
    expect(notANumber.stderr).toContain('--max-iters must be an integer >= 1, got "many"');
  });

  it('exits 4 when the followed run is cancelled, after refusing a second run meanwhile', async () => {
    // Enough work that the run is still iterating when the cancel arrives: tolerance 0 never converges.
    await seedIndex(server, 'slow', key, clusteredVectors(8000, 16, 16, 23));
    const following = startCli(['train', 'slow', '--follow', '--n-lists', '64', '--max-iters', '10000', '--tolerance', '0'], env);
    await following.stderrMatches(/ITERATING \d+% iteration [1-9]/);

    const second = await runCli(['train', 'slow'], env);
    expect(second.code).toBe(3);
    expect(second.stderr).toContain('(TRAINING_IN_PROGRESS)');

    const cancel = await runCli(['train', 'slow', '--cancel'], env);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toMatch(/^Cancelled training run \S+ of "slow"/);

    const result = await following.done;
    expect(result.code).toBe(4);
    expect(result.stdout).toMatch(/of "slow" CANCELLED after/);
    expect((await describeIndex(server, 'slow', key)).isTraining).toBe(false);
  });
});

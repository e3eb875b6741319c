// What the CLI's end-to-end tests share: a real server on a free port with a temporary data
// directory, the CLI run as a child process exactly as a user runs it, and seeded test vectors.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { loadConfig } from '../../src/config.js';
import { startServer } from '../../src/server/start-server.js';
import { CreateIndexDocument, IndexDocument, UpsertDocument } from '../generated/graphql.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(REPO_ROOT, 'src/cli/main.ts');

export interface TestServer {
  url: string;
  apiKey: string;
  dataDir: string;
  /** A scratch folder for input files; removed with the server. */
  workDir: string;
  close(): Promise<void>;
}

export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cipherdex-cli-data-'));
  const workDir = await mkdtemp(join(tmpdir(), 'cipherdex-cli-work-'));
  const apiKey = randomBytes(16).toString('hex');
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    CIPHERDEX_DATA_DIR: dataDir,
    CIPHERDEX_API_KEY: apiKey,
    AUTO_TRAIN_DISABLED: 'true',
    ...env,
  });
  const server = await startServer(config, { log: () => {} });
  return {
    url: server.url,
    apiKey,
    dataDir,
    workDir,
    async close() {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Environment of a CLI child: only what the test gives, so the developer's own settings never leak in. */
export function cliEnv(server: Pick<TestServer, 'url' | 'apiKey'> | null, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' };
  if (server) {
    env.CIPHERDEX_URL = server.url;
    env.CIPHERDEX_API_KEY = server.apiKey;
  }
  return { ...env, ...extra };
}

/** Starts `node --import tsx src/cli/main.ts ...args`. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function collect(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return collect(spawnCli(args, env));
}

/** A CLI child whose output can be awaited while it runs (for --follow and interruption tests). */
export interface RunningCli {
  child: ChildProcess;
  done: Promise<CliResult>;
  /** Resolves once stderr matches `pattern`; rejects if the process ends first. */
  stderrMatches(pattern: RegExp): Promise<void>;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv): RunningCli {
  const child = spawnCli(args, env);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const done = collect(child);
  return {
    child,
    done,
    stderrMatches: (pattern) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!pattern.test(stderr)) return;
          child.stderr!.off('data', check);
          resolve();
        };
        child.stderr!.on('data', check);
        check();
        done.then((result) => (pattern.test(stderr) ? resolve() : reject(new Error(`exited ${result.code} before ${pattern}: ${result.stderr}`))), reject);
      }),
  };
}

/** A small deterministic PRNG (mulberry32) so generated data is the same on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` vectors around `clusters` well-separated centres: data that k-means can actually cluster. */
export function clusteredVectors(count: number, dimension: number, clusters: number, seed = 1): Float32Array[] {
  const random = seededRandom(seed);
  const centres = Array.from({ length: clusters }, () => Array.from({ length: dimension }, () => random() * 20 - 10));
  return Array.from({ length: count }, (_, i) => {
    const centre = centres[i % clusters]!;
    return Float32Array.from(centre, (value) => value + (random() - 0.5));
  });
}

export async function writeFvecs(path: string, vectors: Float32Array[]): Promise<void> {
  const parts = vectors.map((vector) => {
    const row = Buffer.alloc(4 + 4 * vector.length);
    row.writeInt32LE(vector.length, 0);
    vector.forEach((value, i) => row.writeFloatLE(value, 4 + 4 * i));
    return row;
  });
  await writeFile(path, Buffer.concat(parts));
}

/** A version 1 .npy file of float32 rows, laid out as numpy.save writes it. */
export async function writeNpy(path: string, vectors: Float32Array[]): Promise<void> {
  const dimension = vectors[0]!.length;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${vectors.length}, ${dimension}), }`;
  header = header.padEnd(Math.ceil((10 + header.length + 1) / 64) * 64 - 10 - 1, ' ') + '\n';
  const preamble = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
  preamble.writeUInt16LE(header.length, 8);
  const data = Buffer.alloc(vectors.length * dimension * 4);
  vectors.forEach((vector, row) => vector.forEach((value, i) => data.writeFloatLE(value, (row * dimension + i) * 4)));
  await writeFile(path, Buffer.concat([preamble, Buffer.from(header, 'latin1'), data]));
}

/** Exact euclidean nearest neighbours, the reference for search results. */
export function bruteForceTopK(vectors: Float32Array[], ids: string[], query: Float32Array, k: number): string[] {
  return vectors
    .map((vector, i) => ({ id: ids[i]!, distance: vector.reduce((sum, value, d) => sum + (value - query[d]!) ** 2, 0) }))
    .sort((a, b) => a.distance - b.distance)
    .slice(0, k)
    .map((hit) => hit.id);
}

export function newIndexKey(): string {
  return randomBytes(32).toString('base64');
}

/** A typed GraphQL request straight to the test server, to set up and check state beside the CLI. */
export async function graphql<TResult, TVariables>(
  server: TestServer,
  document: TypedDocumentNode<TResult, TVariables>,
  variables: TVariables,
): Promise<TResult> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': server.apiKey },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as { data?: TResult; errors?: { message: string }[] };
  if (body.errors?.length || !body.data) throw new Error(body.errors?.map((error) => error.message).join('; ') ?? `HTTP ${response.status}`);
  return body.data;
}

/** Narrows a result union to the member named, or fails the test with the typed error's message. */
export function success<T extends { __typename?: string }, N extends string>(result: T, typename: N): Extract<T, { __typename?: N }> {
  if (result.__typename !== typename) throw new Error(`expected ${typename}, got ${JSON.stringify(result)}`);
  return result as Extract<T, { __typename?: N }>;
}

/** Creates an index and upserts `vectors` with ids `${prefix}${i}` through the API. */
export async function seedIndex(server: TestServer, name: string, key: string, vectors: Float32Array[], prefix = ''): Promise<void> {
  const created = await graphql(server, CreateIndexDocument, { name, key, dimension: vectors[0]!.length });
  success(created.createIndex, 'Index');
  for (let start = 0; start < vectors.length; start += 2000) {
    const items = vectors.slice(start, start + 2000).map((vector, i) => ({ id: `${prefix}${start + i}`, vector: Array.from(vector) }));
    success((await graphql(server, UpsertDocument, { index: name, key, items })).upsert, 'UpsertSuccess');
  }
}

export async function describeIndex(server: TestServer, name: string, key: string) {
  return success((await graphql(server, IndexDocument, { name, key })).index, 'Index');
}

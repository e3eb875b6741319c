// `cipherdex search` end to end: inline and file queries answer the exact nearest neighbours on an
// untrained index, filters and included fields reach the server, bad input fails clearly.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, bruteForceTopK, cliEnv, clusteredVectors, graphql, newIndexKey, runCli, startTestServer, success, writeFvecs } from '../cli-harness.js';
import { CreateIndexDocument, UpsertDocument } from '../../generated/graphql.js';

let server: TestServer;
let env: NodeJS.ProcessEnv;
const key = newIndexKey();
const vectors = clusteredVectors(400, 8, 4, 31);
const ids = vectors.map((_, i) => `item-${i}`);

beforeAll(async () => {
  server = await startTestServer();
  env = cliEnv(server, { CIPHERDEX_INDEX_KEY: key });
  success((await graphql(server, CreateIndexDocument, { name: 'points', key, dimension: 8 })).createIndex, 'Index');
  const items = vectors.map((vector, i) => ({ id: ids[i]!, vector: Array.from(vector), contents: `text ${i}`, metadata: { group: i % 4 } }));
  success((await graphql(server, UpsertDocument, { index: 'points', key, items })).upsert, 'UpsertSuccess');
});
afterAll(async () => {
  await server?.close();
});

interface JsonResult {
  query: string | null;
  exact: boolean;
  hits: { id: string; distance: number; contents?: string; metadata?: { group: number } }[];
}

const parseLines = (stdout: string): JsonResult[] => stdout.trim().split('\n').map((line) => JSON.parse(line) as JsonResult);

describe('cipherdex search', () => {
  it('answers an inline vector with the exact nearest neighbours', async () => {
    const query = Float32Array.from(vectors[17]!, (value, i) => value + (i % 2 ? 0.05 : -0.05));
    const result = await runCli(['search', 'points', '--vector', Array.from(query).join(','), '--top-k', '5', '--json'], env);
    expect(result.code).toBe(0);
    const [answer] = parseLines(result.stdout);
    expect(answer!.exact).toBe(true);
    expect(answer!.hits.map((hit) => hit.id)).toEqual(bruteForceTopK(vectors, ids, query, 5));
    const distances = answer!.hits.map((hit) => hit.distance);
    expect(distances).toEqual([...distances].sort((a, b) => a - b));
  });

  it('prints a table by default, with the included fields', async () => {
    const result = await runCli(['search', 'points', '--vector', JSON.stringify(Array.from(vectors[3]!)), '--top-k', '2', '--include', 'contents,metadata'], env);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe('query: 2 hits (exact)');
    expect(lines[1]).toMatch(/^\s+1\s+item-3\s+0\.000000\s+"text 3"\s+\{"group":3\}$/);
    expect(lines).toHaveLength(3);
  });

  it('formats every distance the same way: six decimals, aligned in one column', async () => {
    const result = await runCli(['search', 'points', '--vector', Array.from(vectors[40]!, (x) => x + 0.3).join(','), '--top-k', '8'], env);
    expect(result.code).toBe(0);
    const rows = result.stdout.trim().split('\n').slice(1);
    expect(rows).toHaveLength(8);
    const distances = rows.map((row) => /^\s+\d+\s+item-\d+\s+(\S+)$/.exec(row)?.[1]);
    for (const distance of distances) expect(distance).toMatch(/^\d+\.\d{6}$/);
    // Right-aligned: every distance ends in the same column.
    expect(new Set(rows.map((row) => row.length)).size).toBe(1);
  });

  it('accepts a vector whose first component is negative, after a space or an equals sign', async () => {
    const query = Float32Array.from(vectors[9]!, (value) => value - 100);
    query[0] = -Math.abs(query[0]!) - 0.31;
    const text = Array.from(query).join(',');
    expect(text.startsWith('-')).toBe(true);
    const spaced = await runCli(['search', 'points', '--vector', text, '--top-k', '3', '--json'], env);
    const joined = await runCli(['search', 'points', `--vector=${text}`, '--top-k', '3', '--json'], env);
    expect(spaced.stderr).toBe('');
    expect(spaced.code).toBe(0);
    expect(joined.code).toBe(0);
    const hitsOf = (stdout: string) => (JSON.parse(stdout.trim()) as { hits: { id: string }[] }).hits.map((hit) => hit.id);
    expect(hitsOf(spaced.stdout)).toEqual(bruteForceTopK(vectors, ids, query, 3));
    expect(hitsOf(joined.stdout)).toEqual(hitsOf(spaced.stdout));
  });

  it('runs every vector of a file as a query, in order, and applies the metadata filter', async () => {
    const queries = [vectors[0]!, vectors[101]!, vectors[202]!];
    const path = join(server.workDir, 'queries.fvecs');
    await writeFvecs(path, queries);
    const result = await runCli(['search', 'points', '--from-file', path, '--top-k', '3', '--filter', '{"group": {"$in": [1, 2]}}', '--include', 'metadata', '--json'], env);
    expect(result.code).toBe(0);
    const answers = parseLines(result.stdout);
    expect(answers.map((answer) => answer.query)).toEqual(['0', '1', '2']);
    const allowed = ids.filter((_, i) => i % 4 === 1 || i % 4 === 2);
    const allowedVectors = vectors.filter((_, i) => i % 4 === 1 || i % 4 === 2);
    answers.forEach((answer, q) => {
      expect(answer.hits.every((hit) => hit.metadata!.group === 1 || hit.metadata!.group === 2)).toBe(true);
      expect(answer.hits.map((hit) => hit.id)).toEqual(bruteForceTopK(allowedVectors, allowed, queries[q]!, 3));
    });
  });

  it('reads JSON Lines queries and honours --limit', async () => {
    const path = join(server.workDir, 'queries.jsonl');
    await writeFile(path, [5, 6, 7].map((i) => JSON.stringify({ id: `q${i}`, vector: Array.from(vectors[i]!) })).join('\n'));
    const result = await runCli(['search', 'points', '--from-file', path, '--limit', '2', '--top-k', '1', '--json'], env);
    expect(result.code).toBe(0);
    expect(parseLines(result.stdout).map((answer) => [answer.query, answer.hits[0]!.id])).toEqual([
      ['q5', 'item-5'],
      ['q6', 'item-6'],
    ]);
  });

  it('fails with the documented codes on a wrong dimension, a bad filter and missing arguments', async () => {
    const wrongDimension = await runCli(['search', 'points', '--vector', '1,2,3'], env);
    expect(wrongDimension.code).toBe(3);
    expect(wrongDimension.stderr).toContain('(DIMENSION_MISMATCH)');

    const badFilter = await runCli(['search', 'points', '--vector', '1,2,3,4,5,6,7,8', '--filter', '{group: 1}'], env);
    expect(badFilter.code).toBe(1);
    expect(badFilter.stderr).toContain('--filter is not valid JSON');

    const both = await runCli(['search', 'points'], env);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('give exactly one of --vector and --from-file');

    const notNumbers = await runCli(['search', 'points', '--vector', '1,x'], env);
    expect(notNumbers.code).toBe(1);
    expect(notNumbers.stderr).toContain('--vector element 1 is not a finite number');
  });
});

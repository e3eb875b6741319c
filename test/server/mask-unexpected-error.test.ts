import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { print } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createIndexService } from '../../src/service/create-index-service.js';
import { startServer } from '../../src/server/start-server.js';
import { IndexDocument, UpsertDocument } from '../generated/graphql.js';
import { newIndexKey } from './harness.js';

describe('error masking', () => {
  it('returns typed domain errors as union members and masks unexpected failures, logging them', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cipherdex-mask-'));
    const config = loadConfig({ CIPHERDEX_DATA_DIR: dataDir, CIPHERDEX_API_KEY: 'k', PORT: '0' });
    const service = await createIndexService(config);
    const logs: string[] = [];
    const running = await startServer(config, { service, log: (line) => logs.push(line) });
    const ask = async () => {
      const response = await fetch(running.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', 'x-api-key': 'k' },
        body: JSON.stringify({ query: print(IndexDocument), variables: { name: 'missing', key: newIndexKey() } }),
      });
      return { status: response.status, text: await response.text() };
    };
    try {
      const typed = JSON.parse((await ask()).text) as { data: { index: { __typename: string; code: string } }; errors?: unknown };
      expect(typed.errors).toBeUndefined();
      expect(typed.data.index).toMatchObject({ __typename: 'IndexNotFoundError', code: 'INDEX_NOT_FOUND' });

      // A closed service fails with a plain Error: nothing a client should see the inside of.
      await service.close();
      const masked = await ask();
      const body = JSON.parse(masked.text) as { data: null; errors: Array<{ message: string; extensions: { code: string } }> };
      expect(body.data).toBeNull();
      expect(body.errors.map((e) => [e.message, e.extensions.code])).toEqual([['Unexpected error.', 'INTERNAL_SERVER_ERROR']]);
      expect(masked.text).not.toMatch(/closed|stack|at /);
      expect(logs.some((line) => /Unexpected error.*closed/.test(line))).toBe(true);
    } finally {
      await running.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('answers the memory budget refusing an open as a union member where listed, else INSUFFICIENT_RESOURCES with HTTP 503', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cipherdex-budget-'));
    const key = newIndexKey();
    const setup = await createIndexService(loadConfig({ CIPHERDEX_DATA_DIR: dataDir, AUTO_TRAIN_DISABLED: 'true' }));
    await setup.createIndex('big', key, { dimension: 256 });
    await setup.upsert('big', key, Array.from({ length: 2000 }, (_, i) => ({ id: `v${i}`, vector: Array.from({ length: 256 }, (_, j) => ((i * 31 + j) % 97) / 97) })));
    await setup.close();
    // 2,000 x 256 float32 rows are 2 MB: a 1 MiB budget cannot open the index.
    const config = loadConfig({ CIPHERDEX_DATA_DIR: dataDir, CIPHERDEX_API_KEY: 'k', PORT: '0', CIPHERDEX_MEMORY_BUDGET_MB: '1' });
    const service = await createIndexService(config);
    const running = await startServer(config, { service, log: () => {} });
    const ask = async (query: string, variables: object) => {
      const response = await fetch(running.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', 'x-api-key': 'k' },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, body: (await response.json()) as { data: Record<string, { __typename: string; code: string }> | null; errors?: Array<{ extensions: { code: string } }> } };
    };
    try {
      const upsert = await ask(print(UpsertDocument), { index: 'big', key, items: [{ id: 'new', vector: Array(256).fill(0.5) }] });
      expect(upsert.body.errors).toBeUndefined();
      expect(upsert.body.data!.upsert).toMatchObject({ __typename: 'InsufficientResourcesError', code: 'INSUFFICIENT_RESOURCES' });
      const index = await ask(print(IndexDocument), { name: 'big', key });
      expect(index.status).toBe(503);
      expect(index.body.errors!.map((error) => error.extensions.code)).toEqual(['INSUFFICIENT_RESOURCES']);
      expect(service.residentIndexes()).toEqual([]);
      // Nothing was written by the refused upsert.
      await running.close();
      await service.close();
      const check = await createIndexService(loadConfig({ CIPHERDEX_DATA_DIR: dataDir, AUTO_TRAIN_DISABLED: 'true' }));
      expect(await check.count('big', key)).toBe(2000);
      expect(await check.get('big', key, ['new'])).toEqual([]);
      await check.close();
    } finally {
      await running.close();
      await service.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

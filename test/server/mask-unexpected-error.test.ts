import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { print } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createIndexService } from '../../src/service/create-index-service.js';
import { startServer } from '../../src/server/start-server.js';
import { IndexDocument } from '../generated/graphql.js';
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
});

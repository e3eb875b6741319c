// Property (fast-check): paging through a random index while upserts (new ids and replacements),
// updates and deletes run concurrently returns every item that existed throughout the walk exactly
// once, never any id twice, and only ids that existed at some point during it. Runs on SQLite.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createIndexService } from '../../src/service/create-index-service.js';
import type { CipherdexIndexService } from '../../src/service/index-service.js';
import { serviceConfig } from './service-harness.js';

const DIM = 3;

type Write = { kind: 'add'; id: number } | { kind: 'replace'; id: number } | { kind: 'update'; id: number } | { kind: 'delete'; id: number };

const writeArbitrary: fc.Arbitrary<Write> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), id: fc.integer({ min: 1000, max: 1100 }) }),
  fc.record({ kind: fc.constant('replace' as const), id: fc.integer({ min: 0, max: 199 }) }),
  fc.record({ kind: fc.constant('update' as const), id: fc.integer({ min: 0, max: 199 }) }),
  fc.record({ kind: fc.constant('delete' as const), id: fc.integer({ min: 0, max: 1100 }) }),
);

let dir: string;
let service: CipherdexIndexService;
const key = randomBytes(32).toString('base64');
let indexNumber = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cipherdex-paging-'));
  service = await createIndexService(serviceConfig({ CIPHERDEX_DATA_DIR: dir }));
});

afterAll(async () => {
  await service.close();
  rmSync(dir, { recursive: true, force: true });
});

const vector = (seed: number) => [Math.sin(seed), Math.cos(seed), seed % 7];

it('returns every item that lived throughout exactly once while writes run', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 200 }),
      fc.integer({ min: 1, max: 40 }),
      // Writes to run alongside each page request.
      fc.array(fc.array(writeArbitrary, { maxLength: 4 }), { minLength: 1, maxLength: 20 }),
      async (initial, first, writesPerPage) => {
        const name = `paging-${indexNumber++}`;
        await service.createIndex(name, key, { dimension: DIM });
        if (initial > 0) {
          await service.upsert(name, key, Array.from({ length: initial }, (_, i) => ({ id: `id-${i}`, vector: vector(i), metadata: { i } })));
        }
        const everLived = new Set(Array.from({ length: initial }, (_, i) => `id-${i}`));
        const touched = new Set<string>();
        const seen: string[] = [];
        let after: string | null = null;
        for (let page = 0; ; page++) {
          const writes = writesPerPage[page % writesPerPage.length];
          const running = writes.map(async (write) => {
            const id = `id-${write.id}`;
            if (write.kind === 'delete') {
              touched.add(id);
              await service.delete(name, key, [id]);
            } else if (write.kind === 'update') {
              // Unknown ids are refused as a whole; that is fine here.
              await service.update(name, key, [id], { metadata: { touched: page } }).catch(() => undefined);
            } else {
              everLived.add(id);
              if (write.kind === 'add') touched.add(id);
              await service.upsert(name, key, [{ id, vector: vector(write.id + page), metadata: { page } }]);
            }
          });
          // The page request is issued while the writes are in flight.
          const answer = await service.browse(name, key, { first, after, include: [] });
          await Promise.all(running);
          seen.push(...answer.items.map((entry) => entry.item.id));
          if (!answer.hasNextPage) break;
          // A walk that does not advance would never end: fail it instead.
          expect(page, 'the walk advances').toBeLessThan(1500);
          after = answer.endCursor;
        }
        const counts = new Map<string, number>();
        for (const id of seen) counts.set(id, (counts.get(id) ?? 0) + 1);
        for (const [id, count] of counts) {
          expect(count, `${id} returned ${count} times`).toBe(1);
          expect(everLived.has(id), `${id} never existed`).toBe(true);
        }
        // Lived throughout: there at the start and never deleted (replacing or updating keeps it).
        for (let i = 0; i < initial; i++) {
          const id = `id-${i}`;
          if (!touched.has(id)) expect(counts.get(id), `${id} lived throughout`).toBe(1);
        }
        await service.deleteIndex(name, key);
      },
    ),
    { numRuns: 25 },
  );
});

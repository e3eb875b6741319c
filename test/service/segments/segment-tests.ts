// What the segment-set suites share inside a forEachStore block: a fresh store harness per test, a
// service that writes no sets itself (the tests write them when they choose), direct opens of the
// index on their own store connection (as a restart would), closed after each test or when asked,
// and writing a set from such an open.
import { afterEach, beforeEach, expect } from 'vitest';
import type { CipherdexIndexService } from '../../../src/service/index-service.js';
import type { SealWorkers } from '../../../src/service/sealing/seal-workers.js';
import { writeSegmentSet } from '../../../src/service/segments/segment-writer.js';
import { openDirect as openIndexDirect, type DirectOpen } from '../open/open-direct.js';
import type { ServiceStoreHarness } from '../service-harness.js';

export interface SegmentTests {
  /** This test's store harness (a test may dispose it and put a fresh one here). */
  harness: ServiceStoreHarness;
  /** Run, last first, by closeDirect and after each test. */
  cleanup: Array<() => Promise<void>>;
  closeDirect(): Promise<void>;
  service(): Promise<CipherdexIndexService>;
  /** Opens index 'docs' directly, through `workers` when given; closed by closeDirect. */
  openDirect(workers?: SealWorkers | null): Promise<DirectOpen>;
  /** Writes a segment set of 'docs' from a direct open (segments of `segmentBytes`), then closes it. */
  writeSet(): Promise<void>;
}

/** Registers the per-test set-up and tear-down; `key` opens index 'docs'. */
export function segmentTests(fresh: () => Promise<ServiceStoreHarness>, key: string, segmentBytes: number): SegmentTests {
  const tests: SegmentTests = {
    harness: undefined as unknown as ServiceStoreHarness,
    cleanup: [],
    async closeDirect() {
      for (const step of tests.cleanup.splice(0).reverse()) await step();
    },
    service: () => tests.harness.service({ segments: false }),
    async openDirect(workers = null) {
      const opened = await openIndexDirect(tests.harness, 'docs', key, workers);
      tests.cleanup.push(opened.close);
      return opened;
    },
    async writeSet() {
      const { store, open } = await tests.openDirect();
      expect(await writeSegmentSet(store, open, segmentBytes)).toBe(true);
      await tests.closeDirect();
    },
  };
  beforeEach(async () => {
    tests.harness = await fresh();
  });
  afterEach(async () => {
    await tests.closeDirect();
    await tests.harness.dispose();
  });
  return tests;
}

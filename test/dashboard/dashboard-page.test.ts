// The dashboard in a real browser (Debian's Chromium driven by playwright-core): connect with an
// API key, open an index with its key, watch runs started through the API and with the Train
// button advance to COMPLETED in the progress bar and the chart, survive a server restart, and
// keep the index key out of URLs and storage. Saves test-artifacts/dashboard.png.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server/start-server.js';
import { clusteredVectors, graphql, newIndexKey, seedIndex, success, type TestServer } from '../cli/cli-harness.js';
import { TrainIndexDocument } from '../generated/graphql.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const ARTIFACT = fileURLToPath(new URL('../../test-artifacts/dashboard.png', import.meta.url));
const haveChromium = existsSync(CHROMIUM);
const IN_CI = process.env.CI === 'true';

if (!haveChromium && !IN_CI) {
  console.warn(`[dashboard] skipping the browser test: ${CHROMIUM} is missing (apt-get install -y chromium). With CI=true this fails.`);
}

describe.runIf(haveChromium || IN_CI)('dashboard in Chromium', () => {
  const apiKey = 'dashboard-test-api-key';
  const indexKey = newIndexKey();
  let dataDir: string;
  let running: RunningServer;
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  /** Every WebSocket frame the page sent, to check where the index key travels. */
  const sentFrames: string[] = [];
  const requestedUrls: string[] = [];
  /** Uncaught exceptions and console errors of the page: a broken chart or client shows up here. */
  const pageErrors: string[] = [];

  async function start(port: number): Promise<RunningServer> {
    const config = loadConfig({
      PORT: String(port),
      HOST: '127.0.0.1',
      CIPHERDEX_DATA_DIR: dataDir,
      CIPHERDEX_API_KEY: apiKey,
      AUTO_TRAIN_DISABLED: 'true',
    });
    return startServer(config, { log: () => {} });
  }

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`${CHROMIUM} is missing: .ci/run must install Debian's chromium (CI=true makes this a failure)`);
    dataDir = await mkdtemp(join(tmpdir(), 'cipherdex-dashboard-'));
    running = await start(0);
    server = { url: running.url, apiKey, dataDir, workDir: dataDir, close: () => running.close() };
    await seedIndex(server, 'demo', indexKey, clusteredVectors(4000, 16, 12, 61));
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('websocket', (socket) => socket.on('framesent', (frame) => sentFrames.push(String(frame.payload))));
    page.on('request', (request) => requestedUrls.push(request.url()));
    page.on('pageerror', (error) => pageErrors.push(error.stack ?? error.message));
    page.on('console', (message) => {
      // The refused connection attempts while the server is down are expected there.
      if (message.type() === 'error' && !/WebSocket connection .* failed/.test(message.text())) pageErrors.push(message.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await running?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /** Records every value the progress bar and the chart take, in the page, as the DOM changes. */
  async function recordProgress(): Promise<void> {
    await page.evaluate(() => {
      const samples: { progress: number; points: number; phase: string }[] = [];
      (window as unknown as { samples: typeof samples }).samples = samples;
      const read = () =>
        samples.push({
          progress: Number(document.getElementById('progress')!.getAttribute('aria-valuenow')),
          points: Number(document.getElementById('chart')!.dataset.points),
          phase: document.getElementById('phase')!.textContent ?? '',
        });
      new MutationObserver(read).observe(document.getElementById('index-details')!, { attributes: true, childList: true, subtree: true, characterData: true });
    });
  }

  async function samples(): Promise<{ progress: number; points: number; phase: string }[]> {
    return page.evaluate(() => (window as unknown as { samples: { progress: number; points: number; phase: string }[] }).samples);
  }

  it('says so when the API key is refused, then connects with the right one and lists the indexes', async () => {
    await page.goto(running.url.replace(/\/graphql$/, '/dashboard'));
    await page.fill('#api-key', 'not-the-key');
    await page.click('#connect');
    await page.waitForSelector('#connection[data-state="refused"]');
    expect(await page.textContent('#connect-error')).toContain('refused this API key');
    expect(await page.evaluate(() => sessionStorage.getItem('cipherdex.apiKey'))).toBeNull();

    await page.fill('#api-key', apiKey);
    await page.click('#connect');
    await page.waitForSelector('#connection[data-state="connected"]');
    await page.waitForSelector('#indexes button[data-index="demo"]');
    expect(await page.evaluate(() => sessionStorage.getItem('cipherdex.apiKey'))).toBe(apiKey);
  });

  it('opens an index with its key and shows its facts', async () => {
    await page.click('#indexes button[data-index="demo"]');
    await page.fill('#index-key', indexKey);
    await page.click('#open-index');
    await page.waitForSelector('#index-details', { state: 'visible' });
    await expect.poll(() => page.textContent('#vector-count')).toBe('4,000');
    expect(await page.textContent('#trained')).toBe('no');
    expect(await page.textContent('#n-lists')).toBe('auto');
    expect(await page.textContent('#dimension')).toBe('16');
  });

  it('follows a run started through the API to COMPLETED: progress bar and chart advance', async () => {
    await recordProgress();
    const run = success(
      (await graphql(server, TrainIndexDocument, { index: 'demo', key: indexKey, nLists: 24, maxIters: 25, tolerance: 0 })).trainIndex,
      'TrainingRun',
    );
    await page.waitForSelector('#phase[data-phase="COMPLETED"]', { timeout: 60_000 });
    expect(await page.textContent('#run-id')).toContain(run.runId);

    const seen = await samples();
    const progress = seen.map((sample) => sample.progress);
    const points = seen.map((sample) => sample.points);
    // The bar moved through intermediate values, never backwards, and ended full.
    expect(progress.some((value) => value > 0 && value < 100)).toBe(true);
    progress.slice(1).forEach((value, i) => expect(value).toBeGreaterThanOrEqual(progress[i]!));
    expect(progress.at(-1)).toBe(100);
    // The chart grew one point per iteration as the events arrived.
    expect(new Set(points).size).toBeGreaterThan(2);
    points.slice(1).forEach((value, i) => expect(value).toBeGreaterThanOrEqual(points[i]!));
    const iterations = Number((await page.textContent('#iteration'))!.split('/')[0]);
    expect(iterations).toBeGreaterThan(1);
    expect(points.at(-1)).toBe(iterations);
    expect(await page.locator('#chart canvas').count()).toBeGreaterThan(0);
    expect(seen.map((sample) => sample.phase)).toContain('ITERATING');

    await expect.poll(() => page.textContent('#trained')).toBe('yes');
    expect(await page.textContent('#n-lists')).toBe('24');
    await mkdir(join(ARTIFACT, '..'), { recursive: true });
    await page.screenshot({ path: ARTIFACT, fullPage: true });
  });

  it('starts a run with the Train button and its arguments', async () => {
    const previous = await page.textContent('#run-id');
    await page.fill('#train-max-iters', '7');
    await page.fill('#train-tolerance', '0');
    await page.click('#train');
    await expect.poll(() => page.textContent('#run-id'), { timeout: 30_000 }).not.toBe(previous);
    await page.waitForSelector('#phase[data-phase="COMPLETED"]', { timeout: 60_000 });
    expect(await page.textContent('#iteration')).toBe('7 / 7');
    expect(await page.getAttribute('#chart', 'data-points')).toBe('7');
    expect(await page.isHidden('#train-error')).toBe(true);
  });

  it('shows "reconnecting" while the server is down and recovers by itself when it is back', async () => {
    const port = running.port;
    await running.close();
    await page.waitForSelector('#connection[data-state="reconnecting"]', { timeout: 20_000 });
    expect(await page.textContent('#connection')).toContain('reconnecting');

    running = await start(port);
    await page.waitForSelector('#connection[data-state="connected"]', { timeout: 30_000 });
    // The resumed subscription answers with the current state; the facts reload.
    await expect.poll(() => page.textContent('#vector-count'), { timeout: 20_000 }).toBe('4,000');
    expect(await page.textContent('#trained')).toBe('yes');
  });

  it('ran without a page error or console error', () => {
    expect(pageErrors).toEqual([]);
  });

  it('keeps the index key out of URLs and storage; it travels only in GraphQL variables', async () => {
    expect(requestedUrls.length).toBeGreaterThan(0);
    for (const url of [...requestedUrls, page.url()]) expect(url).not.toContain(encodeURIComponent(indexKey));
    const stored = await page.evaluate(() => JSON.stringify({ session: { ...sessionStorage }, local: { ...localStorage } }));
    expect(stored).not.toContain(indexKey);
    const carrying = sentFrames.filter((frame) => frame.includes(indexKey));
    expect(carrying.length).toBeGreaterThan(0);
    for (const frame of carrying) {
      const message = JSON.parse(frame) as { type: string; payload: { query: string; variables: { key?: string } } };
      expect(message.type).toBe('subscribe');
      expect(message.payload.variables.key).toBe(indexKey);
      expect(message.payload.query).not.toContain(indexKey);
    }
  });
});

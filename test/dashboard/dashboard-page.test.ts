// The dashboard in a real browser (Debian's Chromium driven by playwright-core) against a real
// server: connect with an API key (the form goes away), open an index with its key, watch runs
// started through the API and with the Train button advance to their end, see why each stopped, the
// run history, the queue, live search rate and latency, a 2,000-iteration run drawn within a second
// of its last event with at most one redraw per frame, a server restart, and the index key kept out
// of URLs and storage. Screenshots go to test-artifacts/, or to docs/images/ with
// UPDATE_DOCS_IMAGES=true.
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
import { CancelTrainingDocument, SearchDocument, TrainIndexDocument, TrainingRunByIdDocument, UpsertDocument } from '../generated/graphql.js';

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
const UPDATE_DOCS_IMAGES = process.env.UPDATE_DOCS_IMAGES === 'true';
const SCREENSHOTS = fileURLToPath(new URL(UPDATE_DOCS_IMAGES ? '../../docs/images/' : '../../test-artifacts/', import.meta.url));
const haveChromium = existsSync(CHROMIUM);
const IN_CI = process.env.CI === 'true';

/**
 * expect.poll with room for a loaded machine (its default gives up after 1 s). Only conditions the
 * page reaches by itself are polled; the one timing the issue bounds is measured, not polled.
 */
const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 20_000, interval: 50 });

if (!haveChromium && !IN_CI) {
  console.warn(`[dashboard] skipping the browser test: ${CHROMIUM} is missing (apt-get install -y chromium). With CI=true this fails.`);
}

/** What the page's own instrumentation (installed before the dashboard's scripts) saw. */
interface Watch {
  /** WebSocket messages received since armed, and when (page clock) the run's final status arrived. */
  messages: number;
  finalAt: number | null;
  /** When the final state was on screen: phase, iteration text and the chart's last drawn point. */
  drawnAt: number | null;
  drawnAtEpochMs: number | null;
  /** Animation frames since armed, and chart draws at arming. */
  frames: number;
  drawsAtStart: number;
}

describe.runIf(haveChromium || IN_CI)('dashboard in Chromium', () => {
  const apiKey = 'dashboard-test-api-key';
  const indexKey = newIndexKey();
  const fastKey = newIndexKey();
  /** An OBSERVE grant on demo, made during the run. */
  let observeGrant = '';
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

  async function screenshot(name: string): Promise<void> {
    await mkdir(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });
  }

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`${CHROMIUM} is missing: .ci/run must install Debian's chromium (CI=true makes this a failure)`);
    dataDir = await mkdtemp(join(tmpdir(), 'cipherdex-dashboard-'));
    running = await start(0);
    server = { url: running.url, apiKey, dataDir, workDir: dataDir, close: () => running.close() };
    await seedIndex(server, 'demo', indexKey, clusteredVectors(4000, 16, 12, 61));
    // Small enough that the server runs 2,000 mini-batch iterations in about a second.
    await seedIndex(server, 'fast', fastKey, clusteredVectors(400, 4, 4, 7));
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('websocket', (socket) => socket.on('framesent', (frame) => sentFrames.push(String(frame.payload))));
    page.on('request', (request) => requestedUrls.push(request.url()));
    page.on('pageerror', (error) => pageErrors.push(error.stack ?? error.message));
    page.on('console', (message) => {
      // The refused connection attempts while the server is down are expected there.
      if (message.type() === 'error' && !/WebSocket connection .* failed/.test(message.text())) pageErrors.push(message.text());
    });
    // Timestamps every WebSocket message as the page receives it, before graphql-ws's own handler
    // (listeners added in the constructor run before the onmessage it sets later).
    await page.addInitScript(() => {
      const Native = window.WebSocket;
      const scope = window as unknown as { watch?: { armed: boolean; messages: number; finalAt: number | null; marker: string } };
      window.WebSocket = class extends Native {
        constructor(url: string | URL, protocols?: string | string[]) {
          super(url, protocols);
          this.addEventListener('message', (event: MessageEvent) => {
            const watch = scope.watch;
            if (!watch?.armed) return;
            watch.messages++;
            if (watch.finalAt === null && typeof event.data === 'string' && event.data.includes(watch.marker) && event.data.includes('"phase":"COMPLETED"')) {
              watch.finalAt = performance.now();
            }
          });
        }
      };
    });
  });

  afterAll(async () => {
    await browser?.close();
    await running?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /** Records every value the progress bar, chart and queue take, in the page, as the DOM changes. */
  async function recordProgress(): Promise<void> {
    await page.evaluate(() => {
      const samples: { progress: number; points: number; phase: string; running: number }[] = [];
      (window as unknown as { samples: typeof samples }).samples = samples;
      const read = () =>
        samples.push({
          progress: Number(document.getElementById('progress')!.getAttribute('aria-valuenow')),
          points: Number(document.getElementById('chart')!.dataset.points),
          phase: document.getElementById('phase')!.textContent ?? '',
          running: Number(document.getElementById('queue')!.dataset.running),
        });
      const observer = new MutationObserver(read);
      for (const id of ['index-details', 'queue']) observer.observe(document.getElementById(id)!, { attributes: true, childList: true, subtree: true, characterData: true });
    });
  }

  async function samples(): Promise<{ progress: number; points: number; phase: string; running: number }[]> {
    return page.evaluate(() => (window as unknown as { samples: { progress: number; points: number; phase: string; running: number }[] }).samples);
  }

  /** The run history table's rows: run id and stop reason, newest first. */
  async function historyRows(): Promise<{ runId: string; reason: string; text: string }[]> {
    return page.$$eval('#run-history-rows tr[data-run-id]', (rows) =>
      rows.map((row) => ({ runId: (row as HTMLElement).dataset.runId!, reason: (row as HTMLElement).dataset.reason!, text: row.textContent ?? '' })),
    );
  }

  async function openIndex(name: string, key: string): Promise<void> {
    await page.click(`#indexes button[data-index="${name}"]`);
    await page.fill('#index-key', key);
    await page.click('#open-index');
    await page.waitForSelector('#index-details', { state: 'visible' });
  }

  it('says so when the API key is refused, then connects with the right one: the form goes away, indexes and queue show', async () => {
    await page.goto(running.url.replace(/\/graphql$/, '/dashboard'));
    expect(await page.isHidden('#disconnect')).toBe(true);
    await page.fill('#api-key', 'not-the-key');
    await page.click('#connect');
    await page.waitForSelector('#connection[data-state="refused"]');
    expect(await page.textContent('#connect-error')).toContain('refused this API key');
    expect(await page.isVisible('#connect-form')).toBe(true);
    expect(await page.evaluate(() => sessionStorage.getItem('cipherdex.apiKey'))).toBeNull();

    await page.fill('#api-key', apiKey);
    await page.click('#connect');
    await page.waitForSelector('#connection[data-state="connected"]');
    await page.waitForSelector('#indexes button[data-index="demo"]');
    expect(await page.isHidden('#connect-panel')).toBe(true);
    expect(await page.isVisible('#disconnect')).toBe(true);
    expect(await page.evaluate(() => sessionStorage.getItem('cipherdex.apiKey'))).toBe(apiKey);
    // The queue comes from the trainingQueue subscription: nothing running, automatic training off.
    await poll(() => page.textContent('#queue-settings')).toContain('Automatic training off.');
    expect(await page.textContent('#queue-running')).toBe('none');
    expect(sentFrames.some((frame) => frame.includes('"type":"subscribe"') && frame.includes('trainingQueue'))).toBe(true);
  });

  it('opens an index with its key and shows its facts, live stats and an empty history', async () => {
    await openIndex('demo', indexKey);
    await poll(() => page.textContent('#vector-count')).toBe('4,000');
    expect(await page.textContent('#trained')).toBe('no');
    expect(await page.textContent('#n-lists')).toBe('auto');
    expect(await page.textContent('#dimension')).toBe('16');
    expect(await page.isHidden('#key-form')).toBe(true);
    await poll(() => page.textContent('#run-history-rows')).toContain('No finished runs yet.');
    // indexStats arrives once a second: nothing searched yet.
    await poll(() => page.getAttribute('#stats', 'data-events')).not.toBe('0');
    expect(await page.textContent('#search-p50')).toBe('–');
    expect(await page.textContent('#search-rate')).toBe('0.0');
    // No chart and no legend before any iteration was observed.
    expect(await page.isHidden('#chart')).toBe(true);
    expect(await page.isVisible('#chart-empty')).toBe(true);
  });

  it('follows a run started through the API to COMPLETED: progress, chart, queue, why it stopped, history', async () => {
    await recordProgress();
    const run = success(
      (await graphql(server, TrainIndexDocument, { index: 'demo', key: indexKey, nLists: 24, maxIters: 60, tolerance: 0 })).trainIndex,
      'TrainingRun',
    );
    await page.waitForSelector('#phase[data-phase="COMPLETED"]', { timeout: 60_000 });
    expect(await page.textContent('#run-id')).toContain(run.runId);

    const seen = await samples();
    const progress = seen.map((sample) => sample.progress);
    // The bar moved through intermediate values, never backwards, and ended full.
    expect(progress.some((value) => value > 0 && value < 100)).toBe(true);
    progress.slice(1).forEach((value, i) => expect(value).toBeGreaterThanOrEqual(progress[i]!));
    expect(progress.at(-1)).toBe(100);
    // The chart grew as the events arrived, and holds one point per iteration at the end.
    const points = seen.map((sample) => sample.points);
    expect(new Set(points).size).toBeGreaterThan(2);
    points.slice(1).forEach((value, i) => expect(value).toBeGreaterThanOrEqual(points[i]!));
    expect(await page.textContent('#iteration')).toBe('60 / 60');
    await poll(() => page.getAttribute('#chart', 'data-drawn-iteration')).toBe('60');
    expect(await page.getAttribute('#chart', 'data-points')).toBe('60');
    expect(await page.locator('#chart canvas').count()).toBeGreaterThan(0);
    expect(seen.map((sample) => sample.phase)).toContain('ITERATING');
    // The queue (pushed, not polled) showed the run while it ran, and is empty again.
    expect(seen.some((sample) => sample.running === 1)).toBe(true);
    await poll(() => page.getAttribute('#queue', 'data-running')).toBe('0');

    // Tolerance 0 on mini-batches: it ran out of iterations.
    expect(await page.getAttribute('#stop-reason', 'data-reason')).toBe('maxIters');
    expect(await page.textContent('#stop-reason')).toContain('Reached maxIters (60)');
    await poll(historyRows).toEqual([expect.objectContaining({ runId: run.runId, reason: 'maxIters' })]);

    // Iteration ticks are whole numbers, and the legend names the series without "--" placeholders.
    const ticks = (await page.getAttribute('#chart', 'data-x-ticks'))!.split(' ').map(Number);
    expect(ticks.length).toBeGreaterThan(1);
    for (const tick of ticks) expect(Number.isInteger(tick)).toBe(true);
    const legend = await page.locator('#chart .u-legend').innerText();
    expect(legend).toContain('centroid shift');
    expect(legend).toContain('inertia');
    expect(legend).not.toContain('--');

    await poll(() => page.textContent('#trained')).toBe('yes');
    expect(await page.textContent('#n-lists')).toBe('24');
  });

  it('starts a run with the Train button and its arguments; a run that converges says so', async () => {
    const previous = await page.textContent('#run-id');
    await page.fill('#train-max-iters', '7');
    await page.fill('#train-tolerance', '0');
    await page.click('#train');
    await poll(() => page.textContent('#run-id')).not.toBe(previous);
    await page.waitForSelector('#phase[data-phase="COMPLETED"]', { timeout: 60_000 });
    expect(await page.textContent('#iteration')).toBe('7 / 7');
    expect(await page.getAttribute('#chart', 'data-points')).toBe('7');
    expect(await page.isHidden('#train-error')).toBe(true);

    // Full batches (batchSize >= vectors) with a loose tolerance stop well before maxIters.
    const converging = success(
      (await graphql(server, TrainIndexDocument, { index: 'demo', key: indexKey, nLists: 12, batchSize: 4000, maxIters: 500, tolerance: 0.01 })).trainIndex,
      'TrainingRun',
    );
    await poll(() => page.getAttribute('#stop-reason', 'data-reason')).toBe('converged');
    expect(await page.textContent('#run-id')).toContain(converging.runId);
    expect(await page.textContent('#stop-reason')).toMatch(/^Converged after \d+ of 500 iterations\.$/);
    await poll(async () => (await historyRows()).map((row) => row.reason)).toEqual(['converged', 'maxIters', 'maxIters']);
  });

  it('shows the queue while one run trains and another waits, and why a cancelled run stopped', async () => {
    // 256 lists over mini-batches of 2,000 with tolerance 0 take seconds per thousand iterations, so
    // the run is still going when the waiting run is queued and shown (24 lists once ended in ~1 s).
    const long = success(
      (await graphql(server, TrainIndexDocument, { index: 'demo', key: indexKey, nLists: 256, batchSize: 2000, maxIters: 10_000, tolerance: 0 })).trainIndex,
      'TrainingRun',
    );
    // MAX_CONCURRENT_TRAININGS is 1: the second index waits in the queue.
    const waiting = success((await graphql(server, TrainIndexDocument, { index: 'fast', key: fastKey, nLists: 4, maxIters: 20 })).trainIndex, 'TrainingRun');
    await page.waitForSelector(`#queue-running li[data-run-id="${long.runId}"]`);
    await page.waitForSelector(`#queue-queued li[data-run-id="${waiting.runId}"]`);
    expect(await page.textContent('#queue-queued')).toContain('fast');
    await poll(async () => Number(await page.getAttribute('#chart', 'data-drawn-iteration'))).toBeGreaterThan(5);
    await screenshot('dashboard-training.png');

    success((await graphql(server, CancelTrainingDocument, { index: 'demo', key: indexKey })).cancelTraining, 'TrainingRun');
    await page.waitForSelector('#phase[data-phase="CANCELLED"]', { timeout: 30_000 });
    expect(await page.getAttribute('#stop-reason', 'data-reason')).toBe('cancelled');
    expect(await page.textContent('#stop-reason')).toMatch(/^Cancelled at iteration [\d,]+\.$/);
    await poll(async () => (await historyRows())[0]).toEqual(expect.objectContaining({ runId: long.runId, reason: 'cancelled' }));
    // The waiting run starts once the cancelled one is gone, and leaves the queue when done.
    await page.waitForSelector(`#queue-running li[data-run-id="${waiting.runId}"]`, { state: 'detached', timeout: 30_000 });
    await poll(() => page.getAttribute('#queue', 'data-queued')).toBe('0');
  });

  it('shows live search rate and latency and the vector count from indexStats', async () => {
    // Searches keep running until the page has shown a second of them (stats cover the last second).
    let searching = true;
    const query = Array.from(clusteredVectors(1, 16, 1, 5)[0]!);
    const searches = (async () => {
      let count = 0;
      while (searching || count < 20) {
        const body = await graphql(server, SearchDocument, { index: 'demo', key: indexKey, vector: query, topK: 5 });
        expect(body.search.__typename).toBe('SearchResults');
        count++;
      }
    })();
    const shown = () =>
      page.evaluate(() => ({
        searching: Number(document.getElementById('search-rate')!.textContent!.replace(/,/g, '')) > 0,
        p50: document.getElementById('search-p50')!.textContent,
        p99: document.getElementById('search-p99')!.textContent,
      }));
    try {
      await poll(shown).toEqual({ searching: true, p50: expect.stringMatching(/^\d[\d.,]* ms$/), p99: expect.stringMatching(/^\d[\d.,]* ms$/) });
    } finally {
      searching = false;
      await searches;
    }
    expect(await page.locator('#stats-chart canvas').count()).toBeGreaterThan(0);

    // No polling and no reload: the count follows upserts through the subscription.
    const items = clusteredVectors(100, 16, 4, 9).map((vector, i) => ({ id: `more-${i}`, vector: Array.from(vector) }));
    success((await graphql(server, UpsertDocument, { index: 'demo', key: indexKey, items })).upsert, 'UpsertSuccess');
    await poll(() => page.textContent('#vector-count')).toBe('4,100');
    await screenshot('dashboard.png');
  });

  it('opens an index with an OBSERVE grant: progress, stats and history show, Train is refused, the grant stays in memory', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
      body: JSON.stringify({
        query: `mutation Grant($key: IndexKey!) {
          createIndexGrant(index: "demo", key: $key, permissions: [OBSERVE], label: "dashboard") { __typename ... on IndexGrant { token } ... on Error { code } }
        }`,
        variables: { key: indexKey },
      }),
    });
    const grant = ((await response.json()) as { data: { createIndexGrant: { __typename: string; token: string } } }).data.createIndexGrant;
    expect(grant.__typename).toBe('IndexGrant');
    observeGrant = grant.token;

    await page.click('#close-index');
    await openIndex('demo', observeGrant);
    await poll(() => page.textContent('#vector-count')).toBe('4,100');
    await poll(async () => (await historyRows()).length).toBe(4);
    const events = Number(await page.getAttribute('#stats', 'data-events'));
    await poll(async () => Number(await page.getAttribute('#stats', 'data-events'))).toBeGreaterThan(events);
    expect(await page.isHidden('#index-error')).toBe(true);

    await page.fill('#train-max-iters', '3');
    await page.click('#train');
    await poll(() => page.textContent('#train-error')).toContain('PERMISSION_DENIED');
    const stored = await page.evaluate(() => JSON.stringify({ session: { ...sessionStorage }, local: { ...localStorage } }));
    expect(stored).not.toContain(observeGrant);
    expect(page.url()).not.toContain(observeGrant);
  });

  it('keeps up with a 2,000-iteration run: drawn within 1 s of its last event, at most one redraw per frame, long series thinned', async () => {
    await openIndex('fast', fastKey);
    // Nothing of the index closed before stays on screen (its Train error included).
    expect(await page.isHidden('#train-error')).toBe(true);
    // Settled: the history of the run that waited in the queue has loaded.
    await poll(async () => (await historyRows()).length).toBe(1);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const scriptSeconds = async () =>
      ((await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] }).metrics.find((metric) => metric.name === 'ScriptDuration')!.value;
    const scriptBefore = await scriptSeconds();

    // Armed before the run starts: the first final trainingStatus to arrive is this run's (the only
    // run of 'fast' from now on), and the observer marks when its final state is on screen.
    await page.evaluate(() => {
      const scope = window as unknown as { watch: Watch & { armed: boolean; marker: string } };
      const chart = document.getElementById('chart')!;
      scope.watch = { armed: true, marker: '"trainingStatus"', messages: 0, finalAt: null, drawnAt: null, drawnAtEpochMs: null, frames: 0, drawsAtStart: Number(chart.dataset.draws) };
      const tick = () => {
        scope.watch.frames++;
        if (scope.watch.drawnAt === null) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
      const done = () => {
        if (scope.watch.drawnAt !== null) return;
        if (
          document.getElementById('phase')!.textContent === 'COMPLETED' &&
          document.getElementById('iteration')!.textContent === '2000 / 2000' &&
          chart.dataset.drawnIteration === '2000'
        ) {
          scope.watch.drawnAt = performance.now();
          scope.watch.drawnAtEpochMs = Date.now();
        }
      };
      new MutationObserver(done).observe(document.getElementById('index-details')!, { attributes: true, childList: true, subtree: true, characterData: true });
    });
    const run = success(
      (await graphql(server, TrainIndexDocument, { index: 'fast', key: fastKey, nLists: 4, batchSize: 32, maxIters: 2000, tolerance: 0 })).trainIndex,
      'TrainingRun',
    );

    await page.waitForFunction(() => (window as unknown as { watch: Watch }).watch.drawnAt !== null, null, { timeout: 60_000 });
    const watch = await page.evaluate(() => (window as unknown as { watch: Watch }).watch);
    const scriptAfter = await scriptSeconds();
    const chart = await page.evaluate(() => ({ ...document.getElementById('chart')!.dataset }));
    expect(await page.textContent('#run-id')).toContain(run.runId);
    const lagMs = watch.drawnAt! - watch.finalAt!;
    // The server's own end of the run; server and browser share this host's clock.
    const finished = success((await graphql(server, TrainingRunByIdDocument, { index: 'fast', key: fastKey, runId: run.runId })).trainingRun, 'TrainingRun');
    const endToEndMs = watch.drawnAtEpochMs! - Date.parse(finished.finishedAt as string);
    const draws = Number(chart.draws) - watch.drawsAtStart;
    console.info(
      `[dashboard] 2,000-iteration run: ${watch.messages} WebSocket messages, ${draws} chart draws in ${watch.frames} frames, ` +
        `final event to drawn ${lagMs.toFixed(1)} ms (page clock), server end to drawn ${endToEndMs} ms, page script time ${((scriptAfter - scriptBefore) * 1000).toFixed(0)} ms, ` +
        `${chart.points} points plotted as ${chart.plotted}`,
    );

    expect(watch.finalAt).not.toBeNull();
    // The acceptance bound, measured inside the page from the final event's arrival.
    expect(lagMs).toBeGreaterThanOrEqual(0);
    expect(lagMs).toBeLessThanOrEqual(1000);
    // A page that worked through a backlog of events would read the final one late and draw it at
    // once, which the page clock cannot see; the server's end of the run can (ms-rounded). Drawing
    // per event measured 12.7 s here; this path 20-410 ms on a 2-core machine at load 17, so the
    // guard leaves room for a loaded server and network rather than restating the 1 s bound.
    expect(endToEndMs).toBeGreaterThanOrEqual(-2);
    expect(endToEndMs).toBeLessThanOrEqual(3000);
    // Many more events than draws: the page drew per frame, not per event.
    expect(watch.messages).toBeGreaterThan(draws);
    expect(draws).toBeLessThanOrEqual(watch.frames + 1);
    // Every received iteration is kept; the chart plots a bounded, thinned set ending at the last one.
    expect(Number(chart.points)).toBeGreaterThan(1000);
    expect(Number(chart.plotted)).toBeLessThan(Number(chart.points));
    expect(Number(chart.plotted)).toBeLessThanOrEqual(4 * Math.max(50, 1280 / 3) + 2);
    expect(await page.getAttribute('#stop-reason', 'data-reason')).toBe('maxIters');
    await poll(historyRows).toEqual(expect.arrayContaining([expect.objectContaining({ runId: run.runId, reason: 'maxIters' })]));
    await screenshot('dashboard-fast-run.png');
    await cdp.detach();
  });

  it('shows "reconnecting" and the connect form while the server is down, and recovers by itself when it is back', async () => {
    await openIndex('demo', indexKey);
    const port = running.port;
    await running.close();
    await page.waitForSelector('#connection[data-state="reconnecting"]', { timeout: 20_000 });
    expect(await page.textContent('#connection')).toContain('reconnecting');
    expect(await page.isVisible('#connect-panel')).toBe(true);
    expect(await page.textContent('#connect-state')).toContain('reconnecting with the saved API key');

    running = await start(port);
    await page.waitForSelector('#connection[data-state="connected"]', { timeout: 30_000 });
    expect(await page.isHidden('#connect-panel')).toBe(true);
    // The resumed subscriptions answer with the current state; the facts and history reload.
    await poll(() => page.textContent('#vector-count')).toBe('4,100');
    expect(await page.textContent('#trained')).toBe('yes');
    await poll(async () => (await historyRows()).length).toBe(4);
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

  it('disconnects: the connect form comes back and the API key is forgotten', async () => {
    await page.click('#disconnect');
    await page.waitForSelector('#connection[data-state="idle"]');
    expect(await page.isVisible('#connect-form')).toBe(true);
    expect(await page.isHidden('#disconnect')).toBe(true);
    expect(await page.isHidden('#index-details')).toBe(true);
    expect(await page.evaluate(() => sessionStorage.getItem('cipherdex.apiKey'))).toBeNull();
  });
});

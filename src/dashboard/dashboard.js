// The training dashboard's client: one graphql-ws connection (reconnecting by itself), the index
// list and the training queue (trainingQueue subscription), one opened index with its live
// trainingStatus and indexStats subscriptions, a progress bar, a chart and the run history.
// Events only update the page's model; the DOM and the charts are redrawn at most once per
// animation frame, so a run that reports thousands of iterations a second never backs the page up.
// Plain browser JavaScript so the page needs no build step; graphqlWs, uPlot and CipherdexSeries
// (series-decimation.js) are globals of the scripts loaded before this one.
'use strict';

(() => {
  const API_KEY_STORAGE = 'cipherdex.apiKey';
  const REFRESH_MS = 5000;
  const FINAL_PHASES = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);
  const HISTORY_PAGE = 10;
  /** indexStats events kept for the activity chart: one a second, five minutes. */
  const STATS_KEPT = 300;
  /** Iteration ticks step by whole numbers only (uPlot would otherwise place 1.5, 2.5, ...). */
  const INTEGER_INCRS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000];

  const PROGRESS_FIELDS = `runId index trigger phase iteration maxIters nLists batchSize tolerance shift inertia
    converged progress elapsedMs etaMs vectorCount startedAt finishedAt message`;
  const INDEXES_QUERY = `query DashboardIndexes { indexes }`;
  const QUEUE_SUBSCRIPTION = `subscription DashboardQueue {
    trainingQueue {
      autoTrainEnabled retrainThreshold maxConcurrentTrainings
      running { index runId trigger phase startedAt }
      queued { index runId trigger }
    }
  }`;
  const INDEX_QUERY = `query DashboardIndex($name: String!, $key: IndexKey!) {
    index(name: $name, key: $key) {
      __typename
      ... on Index { name dimension metric nLists vectorCount isTrained isTraining lastTrainingRun { ${PROGRESS_FIELDS} } }
      ... on Error { code message }
    }
  }`;
  const RUNS_QUERY = `query DashboardRuns($index: String!, $key: IndexKey!, $first: Int, $after: String) {
    trainingRuns(index: $index, key: $key, first: $first, after: $after) {
      __typename
      ... on TrainingRunPage { endCursor hasNextPage runs { ${PROGRESS_FIELDS} } }
      ... on Error { code message }
    }
  }`;
  const TRAINING_STATUS_SUBSCRIPTION = `subscription DashboardTrainingStatus($index: String!, $key: IndexKey!) {
    trainingStatus(index: $index, key: $key) {
      __typename
      ... on TrainingStatus { ${PROGRESS_FIELDS} }
      ... on Error { code message }
    }
  }`;
  const STATS_SUBSCRIPTION = `subscription DashboardStats($index: String!, $key: IndexKey!) {
    indexStats(index: $index, key: $key) {
      __typename
      ... on IndexStats { vectorCount upsertsPerSecond searchesPerSecond searchP50Ms searchP99Ms residentBytes at }
      ... on Error { code message }
    }
  }`;
  const TRAIN_MUTATION = `mutation DashboardTrain($index: String!, $key: IndexKey!, $nLists: Int, $batchSize: Int, $maxIters: Int, $tolerance: Float) {
    trainIndex(index: $index, key: $key, nLists: $nLists, batchSize: $batchSize, maxIters: $maxIters, tolerance: $tolerance) {
      __typename
      ... on TrainingRun { runId phase }
      ... on Error { code message }
    }
  }`;

  /** @param {string} id */
  const $ = (id) => {
    const element = document.getElementById(id);
    if (!element) throw new Error(`missing #${id}`);
    return element;
  };

  // ---- formatting ----------------------------------------------------------------------------

  /** @param {number | null | undefined} ms */
  function duration(ms) {
    if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '–';
    if (ms < 1000) return `${Math.round(ms)} ms`;
    const seconds = ms / 1000;
    if (seconds < 60) return `${seconds.toFixed(1)} s`;
    const minutes = Math.floor(seconds / 60);
    return `${minutes}m ${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
  }

  /** @param {number | null | undefined} value */
  function scientific(value) {
    if (value === null || value === undefined || !Number.isFinite(value)) return '–';
    if (value === 0) return '0';
    const magnitude = Math.abs(value);
    return magnitude >= 0.01 && magnitude < 1e6 ? String(Number(value.toPrecision(4))) : value.toExponential(2);
  }

  /** @param {number | null | undefined} value */
  function rate(value) {
    if (value === null || value === undefined || !Number.isFinite(value)) return '–';
    return value < 10 ? value.toFixed(1) : Math.round(value).toLocaleString();
  }

  /** @param {number | null | undefined} ms */
  function latency(ms) {
    if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
    return ms < 10 ? `${ms.toFixed(2)} ms` : `${Math.round(ms).toLocaleString()} ms`;
  }

  /** @param {number | null | undefined} bytes */
  function byteSize(bytes) {
    if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '–';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
  }

  /**
   * Why a finished run stopped, from its phase and `converged` (true when it stopped before maxIters:
   * the shift fell to the tolerance or, mini-batch, the inertia stopped improving).
   * @param {any} status @returns {{ code: string, text: string } | null}
   */
  function stopReason(status) {
    switch (status.phase) {
      case 'COMPLETED':
        return status.converged
          ? { code: 'converged', text: `Converged after ${status.iteration.toLocaleString()} of ${status.maxIters.toLocaleString()} iterations.` }
          : { code: 'maxIters', text: `Reached maxIters (${status.maxIters.toLocaleString()}) before converging.` };
      case 'CANCELLED':
        return { code: 'cancelled', text: `Cancelled${status.iteration > 0 ? ` at iteration ${status.iteration.toLocaleString()}` : ''}.` };
      case 'FAILED':
        return { code: 'failed', text: `Failed${status.message ? `: ${status.message}` : '.'}` };
      default:
        return null;
    }
  }

  // ---- drawing once per frame ------------------------------------------------------------------

  /** Parts of the page whose model changed since the last frame. @type {Set<'run' | 'chart' | 'stats' | 'queue'>} */
  const dirty = new Set();
  let frame = 0;

  /** @param {'run' | 'chart' | 'stats' | 'queue'} part */
  function invalidate(part) {
    dirty.add(part);
    if (!frame) frame = requestAnimationFrame(renderFrame);
  }

  function renderFrame() {
    frame = 0;
    const parts = new Set(dirty);
    dirty.clear();
    if (parts.has('run') && run.status) renderRun(run.status);
    if (parts.has('chart')) drawChart();
    if (parts.has('stats')) renderStats();
    if (parts.has('queue')) renderQueue();
  }

  // ---- connection ------------------------------------------------------------------------------

  /** @type {any} */
  let client = null;
  let everConnected = false;
  let connected = false;
  /** Counts clients made and dropped, so a dropped client's late events are recognised. */
  let generation = 0;

  /**
   * The pill, and the connect form: shown until a connection stands, and again when it is lost or refused.
   * @param {'idle' | 'connecting' | 'connected' | 'reconnecting' | 'refused'} state @param {string} text
   */
  function setConnection(state, text) {
    const pill = $('connection');
    pill.dataset.state = state;
    pill.textContent = text;
    $('connect-panel').hidden = state === 'connected';
    $('disconnect').hidden = state === 'idle' || state === 'refused';
    const note = $('connect-state');
    note.hidden = state !== 'reconnecting';
    note.textContent = state === 'reconnecting' ? 'The connection was lost; reconnecting with the saved API key. Enter another key to switch.' : '';
  }

  /** @param {string} id @param {string | null} message */
  function showError(id, message) {
    const element = $(id);
    element.textContent = message ?? '';
    element.hidden = !message;
  }

  /** A close that graphql-ws servers send when connection_init's API key is refused. */
  const isRefusal = (/** @type {any} */ event) => event && (event.code === 4403 || event.code === 4401);

  /** @param {string} apiKey */
  function connect(apiKey) {
    if (client) client.dispose();
    everConnected = false;
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
    // Events of a client that was disposed since (disconnect, another key) say nothing about now.
    const mine = ++generation;
    const current = () => generation === mine;
    client = graphqlWs.createClient({
      url,
      connectionParams: { apiKey },
      lazy: false,
      keepAlive: 5000,
      // Reconnect forever (server restarts, network blips) unless the key itself was refused.
      retryAttempts: Infinity,
      shouldRetry: (/** @type {any} */ event) => !isRefusal(event),
      retryWait: (/** @type {number} */ retries) =>
        new Promise((resolve) => setTimeout(resolve, Math.min(300 * 2 ** retries, 3000) + Math.random() * 300)),
      onNonLazyError: (/** @type {any} */ error) => {
        if (current() && isRefusal(error)) refused();
      },
      on: {
        connecting: (/** @type {boolean} */ isRetry) => {
          if (current()) setConnection(isRetry || everConnected ? 'reconnecting' : 'connecting', isRetry || everConnected ? 'reconnecting…' : 'connecting…');
        },
        connected: () => {
          if (!current()) return;
          const wasReconnect = everConnected;
          everConnected = true;
          connected = true;
          setConnection('connected', 'connected');
          showError('connect-error', null);
          refreshIndexes();
          // Subscriptions resume by themselves; the index facts and history may have changed meanwhile.
          if (wasReconnect && opened) {
            refreshIndex();
            loadHistory(true);
          }
        },
        closed: (/** @type {any} */ event) => {
          if (!current()) return;
          connected = false;
          if (isRefusal(event)) refused();
          else if (everConnected) setConnection('reconnecting', 'reconnecting…');
        },
      },
    });
    subscribeQueue();
  }

  function refused() {
    setConnection('refused', 'API key refused');
    showError('connect-error', 'The server refused this API key. Enter the right one and connect again.');
    sessionStorage.removeItem(API_KEY_STORAGE);
  }

  function disconnect() {
    generation++;
    sessionStorage.removeItem(API_KEY_STORAGE);
    close();
    if (client) client.dispose();
    client = null;
    connected = false;
    queue = null;
    invalidate('queue');
    setConnection('idle', 'not connected');
  }

  /**
   * One query or mutation over the WebSocket; resolves with `data`, rejects on request errors.
   * @param {string} query @param {Record<string, unknown>} [variables]
   */
  function request(query, variables = {}) {
    return new Promise((resolve, reject) => {
      if (!client) return reject(new Error('not connected'));
      /** @type {any} */
      let result = null;
      client.subscribe(
        { query, variables },
        {
          next: (/** @type {any} */ value) => (result = value),
          error: (/** @type {any} */ error) => reject(toError(error)),
          complete: () => {
            if (result && result.errors && result.errors.length) reject(new Error(result.errors.map((/** @type {any} */ e) => e.message).join('; ')));
            else resolve(result ? result.data : null);
          },
        },
      );
    });
  }

  /**
   * A subscription whose events go to `onData`; GraphQL errors and a failed stream go to `onError`.
   * @param {string} query @param {Record<string, unknown>} variables
   * @param {(data: any) => void} onData @param {(message: string) => void} onError
   * @returns {() => void} unsubscribe
   */
  function subscribe(query, variables, onData, onError) {
    return client.subscribe(
      { query, variables },
      {
        next: (/** @type {any} */ result) => {
          if (result.errors && result.errors.length) onError(result.errors.map((/** @type {any} */ e) => e.message).join('; '));
          else if (result.data) onData(result.data);
        },
        error: (/** @type {any} */ error) => onError(`Live updates stopped: ${toError(error).message}`),
        complete: () => {},
      },
    );
  }

  /** @param {any} error */
  function toError(error) {
    if (error instanceof Error) return error;
    if (Array.isArray(error)) return new Error(error.map((e) => e.message).join('; '));
    if (error && typeof error.code === 'number') return new Error(`connection closed (${error.code}${error.reason ? `: ${error.reason}` : ''})`);
    return new Error('connection error');
  }

  // ---- index list and queue ----------------------------------------------------------------------

  /** @type {string | null} */
  let selected = null;
  /** The latest trainingQueue event. @type {any} */
  let queue = null;

  async function refreshIndexes() {
    try {
      const data = await request(INDEXES_QUERY);
      renderIndexList(data.indexes);
    } catch (error) {
      const list = $('indexes');
      const item = document.createElement('li');
      item.className = 'error';
      item.textContent = `Could not load indexes: ${/** @type {Error} */ (error).message}`;
      list.replaceChildren(item);
    }
  }

  function subscribeQueue() {
    subscribe(
      QUEUE_SUBSCRIPTION,
      {},
      (data) => {
        queue = data.trainingQueue;
        invalidate('queue');
      },
      (message) => {
        $('queue-settings').textContent = `Queue updates stopped: ${message}`;
      },
    );
  }

  /** @param {HTMLElement} list @param {any[]} runs @param {(run: any) => string} describe */
  function renderRunList(list, runs, describe) {
    list.replaceChildren();
    if (runs.length === 0) {
      const empty = document.createElement('li');
      empty.className = 'muted';
      empty.textContent = 'none';
      list.append(empty);
      return;
    }
    for (const run of runs) {
      const item = document.createElement('li');
      item.dataset.index = run.index;
      item.dataset.runId = run.runId;
      const name = document.createElement('strong');
      name.textContent = run.index;
      item.append(name, ` ${describe(run)}`);
      list.append(item);
    }
  }

  function renderQueue() {
    const box = $('queue');
    if (!queue) {
      box.dataset.running = '0';
      box.dataset.queued = '0';
      renderRunList($('queue-running'), [], () => '');
      renderRunList($('queue-queued'), [], () => '');
      $('queue-settings').textContent = '';
      return;
    }
    box.dataset.running = String(queue.running.length);
    box.dataset.queued = String(queue.queued.length);
    renderRunList($('queue-running'), queue.running, (run) =>
      `· ${run.trigger.toLowerCase()}${run.startedAt ? ` · since ${new Date(run.startedAt).toLocaleTimeString()}` : ''}`,
    );
    renderRunList($('queue-queued'), queue.queued, (run) => `· ${run.trigger.toLowerCase()}`);
    $('queue-settings').textContent =
      (queue.autoTrainEnabled ? `Automatic training at ${queue.retrainThreshold.toLocaleString()} vectors.` : 'Automatic training off.') +
      ` Up to ${queue.maxConcurrentTrainings} at once.`;
  }

  /** @param {string[]} names */
  function renderIndexList(names) {
    const list = $('indexes');
    list.replaceChildren();
    if (names.length === 0) {
      const empty = document.createElement('li');
      empty.className = 'muted';
      empty.textContent = 'No indexes yet.';
      list.append(empty);
      return;
    }
    for (const name of names) {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = name;
      button.dataset.index = name;
      button.setAttribute('aria-current', String(name === selected));
      button.addEventListener('click', () => select(name));
      item.append(button);
      list.append(item);
    }
  }

  /** @param {string} name */
  function select(name) {
    if (name === selected && opened) return;
    close();
    selected = name;
    for (const button of document.querySelectorAll('#indexes button')) {
      button.setAttribute('aria-current', String(/** @type {HTMLElement} */ (button).dataset.index === name));
    }
    $('index-name').textContent = name;
    $('index-panel').hidden = false;
    showError('index-error', null);
    /** @type {HTMLInputElement} */ ($('index-key')).value = '';
    $('index-key').focus();
  }

  // ---- one opened index --------------------------------------------------------------------------

  /** The opened index and its key: memory only, never in storage or the URL. @type {{ name: string, key: string } | null} */
  let opened = null;
  /** @type {(() => void)[]} */
  let unsubscribers = [];

  /** Shows the key form (no index open) or the index's details (one open). @param {boolean} isOpen */
  function showOpened(isOpen) {
    $('key-form').hidden = isOpen;
    $('key-hint').hidden = isOpen;
    $('close-index').hidden = !isOpen;
    $('index-details').hidden = !isOpen;
  }

  function close() {
    for (const unsubscribe of unsubscribers) unsubscribe();
    unsubscribers = [];
    opened = null;
    runHistory.cursor = null;
    stats.latest = null;
    stats.series = [[], [], [], []];
    showOpened(false);
    showError('train-error', null);
    resetRun(null);
    invalidate('stats');
  }

  /** @param {string} name @param {string} key */
  async function open(name, key) {
    close();
    opened = { name, key };
    showError('index-error', null);
    const ok = await refreshIndex();
    if (!ok || !opened || opened.name !== name) return;
    showOpened(true);
    // The chart could not be sized while hidden.
    invalidate('chart');
    invalidate('stats');
    const stale = () => !opened || opened.name !== name;
    unsubscribers.push(
      subscribe(
        TRAINING_STATUS_SUBSCRIPTION,
        { index: name, key },
        (data) => {
          if (stale()) return;
          const event = data.trainingStatus;
          if (event.__typename !== 'TrainingStatus') return showError('index-error', `${event.message} (${event.code})`);
          onStatus(event);
        },
        (message) => showError('index-error', message),
      ),
      subscribe(
        STATS_SUBSCRIPTION,
        { index: name, key },
        (data) => {
          if (stale()) return;
          const event = data.indexStats;
          if (event.__typename !== 'IndexStats') return showError('index-error', `${event.message} (${event.code})`);
          onStats(event);
        },
        (message) => showError('index-error', message),
      ),
    );
    loadHistory(true);
  }

  /** Reloads the opened index's facts; false when the key or name was rejected. */
  async function refreshIndex() {
    if (!opened) return false;
    const { name, key } = opened;
    try {
      const data = await request(INDEX_QUERY, { name, key });
      if (!opened || opened.name !== name) return false;
      const index = data.index;
      if (index.__typename !== 'Index') {
        showError('index-error', `${index.message} (${index.code})`);
        close();
        return false;
      }
      $('vector-count').textContent = index.vectorCount.toLocaleString();
      $('n-lists').textContent = index.nLists === null ? 'auto' : String(index.nLists);
      $('trained').textContent = index.isTrained ? (index.isTraining ? 'yes, retraining' : 'yes') : index.isTraining ? 'training…' : 'no';
      $('dimension').textContent = String(index.dimension);
      $('metric').textContent = index.metric;
      // The last run's outcome is shown until live events say more; its per-iteration history
      // was not observed by this page, so the chart stays empty for it.
      if (index.lastTrainingRun && !run.id) {
        resetRun(index.lastTrainingRun.runId);
        run.status = index.lastTrainingRun;
        invalidate('run');
      }
      return true;
    } catch (error) {
      showError('index-error', /** @type {Error} */ (error).message);
      return false;
    }
  }

  // ---- live index stats --------------------------------------------------------------------------

  const stats = {
    /** @type {any} */ latest: null,
    /** Seconds since the epoch, searches/s, p50 ms, p99 ms. @type {[number[], (number | null)[], (number | null)[], (number | null)[]]} */
    series: [[], [], [], []],
  };
  /** @type {any} */
  let statsChart = null;

  /** @param {any} event */
  function onStats(event) {
    stats.latest = event;
    const [at, searches, p50, p99] = stats.series;
    at.push(Date.parse(event.at) / 1000);
    searches.push(event.searchesPerSecond);
    p50.push(event.searchP50Ms);
    p99.push(event.searchP99Ms);
    if (at.length > STATS_KEPT) for (const column of stats.series) column.shift();
    invalidate('stats');
  }

  function renderStats() {
    const latest = stats.latest;
    const box = $('stats');
    box.dataset.events = String(stats.series[0].length);
    $('search-rate').textContent = latest ? rate(latest.searchesPerSecond) : '–';
    $('search-p50').textContent = latest ? latency(latest.searchP50Ms) : '–';
    $('search-p99').textContent = latest ? latency(latest.searchP99Ms) : '–';
    $('upsert-rate').textContent = latest ? rate(latest.upsertsPerSecond) : '–';
    $('resident').textContent = latest ? byteSize(latest.residentBytes) : '–';
    // Live: the vector count follows upserts and deletes within a second.
    if (latest) $('vector-count').textContent = latest.vectorCount.toLocaleString();

    const container = $('stats-chart');
    container.hidden = stats.series[0].length < 2;
    if (container.hidden) return;
    if (!statsChart) {
      if (container.clientWidth === 0) return;
      statsChart = new uPlot(
        {
          width: container.clientWidth,
          height: 140,
          legend: { live: false },
          cursor: { show: false },
          scales: {
            // At least the last minute, so a few seconds of data do not stretch over the whole width.
            x: { time: true, range: (/** @type {any} */ _u, /** @type {number} */ min, /** @type {number} */ max) => [Math.min(min, max - 60), max] },
            rate: { range: (/** @type {any} */ _u, /** @type {number} */ _min, /** @type {number} */ max) => [0, Math.max(1, max * 1.1)] },
            ms: {},
          },
          series: [
            {},
            { label: 'searches/s', scale: 'rate', stroke: '#2563eb', width: 2 },
            { label: 'p50 ms', scale: 'ms', stroke: '#15803d', width: 1.5 },
            { label: 'p99 ms', scale: 'ms', stroke: '#d9480f', width: 1.5 },
          ],
          axes: [
            {},
            { scale: 'rate', label: 'searches/s', size: 60 },
            { scale: 'ms', side: 1, label: 'ms', grid: { show: false }, size: 60 },
          ],
        },
        stats.series,
        container,
      );
      return;
    }
    statsChart.setData(stats.series);
  }

  // ---- the live run ------------------------------------------------------------------------------

  /** The run on screen, its latest status and its per-iteration history (every point received). */
  const run = {
    /** @type {string | null} */ id: null,
    /** @type {any} */ status: null,
    ended: false,
    /** @type {number[]} */ iterations: [],
    /** @type {(number | null)[]} */ shifts: [],
    /** @type {(number | null)[]} */ inertias: [],
  };
  /** @type {any} */
  let chart = null;

  /** @param {string | null} runId */
  function resetRun(runId) {
    run.id = runId;
    run.status = null;
    run.ended = false;
    run.iterations = [];
    run.shifts = [];
    run.inertias = [];
    if (runId === null) clearRun();
    invalidate('chart');
  }

  /** Constant work per event: record it; the next frame draws whatever arrived meanwhile. @param {any} status */
  function onStatus(status) {
    // IDLE means nothing runs now: keep showing the last run rather than blanking the view.
    if (status.phase === 'IDLE' && run.id) return;
    if (status.runId && status.runId !== run.id) resetRun(status.runId);
    // One point per completed iteration; repeated snapshots of the same iteration are skipped.
    const last = run.iterations.length ? run.iterations[run.iterations.length - 1] : 0;
    if (status.iteration > last && (status.shift !== null || status.inertia !== null)) {
      run.iterations.push(status.iteration);
      // The shift axis is logarithmic: a shift of exactly 0 has no place on it.
      run.shifts.push(status.shift !== null && status.shift > 0 ? status.shift : null);
      run.inertias.push(status.inertia);
      invalidate('chart');
    }
    run.status = status;
    invalidate('run');
    if (FINAL_PHASES.has(status.phase) && !run.ended) {
      run.ended = true;
      refreshIndex();
      loadHistory(true, status.runId);
    }
  }

  function clearRun() {
    $('phase').textContent = 'IDLE';
    $('phase').dataset.phase = 'IDLE';
    $('progress-fill').style.width = '0%';
    $('progress').setAttribute('aria-valuenow', '0');
    $('progress-text').textContent = '0%';
    for (const id of ['iteration', 'eta', 'elapsed', 'shift', 'inertia']) $(id).textContent = '–';
    $('run-id').textContent = '';
    $('run-message').textContent = '';
    showStopReason(null);
  }

  /** @param {{ code: string, text: string } | null} reason */
  function showStopReason(reason) {
    const element = $('stop-reason');
    element.hidden = !reason;
    element.dataset.reason = reason ? reason.code : '';
    element.textContent = reason ? reason.text : '';
  }

  /** @param {any} status */
  function renderRun(status) {
    const percent = Math.round(Math.max(0, Math.min(1, status.progress)) * 100);
    const phase = $('phase');
    phase.textContent = status.phase;
    phase.dataset.phase = status.phase;
    $('progress-fill').style.width = `${percent}%`;
    $('progress').setAttribute('aria-valuenow', String(percent));
    $('progress-text').textContent = `${percent}%`;
    $('iteration').textContent = status.maxIters ? `${status.iteration} / ${status.maxIters}` : '–';
    $('eta').textContent = FINAL_PHASES.has(status.phase) ? 'done' : duration(status.etaMs);
    $('elapsed').textContent = duration(status.elapsedMs);
    $('shift').textContent = scientific(status.shift);
    $('inertia').textContent = scientific(status.inertia);
    $('run-id').textContent = status.runId ? `${status.runId}${status.trigger ? ` · ${status.trigger.toLowerCase()}` : ''}` : '';
    showStopReason(stopReason(status));
    // The stop reason already says what a cancellation's message would.
    $('run-message').textContent = status.phase === 'CANCELLED' || status.phase === 'FAILED' ? '' : status.message || '';
  }

  /** Draws the run's shift and inertia, thinned to about one point per 3 pixels (shape kept). */
  function drawChart() {
    const container = $('chart');
    const count = run.iterations.length;
    container.dataset.points = String(count);
    $('chart-empty').hidden = count > 0;
    container.hidden = count === 0;
    if (count === 0) {
      container.dataset.plotted = '0';
      return;
    }
    if (!chart) {
      if (container.clientWidth === 0) return;
      chart = createRunChart(container);
    }
    const data = CipherdexSeries.decimate(run.iterations, [run.shifts, run.inertias], Math.max(50, Math.floor(container.clientWidth / 3)));
    container.dataset.plotted = String(data[0].length);
    chart.setData(data);
  }

  /** @param {HTMLElement} container */
  function createRunChart(container) {
    return new uPlot(
      {
        width: container.clientWidth,
        height: 240,
        // Series names and colours only: no value columns that read "--" until hovered.
        legend: { live: false },
        scales: {
          x: {
            time: false,
            // Whole iterations; a single point still gets a span of one.
            range: (/** @type {any} */ _u, /** @type {number | null} */ min, /** @type {number | null} */ max) =>
              min === null || max === null ? [0, 1] : [Math.floor(min), Math.max(Math.ceil(max), Math.floor(min) + 1)],
          },
          shift: { distr: 3 },
          inertia: {},
        },
        series: [
          { label: 'iteration' },
          { label: 'centroid shift', scale: 'shift', stroke: '#d9480f', width: 2 },
          { label: 'inertia', scale: 'inertia', stroke: '#2563eb', width: 2 },
        ],
        axes: [
          {
            label: 'iteration',
            incrs: INTEGER_INCRS,
            values: (/** @type {any} */ _u, /** @type {number[]} */ ticks) => {
              container.dataset.xTicks = ticks.join(' ');
              return ticks.map((t) => t.toLocaleString());
            },
          },
          // uPlot passes null for ticks it leaves unlabelled (log scales do this between decades).
          { scale: 'shift', label: 'shift (log)', values: (/** @type {any} */ _u, /** @type {(number | null)[]} */ ticks) => ticks.map((t) => (t === null ? '' : t.toExponential(0))), size: 60 },
          { scale: 'inertia', side: 1, label: 'inertia', grid: { show: false }, values: (/** @type {any} */ _u, /** @type {(number | null)[]} */ ticks) => ticks.map((t) => (t === null ? '' : scientific(t))), size: 70 },
        ],
        hooks: {
          // What was last put on screen, for people reading the DOM and for the browser test.
          draw: [
            (/** @type {any} */ u) => {
              const xs = u.data[0];
              container.dataset.draws = String(Number(container.dataset.draws) + 1);
              container.dataset.drawnIteration = String(xs.length ? xs[xs.length - 1] : 0);
            },
          ],
        },
      },
      [[], [], []],
      container,
    );
  }

  window.addEventListener('resize', () => {
    if (chart) chart.setSize({ width: $('chart').clientWidth, height: 240 });
    if (statsChart) statsChart.setSize({ width: $('stats-chart').clientWidth, height: 140 });
    invalidate('chart');
  });

  // ---- run history -------------------------------------------------------------------------------

  const runHistory = {
    /** The endCursor to load older runs from; null when there are none. @type {string | null} */
    cursor: null,
    loading: 0,
  };

  /**
   * Loads the newest page (reset) or the page after the last one shown. A run's history record is
   * written just after its final event, so when `endedRunId` is not there yet the newest page is
   * asked for again a few times, backing off.
   * @param {boolean} reset @param {string | null} [endedRunId] @param {number} [attempt]
   */
  async function loadHistory(reset, endedRunId = null, attempt = 0) {
    if (!opened) return;
    const { name, key } = opened;
    const ticket = ++runHistory.loading;
    try {
      const data = await request(RUNS_QUERY, { index: name, key, first: HISTORY_PAGE, after: reset ? null : runHistory.cursor });
      if (ticket !== runHistory.loading || !opened || opened.name !== name) return;
      const page = data.trainingRuns;
      if (page.__typename !== 'TrainingRunPage') return showError('index-error', `${page.message} (${page.code})`);
      const rows = $('run-history-rows');
      if (reset) rows.replaceChildren();
      for (const past of page.runs) rows.append(historyRow(past));
      if (rows.children.length === 0) {
        const row = document.createElement('tr');
        const cell = document.createElement('td');
        cell.colSpan = 7;
        cell.className = 'muted';
        cell.textContent = 'No finished runs yet.';
        row.append(cell);
        rows.append(row);
      }
      runHistory.cursor = page.hasNextPage ? page.endCursor : null;
      $('more-runs').hidden = runHistory.cursor === null;
      if (endedRunId && attempt < 6 && !page.runs.some((/** @type {any} */ past) => past.runId === endedRunId)) {
        setTimeout(() => {
          if (opened && opened.name === name) loadHistory(true, endedRunId, attempt + 1);
        }, 200 * 2 ** attempt);
      }
    } catch (error) {
      showError('index-error', `Run history: ${/** @type {Error} */ (error).message}`);
    }
  }

  /** @param {any} past */
  function historyRow(past) {
    const reason = stopReason(past);
    const row = document.createElement('tr');
    row.dataset.runId = past.runId;
    row.dataset.reason = reason ? reason.code : '';
    const cells = [
      past.runId.slice(0, 8),
      past.trigger.toLowerCase(),
      reason ? reason.text : past.phase,
      `${past.iteration.toLocaleString()} / ${past.maxIters.toLocaleString()}`,
      String(past.nLists),
      duration(past.elapsedMs),
      past.finishedAt ? new Date(past.finishedAt).toLocaleString() : '–',
    ];
    for (const text of cells) {
      const cell = document.createElement('td');
      cell.textContent = text;
      row.append(cell);
    }
    /** @type {HTMLElement} */ (row.firstChild).title = past.runId;
    return row;
  }

  // ---- forms -------------------------------------------------------------------------------------

  /** @param {string} id */
  function optionalNumber(id) {
    const text = /** @type {HTMLInputElement} */ ($(id)).value.trim();
    return text === '' ? null : Number(text);
  }

  $('connect-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const apiKey = /** @type {HTMLInputElement} */ ($('api-key')).value.trim();
    if (!apiKey) return;
    sessionStorage.setItem(API_KEY_STORAGE, apiKey);
    /** @type {HTMLInputElement} */ ($('api-key')).value = '';
    connect(apiKey);
  });

  $('forget').addEventListener('click', disconnect);
  $('disconnect').addEventListener('click', disconnect);
  $('close-index').addEventListener('click', close);
  $('more-runs').addEventListener('click', () => loadHistory(false));

  $('key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = /** @type {HTMLInputElement} */ ($('index-key'));
    const key = input.value.trim();
    input.value = '';
    if (selected && key) open(selected, key);
  });

  $('train-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!opened) return;
    showError('train-error', null);
    const button = /** @type {HTMLButtonElement} */ ($('train'));
    button.disabled = true;
    try {
      const data = await request(TRAIN_MUTATION, {
        index: opened.name,
        key: opened.key,
        nLists: optionalNumber('train-n-lists'),
        batchSize: optionalNumber('train-batch-size'),
        maxIters: optionalNumber('train-max-iters'),
        tolerance: optionalNumber('train-tolerance'),
      });
      const result = data.trainIndex;
      if (result.__typename !== 'TrainingRun') showError('train-error', `${result.message} (${result.code})`);
    } catch (error) {
      showError('train-error', /** @type {Error} */ (error).message);
    } finally {
      button.disabled = false;
    }
  });

  // The index list changes under other clients and has no subscription; poll it gently, and only
  // while connected so requests do not pile up during an outage. Everything else is pushed.
  setInterval(() => {
    if (connected) refreshIndexes();
  }, REFRESH_MS);

  const stored = sessionStorage.getItem(API_KEY_STORAGE);
  if (stored) connect(stored);
})();

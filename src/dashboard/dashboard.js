// The training dashboard's client: one graphql-ws connection (reconnecting by itself), the index
// list, one opened index with its live trainingStatus subscription, a progress bar and a chart.
// Plain browser JavaScript so the page needs no build step; graphqlWs and uPlot are vendored globals.
'use strict';

(() => {
  const API_KEY_STORAGE = 'cipherdex.apiKey';
  const REFRESH_MS = 5000;
  const FINAL_PHASES = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

  const PROGRESS_FIELDS = `runId index trigger phase iteration maxIters nLists batchSize tolerance shift inertia
    converged progress elapsedMs etaMs vectorCount startedAt finishedAt message`;
  const OVERVIEW_QUERY = `query DashboardOverview {
    indexes
    trainingQueue { autoTrainEnabled retrainThreshold running { index runId phase } queued { index runId } }
  }`;
  const INDEX_QUERY = `query DashboardIndex($name: String!, $key: IndexKey!) {
    index(name: $name, key: $key) {
      __typename
      ... on Index { name dimension metric nLists vectorCount isTrained isTraining lastTrainingRun { ${PROGRESS_FIELDS} } }
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

  // ---- connection ------------------------------------------------------------------------------

  /** @type {any} */
  let client = null;
  let everConnected = false;
  let connected = false;

  /** @param {'idle' | 'connecting' | 'connected' | 'reconnecting' | 'refused'} state @param {string} text */
  function setConnection(state, text) {
    const pill = $('connection');
    pill.dataset.state = state;
    pill.textContent = text;
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
        if (isRefusal(error)) refused();
      },
      on: {
        connecting: (/** @type {boolean} */ isRetry) =>
          setConnection(isRetry || everConnected ? 'reconnecting' : 'connecting', isRetry || everConnected ? 'reconnecting…' : 'connecting…'),
        connected: () => {
          const wasReconnect = everConnected;
          everConnected = true;
          connected = true;
          setConnection('connected', 'connected');
          showError('connect-error', null);
          refreshOverview();
          // Subscriptions resume by themselves; the index facts may have changed while we were away.
          if (wasReconnect && opened) refreshIndex();
        },
        closed: (/** @type {any} */ event) => {
          connected = false;
          if (isRefusal(event)) refused();
          else if (everConnected) setConnection('reconnecting', 'reconnecting…');
        },
      },
    });
  }

  function refused() {
    setConnection('refused', 'API key refused');
    showError('connect-error', 'The server refused this API key. Enter the right one and connect again.');
    sessionStorage.removeItem(API_KEY_STORAGE);
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

  /** @param {any} error */
  function toError(error) {
    if (error instanceof Error) return error;
    if (Array.isArray(error)) return new Error(error.map((e) => e.message).join('; '));
    if (error && typeof error.code === 'number') return new Error(`connection closed (${error.code}${error.reason ? `: ${error.reason}` : ''})`);
    return new Error('connection error');
  }

  // ---- index list --------------------------------------------------------------------------------

  /** @type {string | null} */
  let selected = null;

  async function refreshOverview() {
    try {
      const data = await request(OVERVIEW_QUERY);
      renderIndexList(data.indexes);
      const queue = data.trainingQueue;
      const running = queue.running.map((/** @type {any} */ run) => `${run.index} (${run.phase})`).join(', ') || 'none';
      $('queue').textContent =
        `Running: ${running}. Queued: ${queue.queued.length}. ` +
        (queue.autoTrainEnabled ? `Auto-training at ${queue.retrainThreshold.toLocaleString()} vectors.` : 'Auto-training off.');
    } catch (error) {
      $('queue').textContent = `Could not load indexes: ${/** @type {Error} */ (error).message}`;
    }
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
    if (name === selected) return;
    close();
    selected = name;
    for (const button of document.querySelectorAll('#indexes button')) {
      button.setAttribute('aria-current', String(/** @type {HTMLElement} */ (button).dataset.index === name));
    }
    $('index-name').textContent = name;
    $('index-panel').hidden = false;
    $('index-details').hidden = true;
    showError('index-error', null);
    /** @type {HTMLInputElement} */ ($('index-key')).value = '';
    $('index-key').focus();
  }

  // ---- one opened index --------------------------------------------------------------------------

  /** The opened index and its key: memory only, never in storage or the URL. @type {{ name: string, key: string } | null} */
  let opened = null;
  /** @type {(() => void) | null} */
  let unsubscribe = null;

  function close() {
    if (unsubscribe) unsubscribe();
    unsubscribe = null;
    opened = null;
    resetRun(null);
  }

  /** @param {string} name @param {string} key */
  async function open(name, key) {
    close();
    opened = { name, key };
    showError('index-error', null);
    const ok = await refreshIndex();
    if (!ok || !opened || opened.name !== name) return;
    $('index-details').hidden = false;
    unsubscribe = client.subscribe(
      { query: TRAINING_STATUS_SUBSCRIPTION, variables: { index: name, key } },
      {
        next: (/** @type {any} */ result) => {
          if (result.errors && result.errors.length) return showError('index-error', result.errors.map((/** @type {any} */ e) => e.message).join('; '));
          const event = result.data && result.data.trainingStatus;
          if (!event) return;
          if (event.__typename !== 'TrainingStatus') return showError('index-error', `${event.message} (${event.code})`);
          onStatus(event);
        },
        error: (/** @type {any} */ error) => showError('index-error', `Live updates stopped: ${toError(error).message}`),
        complete: () => {},
      },
    );
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
        renderRun(index.lastTrainingRun);
      }
      return true;
    } catch (error) {
      showError('index-error', /** @type {Error} */ (error).message);
      return false;
    }
  }

  // ---- the live run ------------------------------------------------------------------------------

  /** The run on screen and its per-iteration history, as drawn in the chart. */
  const run = {
    /** @type {string | null} */ id: null,
    /** @type {number[]} */ iterations: [],
    /** @type {(number | null)[]} */ shifts: [],
    /** @type {(number | null)[]} */ inertias: [],
  };
  /** @type {any} */
  let chart = null;

  /** @param {string | null} runId */
  function resetRun(runId) {
    run.id = runId;
    run.iterations = [];
    run.shifts = [];
    run.inertias = [];
    drawChart();
  }

  /** @param {any} status */
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
      drawChart();
    }
    renderRun(status);
    if (FINAL_PHASES.has(status.phase)) {
      refreshIndex();
      refreshOverview();
    }
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
    $('run-message').textContent = status.message || '';
  }

  function drawChart() {
    const container = $('chart');
    container.dataset.points = String(run.iterations.length);
    const data = [run.iterations, run.shifts, run.inertias];
    if (chart) {
      chart.setData(data);
      return;
    }
    if (container.clientWidth === 0) return;
    chart = new uPlot(
      {
        width: container.clientWidth,
        height: 240,
        scales: { x: { time: false }, shift: { distr: 3 }, inertia: {} },
        series: [
          { label: 'iteration' },
          { label: 'centroid shift', scale: 'shift', stroke: '#d9480f', width: 2, points: { show: true, size: 4 } },
          { label: 'inertia', scale: 'inertia', stroke: '#2563eb', width: 2, points: { show: true, size: 4 } },
        ],
        axes: [
          { label: 'iteration' },
          // uPlot passes null for ticks it leaves unlabelled (log scales do this between decades).
          { scale: 'shift', label: 'shift (log)', values: (/** @type {any} */ _u, /** @type {(number | null)[]} */ ticks) => ticks.map((t) => (t === null ? '' : t.toExponential(0))), size: 60 },
          { scale: 'inertia', side: 1, label: 'inertia', grid: { show: false }, values: (/** @type {any} */ _u, /** @type {(number | null)[]} */ ticks) => ticks.map((t) => (t === null ? '' : scientific(t))), size: 70 },
        ],
      },
      data,
      container,
    );
  }

  window.addEventListener('resize', () => {
    if (chart) chart.setSize({ width: $('chart').clientWidth, height: 240 });
  });

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

  $('forget').addEventListener('click', () => {
    sessionStorage.removeItem(API_KEY_STORAGE);
    close();
    if (client) client.dispose();
    client = null;
    connected = false;
    setConnection('idle', 'not connected');
  });

  $('key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = /** @type {HTMLInputElement} */ ($('index-key'));
    const key = input.value.trim();
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

  // Vector counts and the index list change under upserts and other clients; poll them gently,
  // and only while connected so requests do not pile up during an outage.
  setInterval(() => {
    if (!connected) return;
    refreshOverview();
    if (opened) refreshIndex();
  }, REFRESH_MS);

  const stored = sessionStorage.getItem(API_KEY_STORAGE);
  if (stored) connect(stored);
})();

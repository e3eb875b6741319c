// Starts Cipherdex: API keys, the index service (unless one is given), and the HTTP/WebSocket
// server listening on config.host:config.port (port 0 picks a free port, for tests).

import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config.js';
import { CipherdexIndexService, createIndexService } from '../service/index.js';
import type { IndexService } from '../service/index.js';
import { loadApiKeyHashes } from './api-key-store.js';
import { createServer, GRAPHQL_PATH } from './create-server.js';
import { DASHBOARD_PATH } from './plugins/use-dashboard.js';
import { HEALTH_PATH } from './plugins/use-health-check.js';
import { METRICS_PATH } from './plugins/use-metrics.js';
import { createPrometheusMetrics } from './prometheus-metrics.js';
import { createServerLog, type ServerLog } from './server-log.js';

export interface StartServerOptions {
  /** Used as is and left open by close(); created from `config` (and closed by close()) when absent. */
  service?: IndexService;
  /**
   * Where output goes, one line at a time (default: stdout): JSON log lines (server-log.ts) and,
   * on a first start without CIPHERDEX_API_KEY, the plain-text announcement of the generated key.
   */
  log?: (line: string) => void;
}

export interface RunningServer {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql (ws:// on the same path for subscriptions). */
  url: string;
  port: number;
  /** The server's structured log, for whoever runs it (the CLI logs its shutdown there). */
  log: ServerLog;
  close(): Promise<void>;
}

async function packageVersion(): Promise<string> {
  const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return manifest.version ?? '0.0.0';
}

/** A host to put in a URL: wildcard addresses are reached through loopback, IPv6 needs brackets. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startServer(config: Config, options: StartServerOptions = {}): Promise<RunningServer> {
  const write = options.log ?? ((line: string) => console.log(line));
  const log = createServerLog({ level: config.logLevel, write: options.log });
  // Keys first: a damaged key file stops the start before anything is opened. A generated key is
  // announced in plain text, not as a log record: a person has to read and keep it.
  const apiKeys = await loadApiKeyHashes(config, write);
  const version = await packageVersion();
  const metrics = config.metricsEnabled ? createPrometheusMetrics({ indexLabels: config.metricsIndexLabels }) : null;
  const service = options.service ?? (await createIndexService(config, { metrics: metrics?.service }));
  const ownsService = options.service === undefined;

  const server = createServer({
    config,
    service,
    apiKeys,
    server: { version, startedAt: Date.now(), store: config.dbType },
    log,
    metrics,
    redisNames: service instanceof CipherdexIndexService ? service.redisNames : undefined,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.httpServer.once('error', reject);
      server.httpServer.listen(config.port, config.host, () => {
        server.httpServer.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    // Not listening, so closing can only release the WebSocket side; its complaint is moot.
    await server.close().catch(() => undefined);
    if (ownsService) await service.close();
    throw error;
  }

  const port = (server.httpServer.address() as AddressInfo).port;
  const origin = `http://${urlHost(config.host)}:${port}`;
  const url = `${origin}${GRAPHQL_PATH}`;
  const extras = [`dashboard ${origin}${DASHBOARD_PATH}`, ...(config.metricsEnabled ? [`metrics ${origin}${METRICS_PATH}`] : []), `health ${origin}${HEALTH_PATH}`];
  log.info(
    `Cipherdex ${version} listening on ${url} (WebSocket subscriptions on the same path${config.graphiql ? ', GraphiQL in a browser' : ''}); ${extras.join('; ')}`,
  );

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    log,
    close() {
      closing ??= (async () => {
        await server.close();
        if (ownsService) await service.close();
      })();
      return closing;
    },
  };
}

// Probes for load balancers and orchestrators, open without an API key. /health is liveness: 200
// and a small JSON body ({"status":"ok", version, uptimeSeconds}) while the process serves HTTP,
// whatever the store does; /ready is readiness: 200 with a JSON report when the store answers,
// 503 when it does not. yoga's own bodiless probe answers on YOGA_HEALTH_PATH instead (it runs
// before any plugin, so it must not sit on /health).

import { useReadinessCheck, type Plugin } from 'graphql-yoga';
import type { ServerInfo } from '../../graphql/context.js';
import type { IndexService } from '../../service/index.js';

export const HEALTH_PATH = '/health';
export const READY_PATH = '/ready';
/** Where yoga's built-in bodiless liveness probe answers (create-server.ts). */
export const YOGA_HEALTH_PATH = '/health/live';

export function useHealthCheck(service: IndexService, server: ServerInfo): Plugin {
  return {
    onPluginInit({ addPlugin }) {
      addPlugin(liveness(server));
      addPlugin(readiness(service, server));
    },
  };
}

function liveness(server: ServerInfo): Plugin {
  return useReadinessCheck({
    endpoint: HEALTH_PATH,
    check: ({ fetchAPI }) =>
      fetchAPI.Response.json({ status: 'ok', version: server.version, uptimeSeconds: Math.round((Date.now() - server.startedAt) / 1000) }),
  });
}

function readiness(service: IndexService, server: ServerInfo): Plugin {
  return useReadinessCheck({
    endpoint: READY_PATH,
    async check({ fetchAPI }) {
      const report = { version: server.version, uptimeSeconds: (Date.now() - server.startedAt) / 1000, store: server.store };
      const ready = await service.ping();
      return fetchAPI.Response.json({ status: ready ? 'ready' : 'unavailable', ...report }, { status: ready ? 200 : 503 });
    },
  });
}

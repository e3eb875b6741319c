// Probes for load balancers and orchestrators, open without an API key. /health is liveness: 200
// and a small JSON body ({"status":"ok", version, uptimeSeconds}) while the process serves HTTP,
// whatever the store does; /ready is readiness: 200 with a JSON report when the store answers,
// 503 when it does not. yoga's own bodiless probe answers on YOGA_HEALTH_PATH instead (it runs
// before any plugin, so it must not sit on /health).
//
// The probes match the request's path exactly. yoga's useReadinessCheck also tried a URLPattern
// on every request that was not a probe, about a tenth of a millisecond each under load (profiled
// on the sustained load benchmark), twice per request with two probes.

import type { Plugin } from 'graphql-yoga';
import type { ServerInfo } from '../../graphql/context.js';
import type { IndexService } from '../../service/index.js';

export const HEALTH_PATH = '/health';
export const READY_PATH = '/ready';
/** Where yoga's built-in bodiless liveness probe answers (create-server.ts). */
export const YOGA_HEALTH_PATH = '/health/live';

export function useHealthCheck(service: IndexService, server: ServerInfo): Plugin {
  return {
    onRequest({ url, fetchAPI, endResponse }) {
      if (url.pathname === HEALTH_PATH) {
        endResponse(fetchAPI.Response.json({ status: 'ok', version: server.version, uptimeSeconds: Math.round((Date.now() - server.startedAt) / 1000) }));
      } else if (url.pathname === READY_PATH) {
        const report = { version: server.version, uptimeSeconds: (Date.now() - server.startedAt) / 1000, store: server.store };
        // A ping that throws is a store that does not answer, like one that says no.
        return service.ping().catch(() => false).then((ready) => {
          endResponse(fetchAPI.Response.json({ status: ready ? 'ready' : 'unavailable', ...report }, { status: ready ? 200 : 503 }));
        });
      }
    },
  };
}

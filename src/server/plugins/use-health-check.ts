// Probes for load balancers and orchestrators, open without an API key. /health is liveness
// (yoga's built-in: 200 while the process serves HTTP, configured in create-server.ts); /ready is
// readiness: 200 with a JSON report when the store answers, 503 when it does not.

import { useReadinessCheck, type Plugin } from 'graphql-yoga';
import type { ServerInfo } from '../../graphql/context.js';
import type { IndexService } from '../../service/index.js';

export const HEALTH_PATH = '/health';
export const READY_PATH = '/ready';

export function useHealthCheck(service: IndexService, server: ServerInfo): Plugin {
  return useReadinessCheck({
    endpoint: READY_PATH,
    async check({ fetchAPI }) {
      const report = { version: server.version, uptimeSeconds: (Date.now() - server.startedAt) / 1000, store: server.store };
      // Listing index names is the cheapest read that proves the store answers.
      const ready = await service.listIndexes().then(
        () => true,
        () => false,
      );
      return fetchAPI.Response.json({ status: ready ? 'ready' : 'unavailable', ...report }, { status: ready ? 200 : 503 });
    },
  });
}

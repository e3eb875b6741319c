// A request id per HTTP request: the caller's X-Request-Id when it is a sane token (a proxy's
// trace id), else a fresh UUID. It is echoed in the response's X-Request-Id header and carried by
// every log line written while the request is served; at LOG_LEVEL=debug each request also gets
// one line with its method, path, status and duration (never its query string or body).

import { randomUUID } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import { enterRequest } from '../request-context.js';
import type { ServerLog } from '../server-log.js';

export const REQUEST_ID_HEADER = 'x-request-id';
/** Accepted from callers: short, and nothing a log reader could mistake for structure. */
const ACCEPTED_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** The id for a request carrying `presented` (its X-Request-Id, or null). */
export function requestIdFor(presented: string | null): string {
  return presented !== null && ACCEPTED_ID.test(presented) ? presented : randomUUID();
}

export function useRequestId(log: ServerLog): Plugin {
  const started = new WeakMap<Request, { id: string; at: number }>();
  return {
    onRequest({ request, url }) {
      const id = requestIdFor(request.headers.get(REQUEST_ID_HEADER));
      started.set(request, { id, at: performance.now() });
      enterRequest(id);
      // The path only: a GET request's query string carries its variables.
      log.trace({ method: request.method, path: url.pathname }, 'request received');
    },
    onResponse({ request, response }) {
      // A request answered before this plugin saw it (yoga's own /health) still gets an id.
      const begun = started.get(request) ?? { id: requestIdFor(request.headers.get(REQUEST_ID_HEADER)), at: performance.now() };
      response.headers.set(REQUEST_ID_HEADER, begun.id);
      if (log.isLevelEnabled('debug')) {
        const path = new URL(request.url).pathname;
        log.debug({ requestId: begun.id, method: request.method, path, status: response.status, ms: Math.round((performance.now() - begun.at) * 100) / 100 }, 'request served');
      }
    },
  };
}

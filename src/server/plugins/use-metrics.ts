// Prometheus metrics: @graphql-yoga/plugin-prometheus counts and times GraphQL requests per
// operation and root field (over HTTP and graphql-ws alike), on the registry that also holds
// Cipherdex's own metrics (prometheus-metrics.ts), and /metrics serves them all. /metrics asks for
// an API key of the API (x-api-key), or the separate CIPHERDEX_METRICS_TOKEN as a bearer token
// (Prometheus's `authorization` setting), and counts wrong keys toward the same limit. Metrics are
// the whole server's (other tenants' activity, and their index names with METRICS_INDEX_LABELS):
// a key bound to a name prefix is refused with 403, and not counted as a wrong key.

import { usePrometheus } from '@graphql-yoga/plugin-prometheus';
import type { IncomingMessage } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import type { PrometheusMetrics } from '../prometheus-metrics.js';
import { GraphQLError } from 'graphql';
import { type ApiKeyLookup, type ApiKeyVerifier, type FailedAuthLimit, rateLimitedError, unauthenticatedError } from './use-api-key-auth.js';

export const METRICS_PATH = '/metrics';

export interface MetricsAccess {
  /** The API's key check, with the scope of the key (only unbound keys read /metrics). */
  lookupApiKey: ApiKeyLookup;
  /** CIPHERDEX_METRICS_TOKEN's check, when one is set. */
  verifyToken: ApiKeyVerifier | null;
  limit: FailedAuthLimit;
}

/** Root fields only: a series per root field and operation type, never per nested field. */
const ROOT_FIELDS = ['Query.*', 'Mutation.*', 'Subscription.*'];

function bearer(request: Request): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.get('authorization') ?? '');
  return match ? match[1] : null;
}

function tenantKeyError(): GraphQLError {
  return new GraphQLError('This API key is bound to an index-name prefix; /metrics serves the whole server, to an unbound API key or CIPHERDEX_METRICS_TOKEN.', {
    extensions: { code: 'FORBIDDEN', http: { status: 403 } },
  });
}

function refusal(error: GraphQLError, Response: typeof globalThis.Response): Response {
  const http = error.extensions.http as { status: number; headers?: Record<string, string> };
  return Response.json({ errors: [{ message: error.message, extensions: { code: error.extensions.code } }] }, { status: http.status, headers: http.headers });
}

export function useMetrics(metrics: PrometheusMetrics, access: MetricsAccess): Plugin<object, { req: IncomingMessage }> {
  const { registry } = metrics;
  return {
    onPluginInit({ addPlugin }) {
      addPlugin(
        usePrometheus({
          registry,
          endpoint: false,
          resolversWhitelist: ROOT_FIELDS,
          metrics: {
            graphql_envelop_request: true,
            graphql_envelop_request_duration: true,
            graphql_envelop_request_time_summary: false,
            graphql_envelop_phase_parse: true,
            graphql_envelop_phase_validate: true,
            graphql_envelop_phase_context: false,
            graphql_envelop_phase_execute: true,
            graphql_envelop_phase_subscribe: true,
            graphql_envelop_error_result: true,
            graphql_envelop_execute_resolver: true,
            graphql_envelop_deprecated_field: false,
            graphql_envelop_schema_change: false,
            graphql_yoga_http_duration: true,
          },
          // A URL can carry a GET request's variables (index keys): never a label. Error paths
          // carry client-chosen aliases: left out too.
          labels: { url: false, path: false },
        }),
      );
    },
    async onRequest({ request, url, fetchAPI, endResponse, serverContext }) {
      if (url.pathname !== METRICS_PATH) return;
      const presented = bearer(request) ?? request.headers.get('x-api-key');
      const address = access.limit.addressOf(serverContext.req);
      if (presented !== null && presented !== '') {
        const retryAfterMs = access.limit.limiter.retryAfterMs(address);
        if (retryAfterMs > 0) {
          endResponse(refusal(rateLimitedError(retryAfterMs), fetchAPI.Response));
          return;
        }
        // Both checks run, so the time taken says nothing about which one matched.
        const scope = access.lookupApiKey(presented);
        const tokenMatches = access.verifyToken?.(presented) === true;
        if (scope?.prefix === null || tokenMatches) {
          endResponse(new fetchAPI.Response(await registry.metrics(), { headers: { 'content-type': registry.contentType } }));
          return;
        }
        if (scope !== null) {
          endResponse(refusal(tenantKeyError(), fetchAPI.Response));
          return;
        }
        access.limit.limiter.recordFailure(address);
      }
      endResponse(refusal(unauthenticatedError(), fetchAPI.Response));
    },
  };
}

// Prometheus metrics: @graphql-yoga/plugin-prometheus counts and times GraphQL requests per
// operation and root field (over HTTP and graphql-ws alike), on the registry that also holds
// Cipherdex's own metrics (prometheus-metrics.ts), and /metrics serves them all. /metrics asks for
// an API key of the API (x-api-key), or the separate CIPHERDEX_METRICS_TOKEN as a bearer token
// (Prometheus's `authorization` setting), and counts wrong keys toward the same limit. Metrics are
// the whole server's (other tenants' activity, and their index names with METRICS_INDEX_LABELS):
// a key bound to a name prefix is refused with 403, and not counted as a wrong key.

import { createHistogram, usePrometheus } from '@graphql-yoga/plugin-prometheus';
import type { IncomingMessage } from 'node:http';
import { type DocumentNode, Kind } from 'graphql';
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

interface OperationLabelParams {
  document?: DocumentNode;
  operationName?: string;
  operationType?: string;
}

const rootFieldByDocument = new WeakMap<DocumentNode, string>();

/**
 * The operation's root field (`search`, `upsert`, ...), or `multiple`: a series per root field
 * without wrapping every resolver to time it, and without letting a client mint series by
 * combining fields. Memoised per parsed document, which yoga's parser cache reuses.
 */
function rootFieldOf(document: DocumentNode | undefined): string {
  if (document === undefined) return 'unknown';
  let name = rootFieldByDocument.get(document);
  if (name === undefined) {
    const fields = new Set<string>();
    for (const definition of document.definitions) {
      if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
      for (const selection of definition.selectionSet.selections) fields.add(selection.kind === Kind.FIELD ? selection.name.value : 'multiple');
    }
    name = fields.size === 1 ? [...fields][0] : 'multiple';
    rootFieldByDocument.set(document, name);
  }
  return name;
}

/**
 * Labels built directly: the plugin's default label functions copy and filter every label set
 * through Object.entries/fromEntries on each observation, which with per-field resolver timing was
 * most of the metrics' cost per search (`npm run bench -- metrics`).
 */
const operationLabels = (params: OperationLabelParams) => ({
  operationName: params.operationName ?? 'Anonymous',
  operationType: params.operationType ?? 'unknown',
  rootField: rootFieldOf(params.document),
});

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
          // One histogram per operation and root field: its _count counts them, so no separate
          // request counter; parse and validate are cached by yoga, so no phase histograms.
          metrics: {
            graphql_envelop_request: false,
            graphql_envelop_request_duration: createHistogram({
              registry,
              histogram: {
                name: 'graphql_envelop_request_duration',
                help: 'Time spent on a GraphQL operation from parse to execute, per operation and root field',
                labelNames: ['operationName', 'operationType', 'rootField'],
              },
              fillLabelsFn: operationLabels,
              phases: ['execute', 'subscribe'],
            }),
            graphql_envelop_request_time_summary: false,
            graphql_envelop_phase_parse: false,
            graphql_envelop_phase_validate: false,
            graphql_envelop_phase_context: false,
            graphql_envelop_phase_execute: false,
            graphql_envelop_phase_subscribe: false,
            graphql_envelop_error_result: true,
            graphql_envelop_execute_resolver: false,
            graphql_envelop_deprecated_field: false,
            graphql_envelop_schema_change: false,
            graphql_yoga_http_duration: false,
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

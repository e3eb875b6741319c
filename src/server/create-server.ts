// Composes the HTTP server: graphql-yoga on /graphql (queries and mutations over HTTP, GraphiQL
// for browsers, SSE subscriptions) and graphql-ws on the same path and port for WebSocket
// subscriptions, sharing yoga's envelop pipeline (auth, limits, masking) so both transports
// enforce exactly the same rules. Probes and the dashboard live beside it.

import { createServer as createHttpServer, type Server } from 'node:http';
import { format } from 'node:util';
import { type ExecutionArgs, GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga, type YogaLogger } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import type { Config } from '../config.js';
import type { GraphQLContext, ServerInfo } from '../graphql/context.js';
import { schema } from '../graphql/schema/index.js';
import { DEFAULT_CLUSTER, redisNames, type IndexService, type RedisNames } from '../service/index.js';
import { createAuthFailureLimiter } from './auth-failure-limiter.js';
import { createSharedAuthFailureLimiter } from './shared-auth-failure-limiter.js';
import { corsPolicy } from './cors-policy.js';
import { clientAddressResolver } from './client-address.js';
import { maskUnexpectedError } from './mask-unexpected-error.js';
import { apiKeyLookup, apiKeyVerifier, authorizeConnection, type FailedAuthLimit, useApiKeyAuth } from './plugins/use-api-key-auth.js';
import { useApiKeyScope } from './plugins/use-api-key-scope.js';
import { useDashboard } from './plugins/use-dashboard.js';
import { requestIdFor, useRequestId } from './plugins/use-request-id.js';
import { enterRequest } from './request-context.js';
import type { ServerLog } from './server-log.js';
import { useGraphiQLPage } from './plugins/use-graphiql-page.js';
import { useMetrics } from './plugins/use-metrics.js';
import { type AcceptedApiKey, hashApiKey } from './api-key-store.js';
import { createPrometheusMetrics, type PrometheusMetrics } from './prometheus-metrics.js';
import { useDisableIntrospection } from './plugins/use-disable-introspection.js';
import { useHealthCheck, YOGA_HEALTH_PATH } from './plugins/use-health-check.js';
import { useHiddenSuggestions } from './plugins/use-hidden-suggestions.js';
import { queryLimitsFrom, useLimits } from './plugins/use-limits.js';
import { useRequestBodyLimit } from './plugins/use-request-body-limit.js';
import { useInputErrorRedaction } from './plugins/use-input-error-redaction.js';
import { useOpaqueRequestErrors } from './plugins/use-opaque-request-errors.js';
import { usePersistedQueries } from './plugins/use-persisted-queries.js';
import { abortingOnReturn, serviceForOperation } from './subscription-lifetime.js';

export const GRAPHQL_PATH = '/graphql';

export interface CreateServerOptions {
  config: Config;
  service: IndexService;
  /** The accepted API keys, hashed, with the index-name prefix each is bound to (see api-key-store.ts). */
  apiKeys: readonly AcceptedApiKey[];
  server: ServerInfo;
  log: ServerLog;
  /**
   * The registry /metrics serves; the service should report to its `service` side. Created here
   * when absent (and config.metricsEnabled); null serves no /metrics.
   */
  metrics?: PrometheusMetrics | null;
  /** The cluster's Redis names (the service's); from config.cluster (or the default) when absent. */
  redisNames?: RedisNames;
}

export interface CipherdexServer {
  httpServer: Server;
  /** Ends WebSocket and HTTP connections (their subscriptions complete) and stops listening. */
  close(): Promise<void>;
}

const GRAPHIQL_DEFAULT_QUERY = `# Cipherdex: put your API key in the Headers tab as {"x-api-key": "..."}.
# Index keys are 32 random bytes (npx cipherdex keygen). Vectors go in variables.
query {
  health { status version }
  indexes
  trainingQueue { retrainThreshold autoTrainEnabled }
}
`;

/** yoga's own messages go to the server log at their own levels; its debug chatter does not. */
function yogaLogger(log: ServerLog): YogaLogger {
  return {
    debug: () => {},
    info: (...args) => log.info(format(...args)),
    warn: (...args) => log.warn(format(...args)),
    error: (...args) => log.error(format(...args)),
  };
}

interface EnvelopedRoot {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
  /** Aborted when the subscription ends, however it ends (see subscription-lifetime.ts). */
  ended: AbortController;
}

export function createServer(options: CreateServerOptions): CipherdexServer {
  const { config, service, server, log } = options;
  const lookup = apiKeyLookup(options.apiKeys);
  const verify = (presented: unknown): boolean => lookup(presented) !== null;
  const metrics =
    options.metrics !== undefined ? options.metrics : config.metricsEnabled ? createPrometheusMetrics({ indexLabels: config.metricsIndexLabels }) : null;
  metrics?.observe(service);
  const limits = { maxFailures: config.authFailureLimit, windowMs: config.authFailureWindowMs };
  const local = createAuthFailureLimiter(limits);
  // With Redis, replicas share the count (shared-auth-failure-limiter.ts), under the cluster's namespace.
  const shared =
    config.redisUrl === null || config.authFailureLimit === 0
      ? null
      : createSharedAuthFailureLimiter({
          ...limits,
          local,
          redisUrl: config.redisUrl,
          redisTimeouts: config.redisTimeouts,
          keyPrefix: (options.redisNames ?? redisNames(config.cluster ?? DEFAULT_CLUSTER)).authFailurePrefix,
        });
  const limiter = shared ?? local;
  // One limiter for both transports: guesses over HTTP and over WebSockets add up.
  const authLimit: FailedAuthLimit = {
    limiter: metrics?.countingRefusals(limiter) ?? limiter,
    addressOf: clientAddressResolver(config.trustedProxies),
  };
  const metricsAccess = {
    lookupApiKey: lookup,
    verifyToken: config.metricsToken === null ? null : apiKeyVerifier([hashApiKey(config.metricsToken)]),
    limit: authLimit,
  };
  // Over HTTP the request's signal aborts when the client goes away (an SSE stream cut short); a
  // WebSocket operation has no request of its own, so onSubscribe gives it its own signal.
  const context = ({ request }: { request?: Request }): GraphQLContext => ({
    service: request === undefined ? service : serviceForOperation(service, request.signal),
    server,
  });

  const yoga = createYoga({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    healthCheckEndpoint: YOGA_HEALTH_PATH,
    context,
    landingPage: false,
    cors: corsPolicy(config),
    // GraphiQL is served by useGraphiQLPage (compressed, with a CSP, headers never persisted).
    graphiql: false,
    maskedErrors: { maskError: maskUnexpectedError(log) },
    // Capped by useRequestBodyLimit (below), which does not count bodies of declared length.
    maxRequestBodySize: false,
    logging: yogaLogger(log),
    plugins: [
      useRequestId(log),
      metrics === null ? {} : useMetrics(metrics, metricsAccess),
      useOpaqueRequestErrors(),
      useInputErrorRedaction(),
      useApiKeyAuth(verify, authLimit),
      // After auth: what the operation's key reaches (every index, or its tenant's).
      useApiKeyScope(lookup),
      // After auth (which strips a keyless caller's extensions), before parsing and the limits.
      usePersistedQueries(),
      useLimits(queryLimitsFrom(config)),
      // After the request parsers (yoga's come first): it wraps whichever one is selected.
      useRequestBodyLimit(config.limits.maxRequestBytes),
      useHiddenSuggestions(),
      useHealthCheck(service, server),
      useDashboard(),
      config.graphiql ? useGraphiQLPage({ endpoint: GRAPHQL_PATH, title: 'Cipherdex', defaultQuery: GRAPHIQL_DEFAULT_QUERY }) : {},
      config.introspection ? {} : useDisableIntrospection(),
    ],
  });

  const httpServer = createHttpServer(yoga);
  const wsServer = new WebSocketServer({ server: httpServer, path: GRAPHQL_PATH, maxPayload: config.limits.maxRequestBytes });
  const wsHandle = useServer(
    {
      onConnect: authorizeConnection(verify, authLimit),
      connectionInitWaitTimeout: config.connectionInitTimeoutMs,
      execute: (args) => (args.rootValue as EnvelopedRoot).execute(args) as ReturnType<typeof import('graphql').execute>,
      subscribe: async (args) => {
        const root = args.rootValue as EnvelopedRoot;
        const result = (await root.subscribe(args)) as Awaited<ReturnType<typeof import('graphql').subscribe>>;
        return Symbol.asyncIterator in result ? abortingOnReturn(result, root.ended) : result;
      },
      onSubscribe: async (ctx, _id, payload) => {
        // Each WebSocket operation is a request of its own in the log.
        enterRequest(requestIdFor(null));
        const enveloped = yoga.getEnveloped({ ...ctx, req: ctx.extra.request, socket: ctx.extra.socket, params: payload });
        const ended = new AbortController();
        try {
          // The enveloped parse and validate apply the token, depth, alias, cost and directive
          // limits; graphql-armor throws its rejections, and they answer this operation only.
          const document = enveloped.parse(payload.query);
          const errors = enveloped.validate(enveloped.schema, document);
          if (errors.length > 0) return errors;
          // The context's service is already the key's view (useApiKeyScope read connection_init).
          const built = (await enveloped.contextFactory()) as GraphQLContext;
          return {
            schema: enveloped.schema,
            operationName: payload.operationName,
            document,
            variableValues: payload.variables,
            contextValue: { ...built, service: serviceForOperation(built.service, ended.signal) },
            rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe, ended } satisfies EnvelopedRoot,
          };
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
      },
    },
    wsServer,
  );

  return {
    httpServer,
    async close() {
      await wsHandle.dispose();
      await new Promise<void>((resolve, reject) => {
        httpServer.close((error) => (error ? reject(error) : resolve()));
        // Open SSE streams and idle keep-alive sockets would hold close() forever.
        httpServer.closeAllConnections();
      });
      await shared?.close();
    },
  };
}

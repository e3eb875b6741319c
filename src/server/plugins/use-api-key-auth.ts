// API-key authentication for HTTP (the x-api-key header) and graphql-ws (connection_init
// { apiKey }). Keys are compared as SHA-256 hashes in constant time. A missing or wrong key is a
// request error (HTTP 401, code UNAUTHENTICATED; close code 4403 on a WebSocket), not a union
// member. Only a query that selects nothing but `health` is open; /health, /ready, GraphiQL's
// page and /dashboard are not GraphQL requests and need no key.
// Wrong keys are counted per client address (auth-failure-limiter.ts): past AUTH_FAILURE_LIMIT in
// a window, the address is refused before its key is compared (HTTP 429 with Retry-After, code
// RATE_LIMITED; close code 4429), so a refusal never tells a right key from a wrong one. Check,
// compare and count happen without yielding, so concurrent guesses are all counted.
// The header is checked when the request arrives (onRequest), before its body is read: a request
// with a body and no valid key is refused at once unless it declares a body small enough to be a
// health query (OPEN_BODY_MAX_BYTES), so an unauthenticated caller costs microseconds, not a
// 50 MB read and parse.

import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type DocumentNode, GraphQLError, Kind, OperationTypeNode, parse } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { type AcceptedApiKey, hashApiKey } from '../api-key-store.js';
import type { AuthFailureLimiter } from '../auth-failure-limiter.js';
import type { ClientAddressOf } from '../client-address.js';

export type ApiKeyVerifier = (presented: unknown) => boolean;

/** What a valid API key reaches: every index (prefix null), or the indexes whose names start with prefix. */
export interface ApiKeyScope {
  readonly prefix: string | null;
}

/** The scope of the accepted key `presented` is, or null when it is none of them. */
export type ApiKeyLookup = (presented: unknown) => ApiKeyScope | null;

/** Looks `presented` up among `accepted` by its SHA-256. Every hash is compared, so timing says nothing. */
export function apiKeyLookup(accepted: readonly AcceptedApiKey[]): ApiKeyLookup {
  const scopes = accepted.map(({ prefix }): ApiKeyScope => ({ prefix }));
  return (presented) => {
    if (typeof presented !== 'string' || presented.length === 0) return null;
    const digest = hashApiKey(presented);
    let found: ApiKeyScope | null = null;
    for (let index = 0; index < accepted.length; index += 1) {
      if (timingSafeEqual(digest, accepted[index]!.hash)) found = scopes[index]!;
    }
    return found;
  };
}

/** True when `presented` hashes to one of `hashes` (compared as apiKeyLookup does). */
export function apiKeyVerifier(hashes: readonly Buffer[]): ApiKeyVerifier {
  const lookup = apiKeyLookup(hashes.map((hash) => ({ hash, prefix: null })));
  return (presented) => lookup(presented) !== null;
}

const OPEN_FIELDS = new Set(['health', '__typename']);
/** An open query is tiny; anything longer is not one, and is not worth lexing further. */
const OPEN_QUERY_MAX_TOKENS = 100;

/** A query whose every root selection is an open field (no fragments: they could hide others). */
function isOpenQuery(query: unknown): boolean {
  if (typeof query !== 'string') return false;
  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens: OPEN_QUERY_MAX_TOKENS });
  } catch {
    return false;
  }
  return document.definitions.every(
    (definition) =>
      definition.kind === Kind.OPERATION_DEFINITION &&
      definition.operation === OperationTypeNode.QUERY &&
      definition.selectionSet.selections.every((selection) => selection.kind === Kind.FIELD && OPEN_FIELDS.has(selection.name.value)),
  );
}

export function unauthenticatedError(): GraphQLError {
  return new GraphQLError('A valid API key is required: send it as the x-api-key header (or apiKey in connection_init).', {
    extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
  });
}

/** Retry-After is in whole seconds; rounding up never invites a retry that is still refused. */
function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000));
}

export function rateLimitedError(retryAfterMs: number): GraphQLError {
  const seconds = retryAfterSeconds(retryAfterMs);
  return new GraphQLError(`Too many failed authentication attempts from this address; retry in ${seconds} s.`, {
    extensions: { code: 'RATE_LIMITED', retryAfterSeconds: seconds, http: { status: 429, headers: { 'retry-after': String(seconds) } } },
  });
}

/** The failed-authentication limit and how to tell which client a request comes from. */
export interface FailedAuthLimit {
  limiter: AuthFailureLimiter;
  addressOf: ClientAddressOf;
}

/** A key counts as presented (and a wrong one as a failure) when it is anything but absent or empty. */
function isPresented(key: unknown): boolean {
  return key !== undefined && key !== null && key !== '';
}

/** The most a caller without a key may send: a health query and its JSON envelope fit many times over. */
export const OPEN_BODY_MAX_BYTES = 4096;

const BODILESS_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A body that could hold a health query: declared (no chunked stream) and small. */
function mayBeOpenQuery(request: Request): boolean {
  const declared = request.headers.get('content-length');
  return declared !== null && /^\d+$/.test(declared) && Number(declared) <= OPEN_BODY_MAX_BYTES;
}

function refusal(error: GraphQLError, fetchAPI: { Response: typeof Response }): Response {
  const http = error.extensions.http as { status: number; headers?: Record<string, string> };
  return new fetchAPI.Response(JSON.stringify({ errors: [error.toJSON()] }), {
    status: http.status,
    // close: the unread body is not drained for a next request on this connection.
    headers: { 'content-type': 'application/json; charset=utf-8', connection: 'close', ...http.headers },
  });
}

/**
 * HTTP: checks the x-api-key header as soon as the request's GraphQL parameters are read, before
 * parsing, validation and their caches: a caller without a key learns nothing about the schema,
 * and its failures never land in a cache that keyed callers share. Only then, for a caller
 * without a valid key, the query is parsed (at most 100 tokens) to see whether it asks for health
 * alone; such a query uses no key, so it is answered and not counted. A keyless request's
 * extensions (persisted-query hashes) are dropped. WebSocket operations are
 * checked once per connection, by authorizeConnection.
 */
export function useApiKeyAuth(verify: ApiKeyVerifier, limit: FailedAuthLimit): Plugin<object, { req: IncomingMessage }> {
  return {
    onRequest({ request, serverContext, fetchAPI, endResponse }) {
      // No body, or small enough to be a health query: onParams reads it and decides (and counts).
      if (BODILESS_METHODS.has(request.method) || mayBeOpenQuery(request)) return;
      const presented = request.headers.get('x-api-key');
      const address = limit.addressOf(serverContext.req);
      const retryAfterMs = isPresented(presented) ? limit.limiter.retryAfterMs(address) : 0;
      if (retryAfterMs === 0 && verify(presented ?? undefined)) return;
      if (retryAfterMs > 0) {
        endResponse(refusal(rateLimitedError(retryAfterMs), fetchAPI));
        return;
      }
      if (isPresented(presented)) limit.limiter.recordFailure(address);
      endResponse(refusal(unauthenticatedError(), fetchAPI));
    },
    onParams({ params, request, setParams, setResult, context }) {
      const presented = request.headers.get('x-api-key');
      const address = limit.addressOf(context.req);
      const retryAfterMs = isPresented(presented) ? limit.limiter.retryAfterMs(address) : 0;
      if (retryAfterMs === 0 && verify(presented ?? undefined)) return;
      // Later onParams hooks still run after a refusal: without its extensions, a keyless
      // request can neither register a persisted query nor learn whether a hash is known; a
      // hash sent alone keeps an empty query so yoga's parameter check lets the 401 through.
      const { extensions: _dropped, ...withoutExtensions } = params;
      setParams({ ...withoutExtensions, query: params.query ?? '' });
      if (isOpenQuery(params.query)) return;
      if (retryAfterMs > 0) {
        setResult({ errors: [rateLimitedError(retryAfterMs)] });
        return;
      }
      if (isPresented(presented)) limit.limiter.recordFailure(address);
      setResult({ errors: [unauthenticatedError()] });
    },
  };
}

/** graphql-ws close code for an address over the limit (graphql-ws clients treat it as final). */
export const RATE_LIMITED_CLOSE_CODE = 4429;

interface ConnectionContext {
  connectionParams?: Readonly<Record<string, unknown>>;
  extra: { request: IncomingMessage; socket: { close(code: number, reason: string): void } };
}

/**
 * graphql-ws onConnect: false closes the socket with 4403 Forbidden. An address over the limit is
 * closed here with 4429 first; graphql-ws's own 4403 then meets a closing socket, which ws ignores.
 */
export function authorizeConnection(verify: ApiKeyVerifier, limit: FailedAuthLimit) {
  return (ctx: ConnectionContext): boolean => {
    const presented = ctx.connectionParams?.apiKey;
    const address = limit.addressOf(ctx.extra.request);
    const retryAfterMs = isPresented(presented) ? limit.limiter.retryAfterMs(address) : 0;
    if (retryAfterMs > 0) {
      ctx.extra.socket.close(RATE_LIMITED_CLOSE_CODE, `Too many failed authentication attempts; retry in ${retryAfterSeconds(retryAfterMs)} s`);
      return false;
    }
    if (verify(presented)) return true;
    if (isPresented(presented)) limit.limiter.recordFailure(address);
    return false;
  };
}

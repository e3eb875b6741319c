// API-key authentication for HTTP (the x-api-key header) and graphql-ws (connection_init
// { apiKey }). Keys are compared as SHA-256 hashes in constant time. A missing or wrong key is a
// request error (HTTP 401, code UNAUTHENTICATED; close code 4403 on a WebSocket), not a union
// member. Only a query that selects nothing but `health` is open; /health, /ready, GraphiQL's
// page and /dashboard are not GraphQL requests and need no key.

import { timingSafeEqual } from 'node:crypto';
import { type DocumentNode, GraphQLError, Kind, OperationTypeNode, parse } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { hashApiKey } from '../api-key-store.js';

export type ApiKeyVerifier = (presented: unknown) => boolean;

/** True when `presented` hashes to one of `hashes`. Every hash is compared, so timing says nothing. */
export function apiKeyVerifier(hashes: readonly Buffer[]): ApiKeyVerifier {
  return (presented) => {
    if (typeof presented !== 'string' || presented.length === 0) return false;
    const digest = hashApiKey(presented);
    let match = false;
    for (const hash of hashes) match = timingSafeEqual(digest, hash) || match;
    return match;
  };
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

/**
 * HTTP: checks the x-api-key header as soon as the request's GraphQL parameters are read, before
 * parsing, validation and their caches: a caller without a key learns nothing about the schema,
 * and its failures never land in a cache that keyed callers share. Only then, for a caller
 * without a valid key, the query is parsed (at most 100 tokens) to see whether it asks for health
 * alone. WebSocket operations are checked once per connection, by authorizeConnection.
 */
export function useApiKeyAuth(verify: ApiKeyVerifier): Plugin {
  return {
    onParams({ params, request, setResult }) {
      if (verify(request.headers.get('x-api-key') ?? undefined)) return;
      if (isOpenQuery(params.query)) return;
      setResult({ errors: [unauthenticatedError()] });
    },
  };
}

/** graphql-ws onConnect: false closes the socket with 4403 Forbidden. */
export function authorizeConnection(verify: ApiKeyVerifier) {
  return (ctx: { connectionParams?: Readonly<Record<string, unknown>> }): boolean => verify(ctx.connectionParams?.apiKey);
}

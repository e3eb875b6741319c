// API-key authentication for HTTP (the x-api-key header) and graphql-ws (connection_init
// { apiKey }). Keys are compared as SHA-256 hashes in constant time. A missing or wrong key is a
// request error (HTTP 401, code UNAUTHENTICATED), not a union member. Only an operation that
// selects nothing but `health` is open; /health, /ready, GraphiQL's page and /dashboard never
// reach GraphQL parsing and need no key.

import { timingSafeEqual } from 'node:crypto';
import { type DocumentNode, GraphQLError, Kind, OperationTypeNode } from 'graphql';
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

/** Queries whose every root selection is an open field (no fragments: they could hide others). */
function isOpenDocument(document: DocumentNode): boolean {
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

interface AuthContext {
  request?: Request;
  /** graphql-ws connection_init payload, present on WebSocket operations. */
  connectionParams?: Readonly<Record<string, unknown>>;
}

function presentedKey(context: AuthContext): unknown {
  if (context.connectionParams) return context.connectionParams.apiKey;
  return context.request?.headers.get('x-api-key') ?? undefined;
}

/**
 * Checks the key right after parsing, before validation: a caller without a key learns nothing
 * about the schema from validation messages, and the parse itself is bounded by the token limit.
 */
export function useApiKeyAuth(verify: ApiKeyVerifier): Plugin<AuthContext> {
  return {
    onParse({ context }) {
      return ({ result, replaceParseResult }) => {
        if (result instanceof Error || result === null || isOpenDocument(result)) return;
        if (!verify(presentedKey(context))) replaceParseResult(unauthenticatedError());
      };
    },
  };
}

/** graphql-ws onConnect: false closes the socket with 4403 Forbidden. */
export function authorizeConnection(verify: ApiKeyVerifier) {
  return (ctx: { connectionParams?: Readonly<Record<string, unknown>> }): boolean => verify(ctx.connectionParams?.apiKey);
}

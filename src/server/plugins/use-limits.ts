// Static limits on every GraphQL document, HTTP or WebSocket, enforced by graphql-armor before
// execution: depth, aliases, tokens, cost and directives, plus field-suggestion blocking so a
// rejected query does not leak the schema. The request-body cap is use-request-body-limit.ts
// (and the WebSocket maxPayload), set from config.limits.maxRequestBytes in create-server.ts.

import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { GraphQLError, ValidationContext } from 'graphql';
import { type Config, loadConfig } from '../../config.js';

export interface QueryLimits {
  /** Deepest path of fields (introspection exempt; fragments add no depth). */
  maxDepth: number;
  maxAliases: number;
  /** Lexical tokens in the query text: vectors belong in variables or the base64 Vector form. */
  maxTokens: number;
  /** graphql-armor's static cost (objects 2, scalars 1, times 1.5 per level of depth). */
  maxCost: number;
  maxDirectives: number;
}

/**
 * Room for every operation in schema/operations (the deepest is 4 fields, the longest about 450
 * tokens) and for GraphiQL, and little more.
 */
export const DEFAULT_QUERY_LIMITS: QueryLimits = queryLimitsFrom(loadConfig({}));

/** The query limits in force, from config (MAX_QUERY_DEPTH, MAX_ALIASES, MAX_QUERY_TOKENS, MAX_QUERY_COST, MAX_DIRECTIVES). */
export function queryLimitsFrom(config: Pick<Config, 'limits'>): QueryLimits {
  const { maxDepth, maxAliases, maxTokens, maxCost, maxDirectives } = config.limits;
  return { maxDepth, maxAliases, maxTokens, maxCost, maxDirectives };
}

/**
 * Rejections of the validation-time rules become ordinary validation errors (HTTP 400, listed
 * next to any others) instead of exceptions thrown out of validate(), which yoga would answer
 * with 200 and graphql-ws with a closed socket. The token limit acts in the parser and throws a
 * syntax error, which both transports already answer properly.
 */
const asValidationError = {
  propagateOnRejection: false,
  onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)],
};

/**
 * Depth and cost are measured over fields: a fragment (named or inline) selects fields of the type
 * it sits in, so it adds no level. graphql-armor counts each fragment as a level by default (a
 * named spread as two), which made the same selection pass or fail by how the client wrote it:
 * sharing the training fields through a fragment on TrainingProgress once pushed
 * createIndex { ... on Index { ...IndexFields } } past the depth limit.
 */
const fieldsOnly = { flattenFragments: true };

export function useLimits(limits: QueryLimits): ReturnType<typeof EnvelopArmorPlugin> {
  return EnvelopArmorPlugin({
    maxDepth: { n: limits.maxDepth, ...fieldsOnly, ...asValidationError },
    maxAliases: { n: limits.maxAliases, ...asValidationError },
    costLimit: { maxCost: limits.maxCost, ...fieldsOnly, ...asValidationError },
    maxDirectives: { n: limits.maxDirectives, ...asValidationError },
    maxTokens: { n: limits.maxTokens },
    blockFieldSuggestion: { enabled: true },
  });
}

// Masking for errors nobody planned for: the client gets yoga's generic "Unexpected error." and
// the log gets the error's class and message (never variables: they hold keys and contents).
// Typed domain errors never come here: the errors plugin turns them into union members first.
// The one exception is a store fault (disk full, read-only, database unreachable): not the
// caller's doing, so no union member, yet it must be told plainly: it answers with its own
// message, code STORE_UNAVAILABLE and HTTP 503, so clients and load balancers know to retry.
// Likewise the memory budget refusing to open an index for a field whose union does not list
// InsufficientResourcesError (code INSUFFICIENT_RESOURCES, HTTP 503), and a replica that did not
// answer a forwarded cancel (REPLICA_UNAVAILABLE, HTTP 503).

import { GraphQLError } from 'graphql';
import { maskError, type YogaServerOptions } from 'graphql-yoga';
import { InsufficientResourcesError, ReplicaUnavailableError, StoreUnavailableError } from '../service/index.js';
import type { ServerLog } from './server-log.js';

type MaskError = NonNullable<Exclude<YogaServerOptions<object, object>['maskedErrors'], boolean | undefined>['maskError']>;

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : typeof error;
}

export function maskUnexpectedError(log: Pick<ServerLog, 'warn' | 'error'>): MaskError {
  return (error, message, isDev) => {
    const original = (error as { originalError?: unknown }).originalError ?? error;
    if (original instanceof StoreUnavailableError) {
      log.warn(`Store unavailable (${original.fault}): ${original.cause === undefined ? original.message : describe(original.cause)}`);
      return new GraphQLError(original.message, {
        nodes: (error as Partial<GraphQLError>).nodes,
        path: (error as Partial<GraphQLError>).path,
        extensions: { code: original.code, fault: original.fault, http: { status: 503 } },
      });
    }
    if (original instanceof ReplicaUnavailableError) log.warn(original.message);
    if (original instanceof InsufficientResourcesError || original instanceof ReplicaUnavailableError) {
      // The memory budget refused an open on a field whose union does not list it, or a forwarded
      // cancel went unanswered: told plainly, retryable.
      return new GraphQLError(original.message, {
        nodes: (error as Partial<GraphQLError>).nodes,
        path: (error as Partial<GraphQLError>).path,
        extensions: { code: original.code, http: { status: 503 } },
      });
    }
    const masked = maskError(error, message, isDev);
    // yoga passes GraphQL errors (validation, auth, bad input) through unchanged: those are answers.
    if (masked !== error) log.error(`Unexpected error, masked in the response: ${describe(original)}`);
    return masked;
  };
}

// Nothing a client sent comes back in an error. yoga answers a body it cannot parse with the
// parser's own message under extensions.originalError, and JSON.parse's message quotes the body
// (the index key and contents in it), with or without an API key and in production too. This
// plugin drops originalError from every answered error: the message and code already say what
// was wrong, and the log is where details belong.

import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

function withoutOriginalError(error: unknown): unknown {
  if (!(error instanceof GraphQLError) || error.extensions?.originalError === undefined) return error;
  const { originalError: _dropped, ...extensions } = error.extensions;
  // yoga keeps a request error's 400 on application/json only while originalError is there (and
  // answers 200 otherwise); without `spec` the status is always the one the error asks for.
  const http = extensions.http as { spec?: boolean } | undefined;
  if (http !== undefined) extensions.http = { ...http, spec: false };
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, extensions });
}

function cleaned<T>(result: T): T {
  if (Array.isArray(result)) return result.map(cleaned) as T;
  if (result === null || typeof result !== 'object' || !('errors' in result) || !Array.isArray(result.errors)) return result;
  return { ...result, errors: result.errors.map(withoutOriginalError) };
}

export function useOpaqueRequestErrors(): Plugin {
  return {
    onResultProcess({ result, setResult }) {
      // Streams (SSE) carry execution results, never request-parse errors.
      if (Symbol.asyncIterator in Object(result)) return;
      setResult(cleaned(result));
    },
  };
}

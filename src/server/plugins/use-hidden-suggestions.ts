// No "Did you mean ...?" in any answer: suggestions spell out schema names to a caller who may not
// introspect. graphql-armor's blockFieldSuggestion masks only the 'Did you mean "x"?' form of
// validation errors, so enum values ('Did you mean the enum value "CONTENTS"?') and errors raised
// during execution still suggested; this plugin masks every form, at validation and execution.

import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export const SUGGESTION_MASK = '[Suggestion hidden]';
const SUGGESTION = /Did you mean [^?]*\?/g;

function masked<E>(error: E): E {
  if (!(error instanceof GraphQLError) || !error.message.includes('Did you mean')) return error;
  return new GraphQLError(error.message.replace(SUGGESTION, SUGGESTION_MASK), {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: error.extensions,
  }) as E;
}

function maskResult<R extends { errors?: readonly unknown[] }>(result: R, setResult: (result: R) => void): void {
  if (result.errors !== undefined && result.errors.length > 0) setResult({ ...result, errors: result.errors.map(masked) });
}

export function useHiddenSuggestions(): Plugin {
  return {
    onValidate() {
      return ({ result, setResult }) => {
        if (result.length > 0) setResult(result.map(masked));
      };
    },
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if (!(Symbol.asyncIterator in result)) maskResult(result, setResult);
        },
      };
    },
    onSubscribe() {
      return {
        onSubscribeResult({ result, setResult }) {
          if (!(Symbol.asyncIterator in result)) maskResult(result, setResult);
        },
      };
    },
  };
}

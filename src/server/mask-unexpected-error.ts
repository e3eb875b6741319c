// Masking for errors nobody planned for: the client gets yoga's generic "Unexpected error." and
// the log gets the error's class and message (never variables: they hold keys and contents).
// Typed domain errors never come here: the errors plugin turns them into union members first.

import { maskError, type YogaServerOptions } from 'graphql-yoga';

type MaskError = NonNullable<Exclude<YogaServerOptions<object, object>['maskedErrors'], boolean | undefined>['maskError']>;

export function maskUnexpectedError(log: (line: string) => void): MaskError {
  return (error, message, isDev) => {
    const masked = maskError(error, message, isDev);
    // yoga passes GraphQL errors (validation, auth, bad input) through unchanged: those are answers.
    if (masked !== error) {
      const original = (error as { originalError?: unknown }).originalError ?? error;
      const described = original instanceof Error ? `${original.name}: ${original.message}` : typeof original;
      log(`Unexpected error, masked in the response: ${described}`);
    }
    return masked;
  };
}

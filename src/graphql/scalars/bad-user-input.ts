// The one way scalars reject client input: a GraphQLError with code BAD_USER_INPUT, which
// graphql-js carries into the request error whether the value came as a literal or a variable.
// Its message says what is wrong and never quotes the value (the server's input-error redaction
// trusts exactly these messages); `at` points inside the value, e.g. "[7]" for a vector element.

import { GraphQLError, type ASTNode } from 'graphql';

export const BAD_USER_INPUT = 'BAD_USER_INPUT';

export class BadUserInputError extends GraphQLError {
  constructor(
    message: string,
    node?: ASTNode,
    /** Where inside the value the problem is, appended to the variable's path ("[7]"). */
    readonly at = '',
  ) {
    super(message, { nodes: node, extensions: { code: BAD_USER_INPUT } });
  }
}

export function badUserInput(message: string, node?: ASTNode, at?: string): BadUserInputError {
  return new BadUserInputError(message, node, at);
}

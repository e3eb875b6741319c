// The one way scalars reject client input: a GraphQLError with code BAD_USER_INPUT, which
// graphql-js carries into the request error whether the value came as a literal or a variable.

import { GraphQLError, type ASTNode } from 'graphql';

export function badUserInput(message: string, node?: ASTNode): GraphQLError {
  return new GraphQLError(message, { nodes: node, extensions: { code: 'BAD_USER_INPUT' } });
}

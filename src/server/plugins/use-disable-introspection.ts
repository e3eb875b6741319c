// Switches schema introspection off (GRAPHQL_INTROSPECTION=false, the production default):
// graphql-js's own validation rule rejects __schema and __type selections.

import { NoSchemaIntrospectionCustomRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export function useDisableIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}

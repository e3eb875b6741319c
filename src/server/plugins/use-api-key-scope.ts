// Narrows each operation's index service to what its API key reaches: an unbound key, every index;
// a key bound to a name prefix (CIPHERDEX_API_KEY's key=prefix), the scoped view that refuses other
// names as absent (service/access/scoped-index-service.ts). The key is the x-api-key header over
// HTTP (queries, mutations, SSE subscriptions) and connection_init's apiKey over graphql-ws.
// Authentication (use-api-key-auth.ts) has refused wrong keys before this runs; an operation that
// passed without a key (the open health query) reaches no index at all.

import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../../graphql/context.js';
import { NO_INDEX_NAMES, namePrefixScope, scopedIndexService } from '../../service/index.js';
import type { ApiKeyLookup } from './use-api-key-auth.js';

interface TransportContext {
  /** HTTP: the request, whose header carries the key. */
  request?: Request;
  /** graphql-ws: the connection_init payload. */
  connectionParams?: Readonly<Record<string, unknown>>;
}

export function useApiKeyScope(lookup: ApiKeyLookup): Plugin<GraphQLContext & TransportContext> {
  return {
    onContextBuilding({ context, extendContext }) {
      const presented = context.request !== undefined ? context.request.headers.get('x-api-key') : context.connectionParams?.apiKey;
      const scope = lookup(presented);
      if (scope !== null && scope.prefix === null) return;
      extendContext({ service: scopedIndexService(context.service, scope === null ? NO_INDEX_NAMES : namePrefixScope(scope.prefix!)) });
    },
  };
}

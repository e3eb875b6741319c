// An Apollo Client 4 set up against Cipherdex the way docs/clients.md tells applications to:
// HttpLink behind a PersistedQueryLink for queries and mutations, GraphQLWsLink for
// subscriptions, and an InMemoryCache given the codegen'd possibleTypes. Tests may watch the
// HTTP requests the client makes.

import { createHash } from 'node:crypto';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import generated from '../../schema/possible-types.js';

export interface SeenRequest {
  method: string;
  /** The query text was sent (not only its hash). */
  sentQuery: boolean;
  sentHash: boolean;
  status: number;
}

export interface ApolloTestClient {
  client: ApolloClient;
  /** Every HTTP request the client made, in order. */
  requests: SeenRequest[];
  dispose(): Promise<void>;
}

export interface ApolloTestClientOptions {
  url: string;
  wsUrl: string;
  apiKey: string;
  /** Hashed queries as HTTP GET (cache-friendly); mutations still POST. */
  useGETForHashedQueries?: boolean;
  possibleTypes?: Record<string, string[]>;
}

export function createApolloTestClient(options: ApolloTestClientOptions): ApolloTestClient {
  const requests: SeenRequest[] = [];
  const watchingFetch: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = init?.method ?? 'GET';
    const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : {};
    const response = await fetch(input, init);
    requests.push({
      method,
      sentQuery: typeof body.query === 'string' || url.searchParams.has('query'),
      sentHash: body.extensions !== undefined || (url.searchParams.get('extensions') ?? '').includes('sha256Hash'),
      status: response.status,
    });
    return response;
  };

  const http = new HttpLink({ uri: options.url, headers: { 'x-api-key': options.apiKey }, fetch: watchingFetch });
  const persisted = new PersistedQueryLink({
    sha256: (query) => createHash('sha256').update(query).digest('hex'),
    useGETForHashedQueries: options.useGETForHashedQueries ?? false,
  });
  const ws: Client = createClient({ url: options.wsUrl, webSocketImpl: WebSocket, connectionParams: { apiKey: options.apiKey }, retryAttempts: 0, lazy: true });
  const isSubscription = ({ query }: ApolloLink.Operation) => {
    const definition = getMainDefinition(query);
    return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
  };

  const client = new ApolloClient({
    link: ApolloLink.split(isSubscription, new GraphQLWsLink(ws), persisted.concat(http)),
    cache: new InMemoryCache({
      possibleTypes: options.possibleTypes ?? generated.possibleTypes,
      // A hit's distance belongs to one search: hits must not be merged across searches by id.
      typePolicies: { SearchHit: { keyFields: false } },
    }),
  });
  return {
    client,
    requests,
    async dispose() {
      client.stop();
      await ws.dispose();
    },
  };
}

// The load benchmark's client side: the GraphQL operations it sends, a request over HTTP, and
// what the main bench thread and its search clients' thread (load-searchers.ts) say to each other.

import { Agent, request as httpRequest } from 'node:http';

export const OPERATIONS = {
  createIndex: `mutation ($name: String!, $key: IndexKey!, $dimension: Int!, $type: IndexType) {
    createIndex(name: $name, key: $key, dimension: $dimension, type: $type) { __typename ... on Error { code message } } }`,
  upsert: `mutation ($index: String!, $key: IndexKey!, $items: [ItemInput!]!) {
    upsert(index: $index, key: $key, items: $items) { __typename ... on UpsertSuccess { upsertedCount } ... on Error { code message } } }`,
  search: `query ($index: String!, $key: IndexKey!, $vector: Vector!, $topK: Int, $nProbes: Int) {
    search(index: $index, key: $key, vector: $vector, topK: $topK, nProbes: $nProbes) {
      __typename ... on SearchResults { exact hits { id distance } } ... on Error { code message } } }`,
  index: `query ($name: String!, $key: IndexKey!) {
    index(name: $name, key: $key) { __typename ... on Index { vectorCount isTrained isTraining nLists } ... on Error { code message } } }`,
  itemIds: `query ($index: String!, $key: IndexKey!) {
    itemIds(index: $index, key: $key) { __typename ... on ItemIdList { ids } ... on Error { code message } } }`,
  items: `query ($index: String!, $key: IndexKey!, $ids: [ID!]!) {
    items(index: $index, key: $key, ids: $ids) { __typename ... on ItemList { items { id vector } } ... on Error { code message } } }`,
  trainingStatus: `subscription ($index: String!, $key: IndexKey!) {
    trainingStatus(index: $index, key: $key) {
      __typename ... on TrainingStatus { runId trigger phase iteration nLists elapsedMs } ... on Error { code message } } }`,
};

// node:http with kept-alive connections, not fetch: fetch cost the client side 0.25-0.45 ms of CPU
// per request on this 2-core machine (node:http about 0.05), CPU the server under test lost.
const agent = new Agent({ keepAlive: true });

/**
 * Sent with every request: the moment it was sent (ms since the epoch, sub-ms) and the field it
 * asks for, so that the server (load-server.ts) can tell how long it sat unread in the socket.
 * Both processes read the same clock; their time origins agree to a small fraction of a ms.
 */
export const SENT_AT_HEADER = 'x-load-sent-at';
export const OPERATION_HEADER = 'x-load-operation';

/** The JSON body of a GraphQL request, to encode ahead of the moment it is sent. */
export function requestBody(query: string, variables: Record<string, unknown>): string {
  return JSON.stringify({ query, variables });
}

/** One GraphQL request over HTTP: the field's value when it is the expected type, else an error text. */
export async function graphql<T>(url: string, apiKey: string, query: string, variables: Record<string, unknown>, field: string, success: string): Promise<T> {
  return graphqlBody<T>(url, apiKey, requestBody(query, variables), field, success);
}

/** graphql() with its body already encoded (requestBody). */
export async function graphqlBody<T>(url: string, apiKey: string, requestText: string, field: string, success: string): Promise<T> {
  const { status, text } = await post(url, apiKey, requestText, field);
  let body: { data?: Record<string, { __typename: string } | null> | null; errors?: Array<{ message: string }> };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Error(`HTTP ${status}: ${text.slice(0, 200)}`);
  }
  const value = body.data?.[field];
  if (status !== 200 || body.errors !== undefined || value === undefined || value === null || value.__typename !== success) {
    throw new Error(`HTTP ${status}: ${JSON.stringify(body).slice(0, 300)}`);
  }
  return value as T;
}

function post(url: string, apiKey: string, requestText: string, field: string, retried = false): Promise<{ status: number; text: string }> {
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const request = httpRequest(url, {
      method: 'POST',
      agent,
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        'x-api-key': apiKey,
        [SENT_AT_HEADER]: String(performance.timeOrigin + performance.now()),
        [OPERATION_HEADER]: field,
      },
    }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      response.on('error', reject);
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      // A kept-alive connection the server closed as this request was sent: sent again once, on a
      // fresh one, as Node's documentation of request.reusedSocket advises (1 upsert in 300 of
      // some runs; this bench's requests are safe to repeat: an upsert writes the same items).
      if (request.reusedSocket && error.code === 'ECONNRESET' && !retried) resolve(post(url, apiKey, requestText, field, true));
      else reject(error);
    });
    request.end(requestText);
  });
}

/** Lets the process exit: closes the kept-alive connections. */
export function closeConnections(): void {
  agent.destroy();
}

export function toBase64(vector: Float32Array): string {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
}

/** What the search clients' thread is given. */
export interface SearchersData {
  url: string;
  apiKey: string;
  index: string;
  key: string;
  clients: number;
  /** Searches per second arriving open-loop (Poisson); 0: `clients` closed-loop clients instead. */
  rate: number;
  topK: number;
  dimension: number;
  /** Query vectors, row-major. */
  queries: Float32Array;
}

/** To the searchers: stop after the requests in flight. From them: every sample once stopped. */
export type SearchersMessage =
  | { type: 'stop' }
  | { type: 'done'; startEpochMs: number; samples: { endEpochMs: number; latencyMs: number }[]; errors: number; errorSamples: string[] };

/** A time on this thread's clock as milliseconds since the epoch (each thread has its own origin). */
export const epochMs = (now: number): number => performance.timeOrigin + now;

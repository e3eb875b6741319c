// GraphQL subscriptions for the CLI over graphql-ws (the same path as HTTP, ws:// instead of
// http://). One attempt only: a refused key or a dead server is an answer, not a reason to retry.

import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { CliError, ExitCode } from '../exit-codes.js';
import type { Connection } from './connection-options.js';
import { unauthenticatedError, unreachableError } from './graphql-http-client.js';

/** Close code graphql-ws servers use when onConnect refuses the connection_init payload. */
const FORBIDDEN = 4403;

export function webSocketUrl(httpUrl: string): string {
  const url = new URL(httpUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

export function createSubscriptionClient(connection: Connection): Client {
  return createClient({
    url: webSocketUrl(connection.url),
    webSocketImpl: WebSocket,
    connectionParams: connection.apiKey === undefined ? {} : { apiKey: connection.apiKey },
    retryAttempts: 0,
    lazy: true,
    // Pings let a dead server (not just a closed socket) end a --follow instead of hanging it.
    keepAlive: 10_000,
  });
}

/** Turns whatever graphql-ws rejects with (a close event, a socket error, GraphQL errors) into a CliError. */
export function subscriptionError(connection: Connection, error: unknown): CliError {
  if (error instanceof CliError) return error;
  if (Array.isArray(error)) {
    const messages = error.map((item: unknown) => (item instanceof Object && 'message' in item ? String(item.message) : String(item)));
    return new CliError(`the server rejected the subscription: ${messages.join('; ')}`, ExitCode.SERVER_ERROR);
  }
  if (error instanceof Object && 'code' in error && typeof error.code === 'number') {
    const reason = 'reason' in error && typeof error.reason === 'string' && error.reason !== '' ? error.reason : undefined;
    if (error.code === FORBIDDEN || error.code === 4401) return unauthenticatedError(connection, reason);
    return new CliError(
      `the connection to ${connection.url} closed (code ${error.code}${reason ? `: ${reason}` : ''})`,
      ExitCode.UNREACHABLE,
    );
  }
  // ws delivers connection failures (ECONNREFUSED, ENOTFOUND) as an error event wrapping the cause.
  const cause = error instanceof Object && 'error' in error ? error.error : error;
  return unreachableError(connection.url, cause);
}

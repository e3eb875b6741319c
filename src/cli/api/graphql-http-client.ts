// GraphQL over HTTP for the CLI's queries and mutations, with every transport failure turned into
// a CliError carrying the documented exit code.

import { CliError, ExitCode } from '../exit-codes.js';
import type { Connection } from './connection-options.js';

interface GraphqlErrorBody {
  message: string;
  extensions?: { code?: string };
}

interface GraphqlResponseBody<TData> {
  data?: TData | null;
  errors?: GraphqlErrorBody[];
}

export function unauthenticatedError(connection: Connection, detail?: string): CliError {
  const reason = connection.apiKey === undefined ? 'no API key was given (pass --api-key or set CIPHERDEX_API_KEY)' : 'the API key was refused';
  return new CliError(`${connection.url}: ${reason}${detail ? ` — ${detail}` : ''}`, ExitCode.UNREACHABLE, 'UNAUTHENTICATED');
}

export function unreachableError(url: string, error: unknown): CliError {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = cause instanceof Error && 'code' in cause ? String(cause.code) : cause instanceof Error ? cause.message : String(cause);
  return new CliError(`cannot reach the server at ${url} (${code}); is it running? Set --url or CIPHERDEX_URL.`, ExitCode.UNREACHABLE);
}

export class GraphqlHttpClient {
  constructor(readonly connection: Connection) {}

  async request<TData>(document: string, variables: Record<string, unknown> = {}): Promise<TData> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
    };
    if (this.connection.apiKey !== undefined) headers['x-api-key'] = this.connection.apiKey;
    let response: Response;
    try {
      response = await fetch(this.connection.url, { method: 'POST', headers, body: JSON.stringify({ query: document, variables }) });
    } catch (error) {
      throw unreachableError(this.connection.url, error);
    }
    const text = await response.text();
    let body: GraphqlResponseBody<TData> | undefined;
    try {
      body = JSON.parse(text) as GraphqlResponseBody<TData>;
    } catch {
      body = undefined;
    }
    const errors = body?.errors ?? [];
    if (response.status === 401 || errors.some((error) => error.extensions?.code === 'UNAUTHENTICATED')) {
      throw unauthenticatedError(this.connection, errors[0]?.message);
    }
    if (errors.length > 0) {
      const message = errors.map((error) => error.message).join('; ');
      // BAD_USER_INPUT: a value the user gave (a vector, a filter) was rejected by the schema.
      const userInput = errors.every((error) => error.extensions?.code === 'BAD_USER_INPUT');
      throw new CliError(`the server rejected the request: ${message}`, userInput ? ExitCode.USAGE : ExitCode.SERVER_ERROR, errors[0]?.extensions?.code);
    }
    if (!response.ok || body?.data == null) {
      throw new CliError(`unexpected answer from ${this.connection.url}: HTTP ${response.status} ${text.slice(0, 200)}`, ExitCode.SERVER_ERROR);
    }
    return body.data;
  }
}

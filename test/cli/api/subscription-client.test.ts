// The CLI's graphql-ws side: the ws:// URL of an endpoint, and what each kind of failure the
// client rejects with becomes (exit code and message).
import { describe, expect, it } from 'vitest';
import { subscriptionError, webSocketUrl } from '../../../src/cli/api/subscription-client.js';
import { ExitCode } from '../../../src/cli/exit-codes.js';

const connection = { url: 'http://127.0.0.1:4000/graphql', apiKey: 'k' };

describe('webSocketUrl', () => {
  it('keeps host, port and path, switching the scheme', () => {
    expect(webSocketUrl('http://127.0.0.1:4000/graphql')).toBe('ws://127.0.0.1:4000/graphql');
    expect(webSocketUrl('https://example.test/api/graphql')).toBe('wss://example.test/api/graphql');
  });
});

describe('subscriptionError', () => {
  it('reads a 4403 close as a refused API key', () => {
    const error = subscriptionError(connection, { code: 4403, reason: 'Forbidden' });
    expect(error.exitCode).toBe(ExitCode.UNREACHABLE);
    expect(error.message).toContain('the API key was refused');
  });

  it('reads other closes as a lost connection', () => {
    const error = subscriptionError(connection, { code: 1006, reason: '' });
    expect(error.exitCode).toBe(ExitCode.UNREACHABLE);
    expect(error.message).toBe('the connection to http://127.0.0.1:4000/graphql closed (code 1006)');
  });

  it('reads a socket error event by its cause', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4000'), { code: 'ECONNREFUSED' });
    const error = subscriptionError(connection, { type: 'error', error: cause });
    expect(error.exitCode).toBe(ExitCode.UNREACHABLE);
    expect(error.message).toContain('(ECONNREFUSED)');
  });

  it('reads GraphQL errors as server errors, with their messages', () => {
    const error = subscriptionError(connection, [{ message: 'Cannot query field "x"' }]);
    expect(error.exitCode).toBe(ExitCode.SERVER_ERROR);
    expect(error.message).toContain('Cannot query field "x"');
  });
});

// The server's structured log: one JSON object per line (pino), at LOG_LEVEL, each line naming the
// request it was written for (request-context.ts). What may be logged is in docs/security.md:
// never keys, ids, contents, metadata, filters or variables; the redaction below is a second
// line of defence for the fields where such values would be, not the first.

import { pino, type Logger } from 'pino';
import type { Config } from '../config.js';
import { currentRequestId } from './request-context.js';

export type ServerLog = Logger;

export type LogLevel = Config['logLevel'];

export interface ServerLogOptions {
  level: LogLevel;
  /** Where each line goes (without its newline); stdout when absent. */
  write?: (line: string) => void;
}

export function createServerLog(options: ServerLogOptions): ServerLog {
  const settings = {
    level: options.level,
    base: { service: 'cipherdex' },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin() {
      const requestId = currentRequestId();
      return requestId === undefined ? {} : { requestId };
    },
    redact: {
      paths: ['headers["x-api-key"]', 'headers.authorization', 'variables', 'key', 'apiKey', '*.variables', '*.key', '*.apiKey'],
      censor: '[redacted]',
    },
  };
  const write = options.write;
  if (write === undefined) return pino(settings);
  return pino(settings, { write: (chunk: string) => write(chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk) });
}

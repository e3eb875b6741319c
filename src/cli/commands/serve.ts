// `cipherdex serve` (what `npm start` runs): starts the GraphQL server and stops it cleanly on a signal.

import { parseArgs } from 'node:util';
import { loadConfig } from '../../config.js';
import { CliError, ExitCode, usageError } from '../exit-codes.js';

export const serveHelp = `Usage: cipherdex serve

Starts the Cipherdex server (GraphQL over HTTP and WebSockets on one port, /health, /dashboard).
Settings come from the environment: PORT, HOST, CIPHERDEX_API_KEYS, CIPHERDEX_DATA_DIR,
CIPHERDEX_DB_TYPE, CIPHERDEX_CONNECTION_STRING, REDIS_URL, RETRAIN_THRESHOLD,
AUTO_TRAIN_DISABLED, TRAINING_LEASE_MS, REPLICA_POLL_MS and the limits documented in docs/operations.md. Stops cleanly on SIGINT/SIGTERM.`;

/** Resolves when the server has stopped after a signal. */
export async function serve(args: string[]): Promise<number> {
  parseArgs({ args, options: {}, strict: true });
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    // A bad environment variable is the user's to fix: say which, without a stack trace.
    throw usageError(error instanceof Error ? error.message : String(error));
  }
  // Imported here, not at the top, so client commands (import, search, ...) start fast and
  // never load the server stack.
  const [{ startServer }, { StoreOpenError }] = await Promise.all([
    import('../../server/start-server.js'),
    import('../../storage/index.js'),
  ]);
  let server;
  try {
    server = await startServer(config, { log: (line: string) => console.log(line) });
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'EADDRINUSE') {
      throw new CliError(`port ${config.port} on ${config.host} is already in use; set PORT to another port`, ExitCode.SERVER_ERROR);
    }
    // Its message already names the setting and the cause; a stack trace would only bury it.
    if (error instanceof StoreOpenError) throw new CliError(error.message, ExitCode.SERVER_ERROR);
    throw error;
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        // A second Ctrl-C means "now": do not wait for in-flight work.
        process.exit(ExitCode.INTERRUPTED);
      }
      stopping = true;
      server.log.info(`${signal} received, shutting down...`);
      server.close().then(
        () => resolve(0),
        (error: unknown) => {
          server.log.error(`error while shutting down: ${error instanceof Error ? error.message : String(error)}`);
          resolve(ExitCode.SERVER_ERROR);
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

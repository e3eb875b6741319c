// `cipherdex serve` (what `npm start` runs): starts the GraphQL server and stops it cleanly on a signal.

import { parseArgs } from 'node:util';
import { loadConfig } from '../../config.js';

export const serveHelp = `Usage: cipherdex serve

Starts the Cipherdex server (GraphQL over HTTP and WebSockets on one port, /health, /dashboard).
Settings come from the environment: PORT, HOST, CIPHERDEX_API_KEY, CIPHERDEX_DATA_DIR,
CIPHERDEX_DB_TYPE, CIPHERDEX_CONNECTION_STRING, REDIS_URL, RETRAIN_THRESHOLD,
AUTO_TRAIN_DISABLED and the limits documented in the README. Stops cleanly on SIGINT/SIGTERM.`;

// TODO(cli): switch to a literal import('../../server/start-server.js') once that module is
// committed, so the compiler checks the signature; until then its expected shape is declared here.
const START_SERVER_MODULE = '../../server/start-server.js';
type StartServer = (
  config: ReturnType<typeof loadConfig>,
  options?: { log?: (line: string) => void },
) => Promise<{ url: string; port: number; close(): Promise<void> }>;

/** Resolves when the server has stopped after a signal. */
export async function serve(args: string[]): Promise<number> {
  parseArgs({ args, options: {}, strict: true });
  const config = loadConfig();
  // Imported here, not at the top, so client commands (import, search, ...) start fast and
  // never load the server stack.
  const { startServer } = (await import(START_SERVER_MODULE)) as { startServer: StartServer };
  const server = await startServer(config, { log: (line: string) => console.log(line) });
  console.log(`Cipherdex listening on ${server.url}`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        // A second Ctrl-C means "now": do not wait for in-flight work.
        process.exit(130);
      }
      stopping = true;
      console.log(`${signal} received, shutting down...`);
      server.close().then(
        () => resolve(0),
        (error: unknown) => {
          console.error(`error while shutting down: ${error instanceof Error ? error.message : String(error)}`);
          resolve(5);
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

// The embedded default starts without the modules only other setups use (pg, ioredis) or that only
// a browser asks for (GraphiQL's renderer, which inlines a 9 MB bundle): a faster start, the first
// step of a cold open. Every module the ESM loader loads is logged by a hook in the child.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServeProcess, type ServeProcess } from '../support/serve-process.js';

const HOOKS = `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.LOADED_MODULES_LOG, url + '\\n');
  return next(url, context);
}`;

describe('modules a server on the embedded store loads', () => {
  let dir: string;
  let log: string;
  let server: ServeProcess;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cipherdex-modules-'));
    log = join(dir, 'loaded.txt');
    await writeFile(join(dir, 'hooks.mjs'), HOOKS);
    await writeFile(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`);
    server = await startServeProcess('server', {
      NODE_OPTIONS: `--import=${pathToFileURL(join(dir, 'register.mjs')).href}`,
      LOADED_MODULES_LOG: log,
      CIPHERDEX_DATA_DIR: join(dir, 'data'),
      CIPHERDEX_API_KEY: 'lazy-modules-test-key',
      AUTO_TRAIN_DISABLED: 'true',
    });
  });
  afterAll(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
    await rm(dir, { recursive: true, force: true });
  });

  const loaded = async (fragment: string): Promise<boolean> => (await readFile(log, 'utf8')).split('\n').some((url) => url.includes(fragment));

  it('starts without pg, ioredis or the GraphiQL renderer, having loaded the server itself', async () => {
    expect(await loaded('/node_modules/graphql-yoga/')).toBe(true);
    expect(await loaded('/node_modules/better-sqlite3/')).toBe(true);
    expect(await loaded('/node_modules/pg/')).toBe(false);
    expect(await loaded('/node_modules/ioredis/')).toBe(false);
    expect(await loaded('/node_modules/@graphql-yoga/render-graphiql/')).toBe(false);
    expect(await loaded('/src/storage/postgres-store.')).toBe(false);
    expect(await loaded('/src/service/replication/replication.')).toBe(false);
  });

  it('loads the GraphiQL renderer when a browser asks for the page, and serves it', async () => {
    const response = await fetch(server.url, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<div id="root"></div>');
    expect(await loaded('/node_modules/@graphql-yoga/render-graphiql/')).toBe(true);
  });
});

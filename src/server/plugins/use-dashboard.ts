// The yoga plugin that serves the training dashboard: /dashboard (the page) and
// /dashboard/assets/* (its script and stylesheet, and graphql-ws and uPlot browser builds taken
// from node_modules), so the page works offline and needs no build step.

import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'graphql-yoga';
import { BROWSER_PAGE_HEADERS, contentSecurityPolicy } from '../browser-page-headers.js';

const require = createRequire(import.meta.url);
// Through the project root, so that the compiled plugin (dist/server/plugins/) finds the same files.
const DASHBOARD_DIR = fileURLToPath(new URL('../../../src/dashboard/', import.meta.url));

export const DASHBOARD_PATH = '/dashboard';
const ASSETS_PREFIX = `${DASHBOARD_PATH}/assets/`;

/** The root folder of an installed package, found from its resolved entry point (its exports may hide package.json). */
function packageRoot(name: string): string {
  let dir = dirname(require.resolve(name));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === name) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the package root of ${name}`);
    dir = parent;
  }
}

interface Asset {
  file: string;
  type: string;
}

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** A fixed map from URL to file: request paths never reach the file system, so no traversal is possible. */
function assets(): Map<string, Asset> {
  const graphqlWs = packageRoot('graphql-ws');
  const uplot = packageRoot('uplot');
  return new Map<string, Asset>([
    [DASHBOARD_PATH, { file: join(DASHBOARD_DIR, 'index.html'), type: 'text/html; charset=utf-8' }],
    [`${DASHBOARD_PATH}/`, { file: join(DASHBOARD_DIR, 'index.html'), type: 'text/html; charset=utf-8' }],
    [`${ASSETS_PREFIX}dashboard.js`, { file: join(DASHBOARD_DIR, 'dashboard.js'), type: JS }],
    [`${ASSETS_PREFIX}series-decimation.js`, { file: join(DASHBOARD_DIR, 'series-decimation.js'), type: JS }],
    [`${ASSETS_PREFIX}dashboard.css`, { file: join(DASHBOARD_DIR, 'dashboard.css'), type: CSS }],
    [`${ASSETS_PREFIX}graphql-ws.min.js`, { file: join(graphqlWs, 'umd', 'graphql-ws.min.js'), type: JS }],
    [`${ASSETS_PREFIX}uPlot.iife.min.js`, { file: join(uplot, 'dist', 'uPlot.iife.min.js'), type: JS }],
    [`${ASSETS_PREFIX}uPlot.min.css`, { file: join(uplot, 'dist', 'uPlot.min.css'), type: CSS }],
  ]);
}

/**
 * Everything the page loads comes from this origin; the page holds index keys in memory, so it
 * may not be framed, may not run inline or foreign scripts, and sends no referrer.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': contentSecurityPolicy(),
  ...BROWSER_PAGE_HEADERS,
};

export function useDashboard(): Plugin {
  const routes = assets();
  const cache = new Map<string, Promise<Buffer>>();
  const load = (file: string): Promise<Buffer> => {
    let body = cache.get(file);
    if (!body) {
      body = readFile(file);
      // A failed read is not cached, so a file restored on disk is served on the next request.
      body.catch(() => cache.delete(file));
      cache.set(file, body);
    }
    return body;
  };

  return {
    async onRequest({ url, request, fetchAPI, endResponse }) {
      if (url.pathname !== DASHBOARD_PATH && !url.pathname.startsWith(`${DASHBOARD_PATH}/`)) return;
      const asset = routes.get(url.pathname);
      if (!asset) {
        endResponse(new fetchAPI.Response('Not found', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS } }));
        return;
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        endResponse(new fetchAPI.Response('Method not allowed', { status: 405, headers: { allow: 'GET, HEAD', ...SECURITY_HEADERS } }));
        return;
      }
      const body = await load(asset.file);
      endResponse(
        new fetchAPI.Response(request.method === 'HEAD' ? null : new Uint8Array(body), {
          status: 200,
          headers: { 'content-type': asset.type, 'content-length': String(body.byteLength), ...SECURITY_HEADERS },
        }),
      );
    },
  };
}

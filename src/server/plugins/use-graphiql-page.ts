// GraphiQL for browsers on GET /graphql (Accept: text/html), rendered once from node_modules
// (@graphql-yoga/render-graphiql: no CDN) and served compressed (br or gzip: the page inlines a
// 9 MB bundle), with the same security headers as /dashboard and a CSP that admits exactly its
// inline scripts by hash. Headers (the API key) are never persisted: shouldPersistHeaders is off,
// and a small script of ours keeps the session's x-api-key in page memory only, adds it to
// requests from tabs whose headers lack one (a new tab carries the session's key), and re-fetches
// the schema when the headers are edited (the schema loads once a key is typed; introspection
// needs the key like everything else).

import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';
import { type Plugin, shouldRenderGraphiQL } from 'graphql-yoga';
import { BROWSER_PAGE_HEADERS, contentSecurityPolicy } from '../browser-page-headers.js';

export interface GraphiQLPageOptions {
  endpoint: string;
  title: string;
  defaultQuery: string;
}

/** Runs before GraphiQL: it must wrap fetch before GraphiQL's fetcher first uses it. */
export const SESSION_HEADERS_SCRIPT = `(() => {
  'use strict';
  let sessionKey = null;
  const realFetch = window.fetch.bind(window);
  window.fetch = (input, init) => {
    const headers = new Headers((init && init.headers) || undefined);
    const key = headers.get('x-api-key');
    if (key) sessionKey = key;
    else if (sessionKey) {
      headers.set('x-api-key', sessionKey);
      init = Object.assign({}, init, { headers });
    }
    return realFetch(input, init);
  };
  let timer;
  const edited = (event) => {
    const target = event.target;
    if (!(target instanceof Element) || !target.closest('.graphiql-editor-tools, .graphiql-editor-tool')) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      const refetch = document.querySelector('[aria-label^="Re-fetch GraphQL schema"]');
      if (refetch) refetch.click();
    }, 500);
  };
  // Typing fires keyup; pasting and input methods fire only input.
  document.addEventListener('keyup', edited, true);
  document.addEventListener('input', edited, true);
})();`;

const INLINE = /<(script|style)>([\s\S]*?)<\/\1>/g;

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

export interface GraphiQLPage {
  html: string;
  csp: string;
}

/** Loads the renderer when first asked: its module inlines a 9 MB bundle, 0.1 s of every server start otherwise. */
export async function renderGraphiQLPage(options: GraphiQLPageOptions): Promise<GraphiQLPage> {
  const { renderGraphiQL } = await import('@graphql-yoga/render-graphiql');
  const rendered = renderGraphiQL({
    title: options.title,
    endpoint: options.endpoint,
    defaultQuery: options.defaultQuery,
    defaultHeaders: '{\n  "x-api-key": ""\n}',
    shouldPersistHeaders: false,
  });
  const html = rendered.replace('<div id="root"></div>', `<div id="root"></div>\n<script>${SESSION_HEADERS_SCRIPT}</script>`);
  const scripts: string[] = [];
  for (const [, kind, body] of html.matchAll(INLINE)) if (kind === 'script') scripts.push(sha256(body!));
  const csp = contentSecurityPolicy({
    'script-src': scripts.join(' '),
    // The editors set style attributes, which hashes cannot admit.
    'style-src': "'self' 'unsafe-inline'",
    'font-src': "'self' data:",
    // Monaco's language workers are started from blob: URLs the page makes itself.
    'worker-src': 'blob:',
  });
  return { html, csp };
}

type Encoding = 'br' | 'gzip' | 'identity';

function preferredEncoding(accept: string | null): Encoding {
  const offered = (accept ?? '').split(',').map((part) => part.trim().split(';')[0]!.toLowerCase());
  if (offered.includes('br')) return 'br';
  if (offered.includes('gzip')) return 'gzip';
  return 'identity';
}

const compressors: Record<Exclude<Encoding, 'identity'>, (body: Buffer) => Promise<Buffer>> = {
  // Quality 5 compresses the page in well under a second and to about a sixth of its size.
  br: (body) => promisify(brotliCompress)(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 5, [zlib.BROTLI_PARAM_SIZE_HINT]: body.byteLength } }),
  gzip: (body) => promisify(gzip)(body, { level: 6 }),
};

export function useGraphiQLPage(options: GraphiQLPageOptions): Plugin {
  let page: Promise<GraphiQLPage> | null = null;
  const bodies = new Map<Encoding, Promise<Buffer>>();
  // Rendered when first asked for; a failure is not kept, so the next request tries again.
  const rendered = (): Promise<GraphiQLPage> => {
    if (page === null) {
      page = renderGraphiQLPage(options);
      page.catch(() => {
        page = null;
      });
    }
    return page;
  };
  const body = (encoding: Encoding): Promise<Buffer> => {
    let cached = bodies.get(encoding);
    if (cached === undefined) {
      cached = rendered().then(({ html }) => {
        const plain = Buffer.from(html, 'utf8');
        return encoding === 'identity' ? plain : compressors[encoding](plain);
      });
      cached.catch(() => bodies.delete(encoding));
      bodies.set(encoding, cached);
    }
    return cached;
  };

  return {
    async onRequest({ request, url, fetchAPI, endResponse }) {
      if (!shouldRenderGraphiQL(request) || (url.pathname !== options.endpoint && url.pathname !== `${options.endpoint}/`)) return;
      const encoding = preferredEncoding(request.headers.get('accept-encoding'));
      const [{ csp }, bytes] = await Promise.all([rendered(), body(encoding)]);
      endResponse(
        new fetchAPI.Response(new Uint8Array(bytes), {
          status: 200,
          headers: {
            'content-type': 'text/html; charset=utf-8',
            'content-length': String(bytes.byteLength),
            vary: 'accept-encoding',
            ...(encoding === 'identity' ? {} : { 'content-encoding': encoding }),
            'content-security-policy': csp,
            ...BROWSER_PAGE_HEADERS,
          },
        }),
      );
    },
  };
}

// useDashboard(): serves the page and exactly the assets it references, from this origin, with a
// strict CSP; everything else under /dashboard is 404 and nothing else is touched.
import { readFile } from 'node:fs/promises';
import { createSchema, createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { useDashboard } from '../../../src/server/plugins/use-dashboard.js';

const yoga = createYoga({
  schema: createSchema({ typeDefs: 'type Query { ok: Boolean }', resolvers: { Query: { ok: () => true } } }),
  plugins: [useDashboard()],
  logging: false,
});

const get = (path: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) =>
  yoga.fetch(new Request(`http://localhost${path}`, init));

describe('useDashboard', () => {
  it('serves the page with a CSP that allows only this origin and no inline script', async () => {
    for (const path of ['/dashboard', '/dashboard/']) {
      const response = await get(path);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(await response.text()).toBe(await readFile(new URL('../../../src/dashboard/index.html', import.meta.url), 'utf8'));
    }
  });

  it('serves every script and stylesheet the page references, from this origin, with the right type', async () => {
    const html = await (await get('/dashboard')).text();
    const references = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!).filter((reference) => reference !== 'data:,');
    expect(references.length).toBeGreaterThanOrEqual(5);
    for (const reference of references) {
      // Offline by design: no CDN, no other origin.
      expect(reference.startsWith('/dashboard/assets/')).toBe(true);
      const response = await get(reference);
      expect(response.status, reference).toBe(200);
      expect(response.headers.get('content-type')).toMatch(reference.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    }
  });

  it('vendors the browser builds that define the globals the client script uses', async () => {
    const graphqlWs = await (await get('/dashboard/assets/graphql-ws.min.js')).text();
    const uplot = await (await get('/dashboard/assets/uPlot.iife.min.js')).text();
    expect(graphqlWs).toContain('graphqlWs');
    expect(uplot).toMatch(/var uPlot\s*=/);
  });

  it('answers 404 for unknown or traversal paths and 405 for writes', async () => {
    expect((await get('/dashboard/assets/nope.js')).status).toBe(404);
    expect((await get('/dashboard/assets/%2e%2e/%2e%2e/package.json')).status).toBe(404);
    expect((await get('/dashboard/../package.json')).status).toBe(404);
    expect((await get('/dashboard', { method: 'POST', body: 'x' })).status).toBe(405);
    const head = await get('/dashboard/assets/dashboard.js', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(1000);
  });

  it('leaves other paths to yoga', async () => {
    const response = await get('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ ok }' }) });
    expect(await response.json()).toEqual({ data: { ok: true } });
  });
});

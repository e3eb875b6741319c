// useGraphiQLPage(): GraphiQL served compressed with the dashboard's security headers and a CSP
// of script hashes; on in development, off in production unless CIPHERDEX_GRAPHIQL=true; and, in
// Chromium: it runs under that CSP, loads the schema as soon as a key is typed, carries the
// session's key into new tabs, and writes no header to storage.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { startTestServer, type TestServer } from '../harness.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** GET with a chosen Accept-Encoding; fetch would decode the body itself. */
function getRaw(url: string, encoding: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    httpRequest(url, { headers: { accept: 'text/html', 'accept-encoding': encoding } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
    })
      .on('error', reject)
      .end();
  });
}

describe('GraphiQL on the real server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { AUTO_TRAIN_DISABLED: 'true' } });
  });
  afterAll(async () => {
    await server.close();
  });

  it('is compressed (br, gzip) and the same page as uncompressed', async () => {
    const plain = await getRaw(server.url, 'identity');
    const br = await getRaw(server.url, 'gzip, deflate, br');
    const gz = await getRaw(server.url, 'gzip');
    expect(plain.status).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(br.body.byteLength).toBeLessThan(plain.body.byteLength / 4);
    expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);
    expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);
    expect(plain.headers.vary).toMatch(/accept-encoding/i);
  });

  it('sends the dashboard’s security headers and a CSP that admits exactly its inline scripts', async () => {
    const response = await fetch(server.url, { headers: { accept: 'text/html' } });
    const html = await response.text();
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*(unsafe-inline|unsafe-eval|\*)/);
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => `'sha256-${createHash('sha256').update(m[1]!).digest('base64')}'`);
    expect(scripts.length).toBeGreaterThan(0);
    expect(/script-src ([^;]*)/.exec(csp)?.[1]?.split(' ').sort()).toEqual(scripts.sort());
    const dashboard = await fetch(server.url.replace('/graphql', '/dashboard'));
    for (const header of ['referrer-policy', 'x-content-type-options', 'x-frame-options', 'cache-control']) {
      expect(response.headers.get(header), header).toBe(dashboard.headers.get(header));
      expect(response.headers.get(header), header).not.toBeNull();
    }
    expect(html).toContain('"shouldPersistHeaders":false');
  });
});

describe('GraphiQL settings', () => {
  it('is on in development and off in production unless CIPHERDEX_GRAPHIQL=true', () => {
    expect(loadConfig({}).graphiql).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production' }).graphiql).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', CIPHERDEX_GRAPHIQL: 'true' }).graphiql).toBe(true);
    expect(loadConfig({ CIPHERDEX_GRAPHIQL: 'false' }).graphiql).toBe(false);
  });

  it('serves no page in production', async () => {
    const server = await startTestServer({ env: { NODE_ENV: 'production' } });
    try {
      const response = await fetch(server.url, { headers: { accept: 'text/html' } });
      expect(await response.text()).not.toMatch(/<html/i);
    } finally {
      await server.close();
    }
  });
});

describe.runIf(existsSync(CHROMIUM) || process.env.CI === 'true')('GraphiQL in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  beforeAll(async () => {
    server = await startTestServer({ env: { AUTO_TRAIN_DISABLED: 'true' } });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('runs under its CSP, loads the schema once a key is typed, carries the key to new tabs, stores no header', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy|Refused/.test(message.text())) problems.push(message.text());
    });
    const sentKeys: Array<string | undefined> = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url() === server.url) sentKeys.push(request.headers()['x-api-key']);
    });
    await page.goto(server.url);
    await page.waitForSelector('.graphiql-container', { timeout: 30_000 });
    // Without a key the schema cannot load (introspection needs the key).
    await page.getByText('Headers', { exact: true }).click();
    const headersEditor = page.locator('.graphiql-editor-tool .monaco-editor').last();
    await headersEditor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    // As pasted: typing would meet the editor's auto-closed quotes and braces.
    await page.keyboard.insertText(`{"x-api-key": "${server.apiKey}"}`);
    // The schema arrives without pressing re-fetch: the documentation explorer lists Query.
    await page.locator('[aria-label="Show Documentation Explorer"]').click();
    await page.getByText('Query', { exact: true }).first().waitFor({ timeout: 15_000 });
    expect(sentKeys).toContain(server.apiKey);

    // A new tab starts with empty headers, yet its requests carry the session's key.
    await page.locator('[aria-label="New tab"]').click();
    await page.locator('.graphiql-query-editor .monaco-editor').last().click();
    await page.keyboard.insertText('{ indexes }');
    const before = sentKeys.length;
    await page.locator('[aria-label="Execute query (Ctrl-Enter)"]').click();
    await expect.poll(() => sentKeys.length, { timeout: 10_000 }).toBeGreaterThan(before);
    expect(sentKeys.slice(before)).toEqual(sentKeys.slice(before).map(() => server.apiKey));

    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    expect(stored).not.toContain(server.apiKey);
    expect(problems).toEqual([]);
    await page.close();
  });
});

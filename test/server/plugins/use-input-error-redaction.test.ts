// useInputErrorRedaction(): a value the schema refuses is described by where it is and what is
// wrong with it, never echoed: not in variables, not in literals, over HTTP and over WebSockets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateIndexDocument, UpsertDocument } from '../../generated/graphql.js';
import { newIndexKey, startTestServer, type TestServer } from '../harness.js';

interface Answer {
  status: number;
  text: string;
  messages: string[];
}

describe('input errors on the real server', () => {
  let server: TestServer;
  const key = newIndexKey();
  beforeAll(async () => {
    server = await startTestServer({ env: { AUTO_TRAIN_DISABLED: 'true' } });
    await server.request(CreateIndexDocument, { name: 'docs', key, dimension: 3 });
  });
  afterAll(async () => {
    await server.close();
  });

  async function post(query: string, variables: Record<string, unknown> = {}): Promise<Answer> {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', 'x-api-key': server.apiKey },
      body: JSON.stringify({ query, variables }),
    });
    const text = await response.text();
    const body = JSON.parse(text) as { errors?: Array<{ message: string }>; data?: unknown };
    const messages = [...(body.errors ?? []).map((e) => e.message), ...[...JSON.stringify(body.data ?? null).matchAll(/"message":"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!)];
    return { status: response.status, text, messages };
  }

  const upsert = 'mutation($key: IndexKey!, $items: [ItemInput!]!) { upsert(index: "docs", key: $key, items: $items) { __typename ... on Error { message } } }';
  const item = (id: unknown, vector: unknown, extra: Record<string, unknown> = {}) => ({ id, vector, ...extra });

  it('names the length of a malformed hex key, never the key (62 hex characters would give back 31 of its 32 bytes)', async () => {
    const real = Buffer.from(newIndexKey(), 'base64').toString('hex');
    for (const [malformed, problem] of [
      [real.slice(0, 62), /decodes to 31 bytes; an index key is 32/],
      [real.slice(0, 32), /decodes to 16 bytes; an index key is 32/],
      [Buffer.from(real, 'hex').subarray(0, 16).toString('base64'), /decodes to 16 bytes; an index key is 32/],
      [`${real.slice(0, 60)}zz!!`, /neither base64 nor hex/],
    ] as const) {
      const answer = await post('query($key: IndexKey!) { index(name: "docs", key: $key) { __typename } }', { key: malformed });
      expect(answer.status).toBe(400);
      expect(answer.messages.join('\n')).toMatch(problem);
      expect(answer.messages.join('\n')).toMatch(/\$key/);
      expect(answer.text).not.toContain(malformed.slice(0, 16));
    }
  });

  it('does not echo a malformed key written as a literal in the query', async () => {
    const malformed = newIndexKey().slice(0, 30);
    const answer = await post(`{ index(name: "docs", key: "${malformed}") { __typename } }`);
    expect(answer.status).toBe(400);
    expect(answer.messages.join('\n')).toMatch(/decodes to 22 bytes/);
    expect(answer.text).not.toContain(malformed);
  });

  it('does not echo literals the schema refuses (enum values, strings where numbers go), nor suggest', async () => {
    for (const query of [
      `{ items(index: "docs", key: "${key}", ids: ["a"], include: [CONTENT_SECRET]) { __typename } }`,
      `{ items(index: "docs", key: "${key}", ids: [{ SECRET: 1 }]) { __typename } }`,
      `{ search(index: "docs", key: "${key}", vector: [1, 2, 3], topK: "SECRET") { __typename } }`,
      `{ search(index: "docs", key: "${key}", vector: [1, 2, 3], filter: ["SECRET"]) { __typename } }`,
    ]) {
      const answer = await post(query);
      expect(answer.status, query).toBe(400);
      expect(answer.text, query).not.toMatch(/SECRET/);
      expect(answer.text, query).not.toMatch(/did you mean/i);
    }
  });

  it('points at items[3].vector[7] and says what is wrong, without the value', async () => {
    const items = [0, 1, 2, 3].map((i) => item(`doc-${i}`, [0.1, 0.2, 0.3]));
    const vector = [0, 0, 0, 0, 0, 0, 0, 'SECRET-COMPONENT', 0];
    items[3] = item('doc-3', vector);
    const answer = await post(upsert, { key, items });
    expect(answer.status).toBe(400);
    expect(answer.messages.join('\n')).toMatch(/items\[3\]\.vector\[7\]/);
    expect(answer.messages.join('\n')).toMatch(/not a finite number/);
    expect(answer.text).not.toContain('SECRET-COMPONENT');
  });

  it('does not echo an id, a content or a metadata value the schema refuses', async () => {
    for (const [bad, where] of [
      [item({ secret: 'SECRET-ID' }, [1, 2, 3]), /items\[0\]\.id/],
      [item('doc', [1, 2, 3], { contents: { secret: 'SECRET-CONTENTS' } }), /items\[0\]\.contents/],
      [item('doc', [1, 2, 3], { metadata: ['SECRET-METADATA'] }), /items\[0\]\.metadata/],
      [item('doc', 'SECRET+VECTOR==='), /items\[0\]\.vector/],
      [{ id: 'doc', vector: [1, 2, 3], SECRETFIELD: 1 }, /items\[0\]/],
    ] as const) {
      const answer = await post(upsert, { key, items: [bad] });
      expect(answer.status).toBe(400);
      expect(answer.messages.join('\n')).toMatch(where);
      expect(answer.text).not.toMatch(/SECRET/);
    }
  });

  it('does not echo an enum value, nor suggest one', async () => {
    const answer = await post('query($key: IndexKey!, $include: [ItemField!]) { items(index: "docs", key: $key, ids: ["a"], include: $include) { __typename } }', {
      key,
      include: ['CONTENT_SECRET'],
    });
    expect(answer.status).toBe(400);
    expect(answer.messages.join('\n')).toMatch(/include\[0\].*ItemField/);
    expect(answer.text).not.toContain('CONTENT_SECRET');
    expect(answer.text).not.toMatch(/did you mean/i);
  });

  it('does not echo ids, components or metadata in the service’s typed errors either', async () => {
    const answers = [
      await post(upsert, { key, items: [item('SECRET-DUP', [1, 2, 3]), item('SECRET-DUP', [1, 2, 3])] }),
      await post(upsert, { key, items: [item('SECRET-ID', [1, 2, 1e20])] }),
      await post(upsert, { key, items: [item('SECRET-ID', [1, 2, 3], { metadata: { SECRETKEY: { deeper: 'x'.repeat(70_000) } } })] }),
    ];
    expect(answers[0]!.messages.join('\n')).toMatch(/items\[1\]\.id.*items\[0\]/);
    expect(answers[1]!.messages.join('\n')).toMatch(/items\[0\]\.vector\[2\]/);
    expect(answers[2]!.messages.join('\n')).toMatch(/items\[0\]\.metadata/);
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.text).toMatch(/ValidationError/);
      expect(answer.text).not.toMatch(/SECRET|1e\+?20|100000000000000000000/);
    }
  });

  it('redacts over WebSockets too', async () => {
    const client = server.wsClient();
    const malformed = Buffer.from(newIndexKey(), 'base64').toString('hex').slice(0, 62);
    const result = await new Promise<unknown>((resolve) => {
      client.subscribe(
        { query: 'subscription($key: IndexKey!) { trainingStatus(index: "docs", key: $key) { __typename } }', variables: { key: malformed } },
        { next: resolve, error: resolve, complete: () => resolve(null) },
      );
    });
    const text = JSON.stringify(result);
    expect(text).toMatch(/decodes to 31 bytes/);
    expect(text).not.toContain(malformed.slice(0, 16));
  });

  it('keeps good requests working', async () => {
    const answer = await server.request(UpsertDocument, { index: 'docs', key, items: [{ id: 'fine', vector: [1, 2, 3], metadata: { a: 1 } }] });
    expect(answer.body.data?.upsert.__typename).toBe('UpsertSuccess');
  });
});

// useHiddenSuggestions(): no answer suggests a schema name, whatever the form of the suggestion.
import { createSchema, createYoga } from 'graphql-yoga';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_QUERY_LIMITS, useLimits } from '../../../src/server/plugins/use-limits.js';
import { SUGGESTION_MASK, useHiddenSuggestions } from '../../../src/server/plugins/use-hidden-suggestions.js';
import { newIndexKey, startTestServer, type TestServer } from '../harness.js';

const schema = createSchema({
  typeDefs: 'enum Field { CONTENTS VECTOR } type Query { pick(field: Field): String, fields(fields: [Field!]): String }',
  resolvers: { Query: { pick: () => 'ok', fields: () => 'ok' } },
});

async function answer(yoga: ReturnType<typeof createYoga>, query: string, variables?: Record<string, unknown>): Promise<string> {
  const response = await yoga.fetch(new Request('http://localhost/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) }));
  return response.text();
}

const typos = [
  ['an enum literal', '{ pick(field: CONTENT) }', undefined],
  ['an enum variable', 'query($f: Field) { pick(field: $f) }', { f: 'CONTENT' }],
  ['an enum variable in a list', 'query($f: [Field!]) { fields(fields: $f) }', { f: ['VECTOR', 'CONTENT'] }],
  ['a field name', '{ pik(field: CONTENTS) }', undefined],
] as const;

describe('useHiddenSuggestions beside graphql-armor', () => {
  const yoga = createYoga({ schema, logging: false, plugins: [useLimits(DEFAULT_QUERY_LIMITS), useHiddenSuggestions()] });

  it.each(typos)('masks the suggestion for %s', async (_what, query, variables) => {
    const text = await answer(yoga, query, variables);
    expect(text).toMatch(/errors/);
    expect(text).not.toMatch(/did you mean/i);
    expect(text).not.toMatch(/"CONTENTS"|"pick"/);
  });

  it('leaves other errors as they are', async () => {
    expect(await answer(yoga, '{ pick(field: CONTENTS) pick(field: VECTOR) }')).toMatch(/conflict/);
    expect(SUGGESTION_MASK).toBe('[Suggestion hidden]');
  });
});

describe('suggestions on the real server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { AUTO_TRAIN_DISABLED: 'true' } });
  });
  afterAll(async () => {
    await server.close();
  });

  it('never says "Did you mean" about enum values', async () => {
    const key = newIndexKey();
    for (const [query, variables] of [
      [`{ items(index: "x", key: "${key}", ids: ["a"], include: [CONTENT]) { __typename } }`, {}],
      ['query($k: IndexKey!, $i: [ItemField!]) { items(index: "x", key: $k, ids: ["a"], include: $i) { __typename } }', { k: key, i: ['CONTENT'] }],
    ] as const) {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': server.apiKey },
        body: JSON.stringify({ query, variables }),
      });
      const text = await response.text();
      expect(text).toMatch(/ItemField/);
      expect(text).not.toMatch(/did you mean|CONTENTS/i);
    }
  });
});

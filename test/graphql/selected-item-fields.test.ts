// The selection set decides which payload fields the service fetches: executed against the real
// schema and a real service (SQLite), through fragments, inline fragments, aliases and @include,
// for search, searchBatch and items; and the deprecated `include` never overrides the selection.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ExecutionResult, execute, graphql, parse } from 'graphql';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { IndexCipher } from '../../src/crypto/index-cipher.js';
import type { GraphQLContext } from '../../src/graphql/context.js';
import { schema } from '../../src/graphql/schema/index.js';
import { createIndexService } from '../../src/service/create-index-service.js';
import type { CipherdexIndexService } from '../../src/service/index-service.js';
import type { ItemField, SearchResults } from '../../src/service/index.js';

const key = randomBytes(32).toString('base64');
const dir = mkdtempSync(join(tmpdir(), 'cipherdex-selection-'));
let service: CipherdexIndexService;
let context: GraphQLContext;

beforeAll(async () => {
  service = await createIndexService(loadConfig({ CIPHERDEX_DATA_DIR: dir, AUTO_TRAIN_DISABLED: 'true' }));
  context = { service, server: { version: 'test', startedAt: Date.now(), store: 'sqlite' } };
  await service.createIndex('docs', key, { dimension: 2 });
  await service.upsert('docs', key, [
    { id: 'a', vector: [0, 0], contents: 'alpha', metadata: { n: 1 } },
    { id: 'b', vector: [1, 1], contents: 'beta', metadata: { n: 2 } },
  ]);
});

afterAll(async () => {
  await service.close();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Runs a document; returns its data and the field lists the service was asked to fetch. */
async function run(source: string, variableValues: Record<string, unknown> = {}) {
  // spyOn returns the existing spy on a second call: clear what earlier runs recorded.
  const searched = vi.spyOn(service, 'search').mockClear();
  const got = vi.spyOn(service, 'get').mockClear();
  const result = (await graphql({ schema, source, contextValue: context, variableValues: { key, ...variableValues } })) as ExecutionResult<Record<string, never>>;
  expect(result.errors).toBeUndefined();
  const asked: (ItemField[] | undefined)[] = [
    ...searched.mock.calls.map(([, , , options]) => options?.include),
    ...got.mock.calls.map(([, , , include]) => include),
  ];
  return { data: result.data!, asked };
}

const SEARCH = (selection: string, extra = '') =>
  `query($key: IndexKey! ${extra}) { search(index: "docs", key: $key, vector: [0, 0], topK: 2) { ... on SearchResults { hits { ${selection} } } } }`;

describe('search', () => {
  it.each<[string, ItemField[]]>([
    ['id distance', []],
    ['id vector', ['vector']],
    ['id contents', ['contents']],
    ['id metadata', ['metadata']],
    ['id vector contents', ['vector', 'contents']],
    ['id vector metadata', ['vector', 'metadata']],
    ['id contents metadata', ['contents', 'metadata']],
    ['id metadata contents vector', ['vector', 'contents', 'metadata']],
  ])('selecting %s fetches exactly %j', async (selection, fields) => {
    const { data, asked } = await run(SEARCH(selection));
    expect(asked).toEqual([fields]);
    const [hit] = (data.search as { hits: Record<string, unknown>[] }).hits;
    for (const field of ['vector', 'contents', 'metadata'] as const) {
      if (fields.includes(field)) expect(hit![field]).not.toBeNull();
      else expect(hit).not.toHaveProperty(field);
    }
  });

  it('a search selecting only id and distance decrypts nothing and returns hits without payload', async () => {
    const opened = vi.spyOn(IndexCipher.prototype, 'open');
    const searched = vi.spyOn(service, 'search');
    await run(SEARCH('id distance'));
    expect(opened).not.toHaveBeenCalled();
    const [results] = (await searched.mock.results[0]!.value) as SearchResults[];
    for (const hit of results!.hits) expect(Object.keys(hit).sort()).toEqual(['distance', 'id']);
  });

  it('sees fields through named fragments, inline fragments, aliases and nested spreads', async () => {
    const source = `
      query($key: IndexKey!) {
        first: search(index: "docs", key: $key, vector: [0, 0]) { ...Found }
      }
      fragment Found on SearchResult { ... on SearchResults { top: hits { id ...HitText } } ... on Error { message } }
      fragment HitText on SearchHit { text: contents ... on SearchHit { meta: metadata } }`;
    const { data, asked } = await run(source);
    expect(asked).toEqual([['contents', 'metadata']]);
    expect((data.first as { top: unknown[] }).top[0]).toEqual({ id: 'a', text: 'alpha', meta: { n: 1 } });
  });

  it('gathers every alias of the same field, and honours @skip and @include with variables', async () => {
    const source = SEARCH('id v: vector @include(if: $withVector) m: metadata @skip(if: $noMetadata)', ', $withVector: Boolean!, $noMetadata: Boolean!');
    expect((await run(source, { withVector: false, noMetadata: true })).asked).toEqual([[]]);
    expect((await run(source, { withVector: true, noMetadata: false })).asked).toEqual([['vector', 'metadata']]);
    const twice = `query($key: IndexKey!) {
      a: search(index: "docs", key: $key, vector: [0, 0]) { ... on SearchResults { hits { id } } }
      b: search(index: "docs", key: $key, vector: [0, 0]) { ... on SearchResults { hits { contents } } } }`;
    expect((await run(twice)).asked).toEqual([[], ['contents']]);
  });

  it('answers the same parsed document run again (as the parser cache hands it out) as the first time, @include included', async () => {
    const runParsed = async (document: ReturnType<typeof parse>, variableValues: Record<string, unknown> = {}) => {
      const searched = vi.spyOn(service, 'search').mockClear();
      const result = (await execute({ schema, document, contextValue: context, variableValues: { key, ...variableValues } })) as ExecutionResult;
      expect(result.errors).toBeUndefined();
      return searched.mock.calls.map(([, , , options]) => options?.include);
    };
    const plain = parse(`query($key: IndexKey!) {
      a: search(index: "docs", key: $key, vector: [0, 0]) { ...Hits }
      b: search(index: "docs", key: $key, vector: [0, 0]) { ... on SearchResults { hits { vector } } } }
      fragment Hits on SearchResults { hits { contents } }`);
    for (let i = 0; i < 3; i++) expect(await runParsed(plain)).toEqual([['contents'], ['vector']]);
    const conditional = parse(SEARCH('id v: vector @include(if: $withVector)', ', $withVector: Boolean!'));
    for (const withVector of [false, true, false, true]) expect(await runParsed(conditional, { withVector })).toEqual([withVector ? ['vector'] : []]);
    // A directive in a fragment counts as much as one in the operation.
    const inFragment = parse(`query($key: IndexKey!, $withVector: Boolean!) { search(index: "docs", key: $key, vector: [0, 0]) { ...Hits } }
      fragment Hits on SearchResults { hits { id vector @include(if: $withVector) } }`);
    for (const withVector of [true, false, true]) expect(await runParsed(inFragment, { withVector })).toEqual([withVector ? ['vector'] : []]);
  });

  it('ignores the deprecated include whenever it disagrees with the selection', async () => {
    const includedNotSelected = await run(`query($key: IndexKey!) { search(index: "docs", key: $key, vector: [0, 0], include: [VECTOR, METADATA]) { ... on SearchResults { hits { id } } } }`);
    expect(includedNotSelected.asked).toEqual([[]]);
    const selectedNotIncluded = await run(`query($key: IndexKey!) { search(index: "docs", key: $key, vector: [0, 0], include: []) { ... on SearchResults { hits { id metadata } } } }`);
    expect(selectedNotIncluded.asked).toEqual([['metadata']]);
    expect((selectedNotIncluded.data.search as { hits: unknown[] }).hits[0]).toEqual({ id: 'a', metadata: { n: 1 } });
  });

  it('marks include deprecated in the schema with the rule', () => {
    const include = schema.getQueryType()!.getFields().search!.args.find((arg) => arg.name === 'include')!;
    expect(include.deprecationReason).toMatch(/selection set decides/);
    expect(include.deprecationReason).toMatch(/ignored/);
  });
});

describe('searchBatch and items', () => {
  it('searchBatch fetches what its nested hits select', async () => {
    const source = `query($key: IndexKey!) { searchBatch(index: "docs", key: $key, vectors: [[0, 0], [1, 1]]) {
      ... on SearchBatchResults { results { exact hits { id vector } } } } }`;
    const { data, asked } = await run(source);
    expect(asked).toEqual([['vector']]);
    const results = (data.searchBatch as { results: { hits: { id: string; vector: number[] }[] }[] }).results;
    expect(results.map((result) => result.hits[0])).toEqual([
      { id: 'a', vector: [0, 0] },
      { id: 'b', vector: [1, 1] },
    ]);
  });

  it('items fetches only what is selected, whatever include says', async () => {
    const { data, asked } = await run(`query($key: IndexKey!) { items(index: "docs", key: $key, ids: ["b"], include: [VECTOR]) { ... on ItemList { items { id contents } } } }`);
    expect(asked).toEqual([['contents']]);
    expect((data.items as { items: unknown[] }).items).toEqual([{ id: 'b', contents: 'beta' }]);
    expect((await run(`query($key: IndexKey!) { items(index: "docs", key: $key, ids: ["b"]) { ... on ItemList { items { id } } } }`)).asked).toEqual([[]]);
  });

  it('asks for nothing when only the error branch is selected', async () => {
    const { asked } = await run(`query($key: IndexKey!) { items(index: "docs", key: $key, ids: ["a"]) { __typename ... on Error { message } } }`);
    expect(asked).toEqual([[]]);
  });
});

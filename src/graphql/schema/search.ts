// Search: one query (`search`) or many at once (`searchBatch`), each a vector, a keyword text
// (indexes created with textSearch), or both fused into one ranking; with optional metadata
// filter. Untrained indexes answer vector queries exactly; trained ones probe `nProbes` lists.
// Each hit carries the payload fields its selection set asks for, and only those are fetched.

import { DEFAULT_RERANK_MULT, DimensionMismatchError, FUSIONS, IncompatibleIndexError, InsufficientResourcesError, ItemsNotFoundError } from '../../service/index.js';
import type { SearchHit, SearchOptions, SearchResults } from '../../service/index.js';
import type { GraphQLResolveInfo } from 'graphql';
import { builder } from '../builder.js';
import { selectedItemFields } from '../selected-item-fields.js';
import { enumValuesOf } from './enum-values.js';
import { indexAccessErrors } from './errors.js';
import { FILTER_DESCRIPTION } from './filter-description.js';
import { indexArgs } from './index-args.js';
import { deprecatedIncludeArgs } from './items.js';

const SEARCH_HIT = 'SearchHit';

const SearchHitRef = builder.objectRef<SearchHit>(SEARCH_HIT).implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    distance: t.exposeFloat('distance', {
      nullable: true,
      description: "Distance under the index's metric; smaller is nearer. Null for a hit only the keyword search found.",
    }),
    score: t.exposeFloat('score', {
      nullable: true,
      description: 'With text: the fused score, higher is better (the BM25 score on a text-only query). Null on a vector-only query.',
    }),
    textScore: t.exposeFloat('textScore', { nullable: true, description: 'With text: the BM25 score; null for a hit only the vector search found.' }),
    contents: t.exposeString('contents', { nullable: true, description: 'Null when the item has none. Fetched and decrypted only when selected.' }),
    metadata: t.expose('metadata', { type: 'JSON', nullable: true, description: 'Null when the item has none. Fetched and decrypted only when selected.' }),
    vector: t.expose('vector', { type: 'Vector', nullable: true, description: 'Fetched and decrypted only when selected.' }),
  }),
});

const SearchResultsRef = builder.objectRef<SearchResults>('SearchResults').implement({
  fields: (t) => ({
    hits: t.field({ type: [SearchHitRef], description: 'Nearest first.', resolve: (results) => results.hits }),
    exact: t.exposeBoolean('exact', { description: 'True when the answer came from a full scan (untrained index, or every list probed). On a trained IVF_SQ8 or IVF_PQ index that is a scan of every code, re-ranked as rerankMult says: not a guaranteed brute force.' }),
    approximate: t.exposeBoolean('approximate', {
      description: 'True when the distances are code distances, not exact: rerankMult 0 on a trained IVF_SQ8 or IVF_PQ index.',
    }),
  }),
});

const SearchBatchResultsRef = builder.objectRef<{ results: SearchResults[] }>('SearchBatchResults').implement({
  fields: (t) => ({
    results: t.field({ type: [SearchResultsRef], description: 'One per query vector, in order.', resolve: (batch) => batch.results }),
  }),
});

const FusionEnum = builder.enumType('Fusion', {
  description: 'How a hybrid query merges its vector and keyword rankings (as Weaviate defines them).',
  values: enumValuesOf(FUSIONS, {
    rrf: 'Reciprocal rank fusion: weight / (60 + rank), rank from 0, summed over both rankings.',
    relative_score: "Each ranking's scores min-max normalised to 0..1, then alpha × vector + (1 − alpha) × keyword.",
  }),
});

const searchOptionArgs = builder.args((t) => ({
  topK: t.int({ defaultValue: 10, description: 'Hits to return per query vector.' }),
  nProbes: t.int({ description: 'Lists to scan on a trained index; the service chooses when absent.' }),
  rerankMult: t.int({
    description: `Trained IVF_SQ8 and IVF_PQ indexes re-rank the best rerankMult x topK candidates of the code scan on their exact vectors (${DEFAULT_RERANK_MULT.ivf_sq8} on IVF_SQ8 and ${DEFAULT_RERANK_MULT.ivf_pq} on IVF_PQ when absent); 0 returns code distances, marked approximate. IVF_FLAT ignores it.`,
  }),
  filter: t.field({ type: 'JSON', description: FILTER_DESCRIPTION }),
  ...deprecatedIncludeArgs,
  alpha: t.float({ defaultValue: 0.5, description: 'Weight of the vector ranking in a hybrid query: 1 is pure vector, 0 pure keyword.' }),
  fusion: t.field({ type: FusionEnum, defaultValue: 'rrf', description: 'How a hybrid query merges its two rankings.' }),
  maxDistance: t.float({ description: 'No hit farther than this (fewer than topK hits when few are this near).' }),
  exact: t.boolean({ description: 'Scan every item, whatever the training state (not with nProbes). A trained IVF_SQ8 or IVF_PQ index scans every code and re-ranks its best rerankMult x topK on the exact vectors; only IVF_FLAT (or an untrained index) compares the query with every vector.' }),
  nearItem: t.id({ description: 'Search near this item instead of a given vector or text; the item itself is left out of the hits.' }),
}));

const searchErrors = [...indexAccessErrors, DimensionMismatchError, IncompatibleIndexError, ItemsNotFoundError, InsufficientResourcesError];

type SearchOptionArgs = {
  topK?: number | null;
  nProbes?: number | null;
  rerankMult?: number | null;
  filter?: unknown;
  alpha?: number | null;
  fusion?: 'rrf' | 'relative_score' | null;
  maxDistance?: number | null;
  exact?: boolean | null;
  nearItem?: string | number | null;
};

function searchOptions(args: SearchOptionArgs, texts: (string | null)[] | null, info: GraphQLResolveInfo): SearchOptions {
  return {
    topK: args.topK ?? undefined,
    nProbes: args.nProbes ?? undefined,
    rerankMult: args.rerankMult ?? undefined,
    filter: args.filter as SearchOptions['filter'],
    include: selectedItemFields(info, SEARCH_HIT),
    texts,
    alpha: args.alpha ?? undefined,
    fusion: args.fusion ?? undefined,
    maxDistance: args.maxDistance,
    exact: args.exact,
    nearItem: args.nearItem === null || args.nearItem === undefined ? null : String(args.nearItem),
  };
}

builder.queryField('search', (t) =>
  t.field({
    type: SearchResultsRef,
    errors: { types: searchErrors },
    args: {
      ...indexArgs,
      vector: t.arg({ type: 'Vector', description: 'The query vector; may be left out when `text` or `nearItem` is given.' }),
      text: t.arg.string({ description: 'Keyword query (BM25 over contents and the textFields); needs an index created with textSearch.' }),
      ...searchOptionArgs,
    },
    resolve: async (_root, args, { service }, info) => {
      const vectors = args.vector === null || args.vector === undefined ? null : [args.vector];
      const texts = args.text === null || args.text === undefined ? null : [args.text];
      const [results] = await service.search(args.index, args.key, vectors, searchOptions(args, texts, info));
      return results;
    },
  }),
);

builder.queryField('searchBatch', (t) =>
  t.field({
    type: SearchBatchResultsRef,
    errors: { types: searchErrors },
    args: {
      ...indexArgs,
      vectors: t.arg({ type: ['Vector'], description: 'Query vectors; may be left out when `texts` or `nearItem` (one result) is given.' }),
      texts: t.arg({
        type: ['String'],
        required: { list: false, items: false },
        description: 'Keyword queries, one per query vector when both are given (null: that query is vector only).',
      }),
      ...searchOptionArgs,
    },
    resolve: async (_root, args, { service }, info) => ({
      results: await service.search(args.index, args.key, args.vectors ?? null, searchOptions(args, args.texts?.map((text) => text ?? null) ?? null, info)),
    }),
  }),
);

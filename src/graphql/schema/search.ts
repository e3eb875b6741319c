// Vector search: one query vector (`search`) or many at once (`searchBatch`), with optional
// metadata filter. Untrained indexes answer exactly; trained ones probe `nProbes` lists. Each hit
// carries the payload fields its selection set asks for, and only those are fetched.

import { DimensionMismatchError } from '../../service/index.js';
import type { SearchHit, SearchResults } from '../../service/index.js';
import { builder } from '../builder.js';
import { selectedItemFields } from '../selected-item-fields.js';
import { indexAccessErrors } from './errors.js';
import { indexArgs } from './index-args.js';
import { deprecatedIncludeArgs } from './items.js';

const SEARCH_HIT = 'SearchHit';

const SearchHitRef = builder.objectRef<SearchHit>(SEARCH_HIT).implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    distance: t.exposeFloat('distance', { description: "Distance under the index's metric; smaller is nearer." }),
    contents: t.exposeString('contents', { nullable: true, description: 'Null when the item has none. Fetched and decrypted only when selected.' }),
    metadata: t.expose('metadata', { type: 'JSON', nullable: true, description: 'Null when the item has none. Fetched and decrypted only when selected.' }),
    vector: t.expose('vector', { type: 'Vector', nullable: true, description: 'Fetched and decrypted only when selected.' }),
  }),
});

const SearchResultsRef = builder.objectRef<SearchResults>('SearchResults').implement({
  fields: (t) => ({
    hits: t.field({ type: [SearchHitRef], description: 'Nearest first.', resolve: (results) => results.hits }),
    exact: t.exposeBoolean('exact', { description: 'True when the answer came from a full scan (untrained index, or every list probed).' }),
  }),
});

const SearchBatchResultsRef = builder.objectRef<{ results: SearchResults[] }>('SearchBatchResults').implement({
  fields: (t) => ({
    results: t.field({ type: [SearchResultsRef], description: 'One per query vector, in order.', resolve: (batch) => batch.results }),
  }),
});

const searchOptionArgs = builder.args((t) => ({
  topK: t.int({ defaultValue: 10, description: 'Hits to return per query vector.' }),
  nProbes: t.int({ description: 'Lists to scan on a trained index; the service chooses when absent.' }),
  filter: t.field({ type: 'JSON', description: 'MongoDB-style metadata filter: $eq $ne $gt $gte $lt $lte $in $nin $exists $and $or, dotted paths.' }),
  ...deprecatedIncludeArgs,
}));

const searchErrors = [...indexAccessErrors, DimensionMismatchError];

builder.queryField('search', (t) =>
  t.field({
    type: SearchResultsRef,
    errors: { types: searchErrors },
    args: { ...indexArgs, vector: t.arg({ type: 'Vector', required: true }), ...searchOptionArgs },
    resolve: async (_root, args, { service }, info) => {
      const [results] = await service.search(args.index, args.key, [args.vector], {
        topK: args.topK ?? undefined,
        nProbes: args.nProbes ?? undefined,
        filter: args.filter,
        include: selectedItemFields(info, SEARCH_HIT),
      });
      return results;
    },
  }),
);

builder.queryField('searchBatch', (t) =>
  t.field({
    type: SearchBatchResultsRef,
    errors: { types: searchErrors },
    args: { ...indexArgs, vectors: t.arg({ type: ['Vector'], required: true }), ...searchOptionArgs },
    resolve: async (_root, args, { service }, info) => ({
      results: await service.search(args.index, args.key, args.vectors, {
        topK: args.topK ?? undefined,
        nProbes: args.nProbes ?? undefined,
        filter: args.filter,
        include: selectedItemFields(info, SEARCH_HIT),
      }),
    }),
  }),
);

// Vector search: one query vector (`search`) or many at once (`searchBatch`), with optional
// metadata filter. Untrained indexes answer exactly; trained ones probe `nProbes` lists.

import { DimensionMismatchError } from '../../service/index.js';
import type { SearchHit, SearchResults } from '../../service/index.js';
import { builder } from '../builder.js';
import { indexAccessErrors } from './errors.js';
import { indexArgs } from './index-args.js';
import { ItemFieldEnum } from './items.js';

const SearchHitRef = builder.objectRef<SearchHit>('SearchHit').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    distance: t.exposeFloat('distance', { description: "Distance under the index's metric; smaller is nearer." }),
    contents: t.exposeString('contents', { nullable: true, description: 'Present when CONTENTS was included.' }),
    metadata: t.expose('metadata', { type: 'JSON', nullable: true, description: 'Present when METADATA was included.' }),
    vector: t.expose('vector', { type: 'Vector', nullable: true, description: 'Present when VECTOR was included.' }),
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
  include: t.field({ type: [ItemFieldEnum], description: 'What each hit carries besides id and distance.' }),
}));

const searchErrors = [...indexAccessErrors, DimensionMismatchError];

builder.queryField('search', (t) =>
  t.field({
    type: SearchResultsRef,
    errors: { types: searchErrors },
    args: { ...indexArgs, vector: t.arg({ type: 'Vector', required: true }), ...searchOptionArgs },
    resolve: async (_root, args, { service }) => {
      const [results] = await service.search(args.index, args.key, [args.vector], {
        topK: args.topK ?? undefined,
        nProbes: args.nProbes ?? undefined,
        filter: args.filter,
        include: args.include ?? undefined,
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
    resolve: async (_root, args, { service }) => ({
      results: await service.search(args.index, args.key, args.vectors, {
        topK: args.topK ?? undefined,
        nProbes: args.nProbes ?? undefined,
        filter: args.filter,
        include: args.include ?? undefined,
      }),
    }),
  }),
);

// The indexStats subscription: an index's live activity for dashboards (vector count, upsert and
// search rates, search latency percentiles, resident memory), at most once per second.

import type { IndexStats } from '../../service/index.js';
import { builder } from '../builder.js';
import { indexAccessErrors } from './errors.js';
import { indexArgs } from './index-args.js';

const IndexStatsRef = builder.objectRef<IndexStats>('IndexStats').implement({
  description: 'An index over the last complete second. Counts and timings only: nothing about its items.',
  fields: (t) => ({
    index: t.exposeString('index'),
    vectorCount: t.exposeInt('vectorCount'),
    upsertsPerSecond: t.exposeFloat('upsertsPerSecond', { description: 'Items upserted.' }),
    searchesPerSecond: t.exposeFloat('searchesPerSecond', { description: 'Query vectors searched (a searchBatch of n counts n).' }),
    searchP50Ms: t.exposeFloat('searchP50Ms', { nullable: true, description: 'Median search call latency; null when nothing was searched.' }),
    searchP99Ms: t.exposeFloat('searchP99Ms', { nullable: true, description: '99th percentile search call latency; null when nothing was searched.' }),
    residentBytes: t.exposeFloat('residentBytes', { description: "Bytes the index holds in memory: its engine, and its keyword index when it has text search (0 while it is not loaded)." }),
    intervalMs: t.exposeInt('intervalMs'),
    at: t.expose('at', { type: 'DateTime' }),
  }),
});

builder.subscriptionField('indexStats', (t) =>
  t.field({
    type: IndexStatsRef,
    description:
      "The index's stats now, then once per second. A slow client skips to the latest value, never a backlog. A wrong key or unknown index arrives as one typed error event.",
    errors: { types: indexAccessErrors },
    args: indexArgs,
    subscribe: (_root, args, { service }) => service.indexStats(args.index, args.key),
    resolve: (stats) => stats,
  }),
);

// Automatic persisted queries (Apollo's APQ protocol, also urql's persistedExchange): a client
// sends the SHA-256 of its query, and the query text only when the server answers
// PERSISTED_QUERY_NOT_FOUND. Queries may then travel as short HTTP GETs; mutations never run
// over GET (yoga answers 405, whether the text came in the request or from this store).
// The hash check and protocol are @graphql-yoga/plugin-apq's; this file bounds the store and
// keeps shared caches from storing answers to GET.
//
// Order matters: this plugin sits after the API-key check, which strips a keyless caller's
// extensions, so only authenticated callers register or look up hashes; the persisted text is
// then parsed and validated like any other, under the same graphql-armor limits.

import { type APQStore, useAPQ } from '@graphql-yoga/plugin-apq';
import type { Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';

export interface PersistedQueryLimits {
  /** Queries kept at most (least recently used dropped first). */
  maxEntries: number;
  /** Longer query texts are answered but not kept: the client simply sends them again. */
  maxQueryChars: number;
  /** Sum of the texts kept, in characters. */
  maxTotalChars: number;
  /** A query unused this long is forgotten. */
  ttlMs: number;
}

/** About 2,000 tokens (the armor limit) fit comfortably in 64 K characters; 16 M in all. */
export const DEFAULT_PERSISTED_QUERY_LIMITS: PersistedQueryLimits = {
  maxEntries: 1000,
  maxQueryChars: 64 * 1024,
  maxTotalChars: 16 * 1024 * 1024,
  ttlMs: 60 * 60 * 1000,
};

/**
 * An in-memory store bounded by count and by size: requests may be as large as MAX_REQUEST_BYTES,
 * and without a size bound a few keyed clients could park gigabytes of query text here. Each
 * replica keeps its own; a miss on another replica costs the client one resend.
 */
export function createPersistedQueryStore(limits: PersistedQueryLimits = DEFAULT_PERSISTED_QUERY_LIMITS): APQStore {
  const cache = new LRUCache<string, string>({
    max: limits.maxEntries,
    maxSize: limits.maxTotalChars,
    maxEntrySize: limits.maxQueryChars,
    sizeCalculation: (query) => Math.max(1, query.length),
    ttl: limits.ttlMs,
    updateAgeOnGet: true,
  });
  return {
    get: (hash) => cache.get(hash),
    set: (hash, query) => {
      cache.set(hash, query);
    },
  };
}

/**
 * GET answers are marked uncacheable: every answer is one tenant's data (decrypted), fetched with
 * an API key a shared cache cannot see in its cache key, so no cache between client and server
 * may keep or replay it.
 */
export function usePersistedQueries(store: APQStore = createPersistedQueryStore()): Plugin {
  return {
    onPluginInit({ addPlugin }) {
      addPlugin(useAPQ({ store }));
    },
    onResponse({ request, response }) {
      if (request.method === 'GET' && (response.headers.get('content-type') ?? '').includes('json')) {
        response.headers.set('cache-control', 'private, no-store');
      }
    },
  };
}

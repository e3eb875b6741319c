// End to end over real HTTP: an index created with textSearch shows its text settings, answers
// text-only, hybrid (RRF and relative score) and batch queries with score and textScore, and an
// index created without it answers a text query with the typed IncompatibleIndexError.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateIndexDocument, SearchBatchDocument, SearchDocument, UpsertDocument } from '../generated/graphql.js';
import { newIndexKey, startTestServer, type TestServer } from '../server/harness.js';
import { toBase64, uniformVectors } from './vectors.js';

describe('text and hybrid search over the API', () => {
  let server: TestServer;
  const key = newIndexKey();
  const vectors = uniformVectors(30, 8, 5);
  const items = vectors.map((vector, i) => ({
    id: `note-${i}`,
    vector: toBase64(vector),
    contents: i % 5 === 0 ? `Patient note ${i}: diagnosis code E11.9, diabetes follow-up` : `Routine visit ${i}, no findings`,
    metadata: { ward: i % 2 === 0 ? 'north' : 'south', doctor: { name: i === 7 ? 'Dr. Okonkwo' : 'Dr. Smith' } },
  }));

  beforeAll(async () => {
    server = await startTestServer({ env: { AUTO_TRAIN_DISABLED: 'true' } });
    const created = await server.request(CreateIndexDocument, { name: 'notes', key, dimension: 8, textSearch: true, textFields: ['doctor.name'], textLanguage: 'ENGLISH' });
    expect(created.body.data?.createIndex).toMatchObject({ __typename: 'Index', textSearch: true, textFields: ['doctor.name'], textLanguage: 'ENGLISH' });
    const plain = await server.request(CreateIndexDocument, { name: 'plain', key, dimension: 8 });
    expect(plain.body.data?.createIndex).toMatchObject({ __typename: 'Index', textSearch: false, textFields: [], textLanguage: null });
    for (const index of ['notes', 'plain']) {
      const upserted = await server.request(UpsertDocument, { index, key, items });
      expect(upserted.body.data?.upsert).toMatchObject({ __typename: 'UpsertSuccess', upsertedCount: 30 });
    }
  });
  afterAll(async () => {
    await server.close();
  });

  it('ranks a text-only query by BM25: score and textScore set, distance null', async () => {
    const answer = await server.request(SearchDocument, { index: 'notes', key, text: 'diabetes E11.9', topK: 10, include: ['CONTENTS'] });
    const result = answer.body.data?.search;
    if (result?.__typename !== 'SearchResults') throw new Error(JSON.stringify(answer.body));
    expect(result.hits.map((hit) => hit.id).sort()).toEqual(['note-0', 'note-10', 'note-15', 'note-20', 'note-25', 'note-5']);
    for (const hit of result.hits) {
      expect(hit.contents).toContain('E11.9');
      expect(hit.distance).toBeNull();
      expect(hit.score).toBe(hit.textScore);
      expect(hit.textScore).toBeGreaterThan(0);
    }
  });

  it('searches the named metadata field', async () => {
    const answer = await server.request(SearchDocument, { index: 'notes', key, text: 'okonkwo' });
    expect(answer.body.data?.search).toMatchObject({ __typename: 'SearchResults', hits: [{ id: 'note-7' }] });
  });

  it('fuses a vector and a text, under a filter, by RRF and by relative score', async () => {
    for (const fusion of ['RRF', 'RELATIVE_SCORE'] as const) {
      const answer = await server.request(SearchDocument, {
        index: 'notes',
        key,
        vector: toBase64(vectors[3]),
        text: 'diabetes',
        alpha: 0.5,
        fusion,
        topK: 8,
        filter: { ward: 'north' },
        include: ['METADATA'],
      });
      const result = answer.body.data?.search;
      if (result?.__typename !== 'SearchResults') throw new Error(JSON.stringify(answer.body));
      expect(result.hits).toHaveLength(8);
      const scores = result.hits.map((hit) => hit.score!);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
      for (const hit of result.hits) expect(hit.metadata).toMatchObject({ ward: 'north' });
      // note-0, -10 and -20 are in the north ward and mention diabetes: both legs found them.
      expect(result.hits.filter((hit) => hit.textScore !== null && hit.distance !== null).length).toBeGreaterThan(0);
    }
  });

  it('takes texts beside vectors in searchBatch, and texts alone', async () => {
    const answer = await server.request(SearchBatchDocument, { index: 'notes', key, vectors: [toBase64(vectors[1]), toBase64(vectors[2])], texts: ['diabetes', null], topK: 3 });
    const result = answer.body.data?.searchBatch;
    if (result?.__typename !== 'SearchBatchResults') throw new Error(JSON.stringify(answer.body));
    expect(result.results[0]!.hits.every((hit) => hit.score !== null)).toBe(true);
    expect(result.results[1]!.hits[0]).toMatchObject({ id: 'note-2', distance: 0, score: null, textScore: null });
    const textsOnly = await server.request(SearchBatchDocument, { index: 'notes', key, texts: ['okonkwo', 'routine'], topK: 2 });
    expect(textsOnly.body.data?.searchBatch).toMatchObject({ __typename: 'SearchBatchResults', results: [{ hits: [{ id: 'note-7' }] }, { hits: [{}, {}] }] });
  });

  it('answers a text query on an index without textSearch with IncompatibleIndexError', async () => {
    const answer = await server.request(SearchDocument, { index: 'plain', key, vector: toBase64(vectors[0]), text: 'diabetes' });
    expect(answer.body.data?.search).toMatchObject({ __typename: 'IncompatibleIndexError', code: 'INCOMPATIBLE_INDEX' });
  });

  it('answers bad text arguments with a typed ValidationError', async () => {
    const alpha = await server.request(SearchDocument, { index: 'notes', key, text: 'diabetes', vector: toBase64(vectors[0]), alpha: 2 });
    expect(alpha.body.data?.search).toMatchObject({ __typename: 'ValidationError', argument: 'alpha', min: 0, max: 1 });
    const neither = await server.request(SearchDocument, { index: 'notes', key });
    expect(neither.body.data?.search).toMatchObject({ __typename: 'ValidationError', argument: 'vectors' });
    const fields = await server.request(CreateIndexDocument, { name: 'bad', key, dimension: 8, textFields: ['title'] });
    expect(fields.body.data?.createIndex).toMatchObject({ __typename: 'ValidationError', argument: 'textFields' });
  });
});

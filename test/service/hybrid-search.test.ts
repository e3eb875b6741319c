// Keyword and hybrid search through the service, on both stores: BM25 over contents and the named
// metadata fields equals a reference, alpha 1 and 0 reproduce the pure rankings, fusion equals a
// hand computation over the two legs, filters hold, writes and deletes change the terms at once,
// a restart rebuilds the same scores, and no term reaches the store in plaintext (sealed segment
// sets, which carry the term index, included).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IncompatibleIndexError, ValidationError } from '../../src/service/errors.js';
import type { CipherdexIndexService } from '../../src/service/index-service.js';
import { TextAnalyzer } from '../../src/service/text/analyzer.js';
import type { ItemInput, SearchHit, SearchOptions } from '../../src/service/types.js';
import { eventually } from '../support/eventually.js';
import { seededRandom, seededVectors } from './reference-search.js';
import { forEachStore, newKey, type ServiceStoreHarness } from './service-harness.js';
import { referenceBm25 } from './text/reference-bm25.js';

const DIM = 8;
/** Invented words, long enough that finding one in ciphertext by chance is impossible in practice. */
const VOCABULARY = [
  'quorvantis', 'melbrosite', 'zandequil', 'trovimbal', 'kestrelune', 'parlomethic', 'vindralux', 'osquerine',
  'belmarotic', 'fennowisp', 'gradulmere', 'hestroviak', 'ulmerandine', 'skovraline', 'drebbolique', 'nimbrastol',
];

function corpus(count: number, seed: number): ItemInput[] {
  const random = seededRandom(seed);
  const vectors = seededVectors(count, DIM, seed + 1);
  const word = () => VOCABULARY[Math.floor(VOCABULARY.length * random() ** 1.5)];
  return vectors.map((vector, i) => ({
    id: `doc-${i}`,
    vector,
    contents: Array.from({ length: 3 + Math.floor(random() * 12) }, word).join(' '),
    metadata: { title: `${word()} ${word()}`, group: i % 3, author: { name: word() } },
  }));
}

const analyzer = new TextAnalyzer();

/** The terms the index should hold for an item: contents, then the configured metadata fields. */
function termsOf(item: ItemInput): string[] {
  const metadata = item.metadata as { title: string; author: { name: string } };
  return [...analyzer.terms(item.contents ?? ''), ...analyzer.terms(metadata.title), ...analyzer.terms(metadata.author.name)];
}

function referenceRanking(items: readonly ItemInput[], text: string): { id: string; score: number }[] {
  const documents = new Map(items.map((item, i) => [i, termsOf(item)]));
  return referenceBm25(documents, analyzer.terms(text)).map(({ key, score }) => ({ id: items[key].id, score }));
}

const ids = (hits: SearchHit[]) => hits.map((hit) => hit.id);

forEachStore((fresh) => {
  let harness: ServiceStoreHarness;
  let service: CipherdexIndexService;
  const key = newKey();
  const name = 'notes';
  let items: ItemInput[];

  async function search(vector: number[] | null, options: SearchOptions) {
    const [result] = await service.search(name, key, vector === null ? null : [vector], { include: ['metadata'], ...options });
    return result;
  }

  beforeEach(async () => {
    harness = await fresh();
    service = await harness.service();
    items = corpus(120, 7);
    await service.createIndex(name, key, { dimension: DIM, textSearch: true, textFields: ['title', 'author.name'] });
    await service.upsert(name, key, items);
  });

  afterEach(async () => {
    await harness.dispose();
  });

  describe('keyword search', () => {
    it('describes the index with its text settings', async () => {
      expect(await service.describeIndex(name, key)).toMatchObject({ textSearch: true, textFields: ['title', 'author.name'], textLanguage: 'english' });
    });

    it('ranks a text-only query by BM25 over contents and the text fields, exactly as the reference', async () => {
      for (const text of ['quorvantis', 'Hestroviak NIMBRASTOL', 'the drebbolique of skovraline']) {
        const expected = referenceRanking(items, text).slice(0, 10);
        const result = await search(null, { texts: [text], topK: 10 });
        expect(result.exact).toBe(true);
        expect(ids(result.hits)).toEqual(expected.map((hit) => hit.id));
        result.hits.forEach((hit, i) => {
          expect(hit.textScore).toBeCloseTo(expected[i].score, 10);
          expect(hit.score).toBe(hit.textScore);
          expect(hit.distance).toBeNull();
        });
      }
    });

    it('finds nothing for a text of stop words only or unknown words', async () => {
      expect((await search(null, { texts: ['the and of'] })).hits).toEqual([]);
      expect((await search(null, { texts: ['unheardofword'] })).hits).toEqual([]);
    });

    it('removes the terms of deleted and updated items at once', async () => {
      const extra = { id: 'marker', vector: items[0].vector, contents: 'xylocarpine evidence', metadata: { title: 'plain', author: { name: 'nobody' } } };
      await service.upsert(name, key, [extra]);
      expect(ids((await search(null, { texts: ['xylocarpine'] })).hits)).toEqual(['marker']);
      await service.upsert(name, key, [{ ...extra, contents: 'nothing special' }]);
      expect((await search(null, { texts: ['xylocarpine'] })).hits).toEqual([]);
      await service.upsert(name, key, [{ ...extra, metadata: { title: 'xylocarpine title', author: { name: 'nobody' } } }]);
      expect(ids((await search(null, { texts: ['xylocarpine'] })).hits)).toEqual(['marker']);
      await service.delete(name, key, ['marker']);
      expect((await search(null, { texts: ['xylocarpine'] })).hits).toEqual([]);
      // Document frequencies and lengths moved back too: scores equal the reference over what is left.
      const expected = referenceRanking(items, 'quorvantis melbrosite').slice(0, 10);
      expect((await search(null, { texts: ['quorvantis melbrosite'], topK: 10 })).hits.map((hit) => hit.textScore)).toEqual(
        expected.map((hit) => expect.closeTo(hit.score, 10)),
      );
    });

    it('rebuilds the same scores after a restart (the term index is rebuilt from the decrypted items)', async () => {
      const query = { texts: ['trovimbal gradulmere'], topK: 15 };
      const before = [await search(null, query), await search(items[3].vector as number[], query)];
      await service.close();
      service = await harness.service();
      const after = [await search(null, query), await search(items[3].vector as number[], query)];
      expect(after).toEqual(before);
      expect(before[0].hits.length).toBe(15);
    });
  });

  describe('hybrid search', () => {
    const text = 'osquerine fennowisp';

    it('alpha 1 reproduces the vector ranking and alpha 0 the keyword ranking', async () => {
      for (const query of [items[5].vector, items[40].vector] as number[][]) {
        const vectorOnly = await search(query, { topK: 10 });
        const pureVector = await search(query, { texts: [text], alpha: 1, topK: 10 });
        expect(ids(pureVector.hits)).toEqual(ids(vectorOnly.hits));
        expect(pureVector.hits.map((hit) => hit.distance)).toEqual(vectorOnly.hits.map((hit) => hit.distance));
        const textOnly = await search(null, { texts: [text], topK: 10 });
        for (const fusion of ['rrf', 'relative_score'] as const) {
          const pureText = await search(query, { texts: [text], alpha: 0, fusion, topK: 10 });
          expect(ids(pureText.hits)).toEqual(ids(textOnly.hits));
          expect(pureText.hits.map((hit) => hit.textScore)).toEqual(textOnly.hits.map((hit) => hit.textScore));
        }
      }
    });

    it('fuses the two rankings by RRF as computed by hand from each leg', async () => {
      const query = items[11].vector as number[];
      const alpha = 0.3;
      const vectorLeg = ids((await search(query, { topK: 100 })).hits);
      const textLeg = ids((await search(null, { texts: [text], topK: 100 })).hits);
      const expected = new Map<string, number>();
      vectorLeg.forEach((id, rank) => expected.set(id, (expected.get(id) ?? 0) + alpha / (60 + rank)));
      textLeg.forEach((id, rank) => expected.set(id, (expected.get(id) ?? 0) + (1 - alpha) / (60 + rank)));
      const ranking = [...expected].sort((a, b) => b[1] - a[1]).slice(0, 10);
      const fused = await search(query, { texts: [text], alpha, topK: 10 });
      expect(ids(fused.hits)).toEqual(ranking.map(([id]) => id));
      fused.hits.forEach((hit, i) => expect(hit.score).toBeCloseTo(ranking[i][1], 12));
      // Hits carry each leg's own measure where that leg found them.
      const hit = fused.hits.find((h) => vectorLeg.includes(h.id) && textLeg.includes(h.id));
      expect(hit?.distance).toEqual(expect.any(Number));
      expect(hit?.textScore).toEqual(expect.any(Number));
    });

    it('fuses by relative score: each leg min-max normalised, alpha x vector + (1 - alpha) x text', async () => {
      const query = items[20].vector as number[];
      const alpha = 0.6;
      const vectorLeg = (await search(query, { topK: 100 })).hits;
      const textLeg = (await search(null, { texts: [text], topK: 100 })).hits;
      const expected = new Map<string, number>();
      const add = (legHits: SearchHit[], value: (hit: SearchHit) => number, weight: number) => {
        const values = legHits.map(value);
        const [min, max] = [Math.min(...values), Math.max(...values)];
        legHits.forEach((hit, i) => expected.set(hit.id, (expected.get(hit.id) ?? 0) + (weight * (values[i] - min)) / (max - min)));
      };
      add(vectorLeg, (hit) => -hit.distance!, alpha);
      add(textLeg, (hit) => hit.textScore!, 1 - alpha);
      const ranking = [...expected].sort((a, b) => b[1] - a[1]).slice(0, 10);
      const fused = await search(query, { texts: [text], alpha, fusion: 'relative_score', topK: 10 });
      expect(fused.hits.map((hit) => hit.score)).toEqual(ranking.map(([, score]) => expect.closeTo(score, 6)));
      expect(new Set(ids(fused.hits))).toEqual(new Set(ranking.map(([id]) => id)));
    });

    it('applies the filter to both legs', async () => {
      const query = items[2].vector as number[];
      const filter = { group: 1 };
      for (const fusion of ['rrf', 'relative_score'] as const) {
        const fused = await search(query, { texts: [text], filter, fusion, topK: 20 });
        expect(fused.hits.length).toBe(20);
        for (const hit of fused.hits) expect(hit.metadata).toMatchObject({ group: 1 });
      }
      const textOnly = await search(null, { texts: [text], filter, topK: 50 });
      const expected = referenceRanking(items, text).filter(({ id }) => Number(id.slice(4)) % 3 === 1);
      expect(ids(textOnly.hits)).toEqual(expected.slice(0, 50).map((hit) => hit.id));
    });

    it('answers a batch query by query: texts beside vectors, a null text is a vector-only query', async () => {
      const vectors = [items[1].vector, items[2].vector] as number[][];
      const batch = await service.search(name, key, vectors, { texts: [text, null], topK: 5 });
      expect(batch[0]).toEqual(await search(vectors[0], { texts: [text], topK: 5, include: [] }));
      const vectorOnly = await search(vectors[1], { topK: 5, include: [] });
      expect(batch[1].hits).toEqual(vectorOnly.hits.map((hit) => ({ ...hit, score: null, textScore: null })));
      const textBatch = await service.search(name, key, null, { texts: ['quorvantis', 'vindralux'], topK: 5 });
      expect(textBatch.map((result) => ids(result.hits))).toEqual(['quorvantis', 'vindralux'].map((t) => referenceRanking(items, t).slice(0, 5).map((hit) => hit.id)));
    });
  });

  describe('refusals', () => {
    it('answers a text query on an index created without textSearch with IncompatibleIndexError', async () => {
      await service.createIndex('plain', key, { dimension: DIM });
      await service.upsert('plain', key, items.slice(0, 5));
      expect(await service.describeIndex('plain', key)).toMatchObject({ textSearch: false, textFields: [], textLanguage: null });
      await expect(service.search('plain', key, null, { texts: ['quorvantis'] })).rejects.toBeInstanceOf(IncompatibleIndexError);
      await expect(service.search('plain', key, [items[0].vector as number[]], { texts: ['quorvantis'] })).rejects.toThrow(/textSearch/);
    });

    it('refuses bad text arguments with a ValidationError naming them', async () => {
      const vector = items[0].vector as number[];
      const cases: [unknown, SearchOptions, string][] = [
        [null, {}, 'vectors'],
        [null, { texts: [null] }, 'texts[0]'],
        [[vector], { texts: ['a', 'b'] }, 'texts'],
        [[vector], { texts: ['a'], alpha: 1.5 }, 'alpha'],
        [[vector], { texts: ['a'], alpha: Number.NaN }, 'alpha'],
        [[vector], { texts: ['a'], fusion: 'max' as never }, 'fusion'],
        [null, { texts: ['x'.repeat(20_000)] }, 'texts[0]'],
      ];
      for (const [vectors, options, argument] of cases) {
        const failure = service.search(name, key, vectors as number[][] | null, options);
        await expect(failure, argument).rejects.toBeInstanceOf(ValidationError);
        await expect(failure).rejects.toMatchObject({ argument });
      }
    });

    it('refuses text settings without textSearch, bad paths and unknown languages, creating nothing', async () => {
      const cases: [object, string][] = [
        [{ textFields: ['title'] }, 'textFields'],
        [{ textLanguage: 'french' }, 'textLanguage'],
        [{ textSearch: true, textFields: ['a..b'] }, 'textFields[0]'],
        [{ textSearch: true, textFields: ['t', 't'] }, 'textFields[1]'],
        [{ textSearch: true, textLanguage: 'klingon' }, 'textLanguage'],
      ];
      for (const [options, argument] of cases) {
        await expect(service.createIndex('bad', key, { dimension: DIM, ...options }), argument).rejects.toMatchObject({ argument });
      }
      expect(await service.listIndexes()).toEqual([name]);
    });
  });

  describe('at rest', () => {
    it('stores no term, word or text of any document in plaintext (a sealed segment set with the term index included)', async () => {
      // Trained, so the segment keeper writes a set, which carries the term index.
      await service.train(name, key, { nLists: 2, wait: true });
      await eventually(() => harness.rawSegments(name), (raw) => raw.segmentSet !== null, 'a segment set after training');
      await service.close();
      const raw = await harness.rawBytes();
      // Every word as written and every term the index derived from it (stems, folded forms).
      const needles = new Set<string>(VOCABULARY);
      for (const item of items) for (const term of termsOf(item)) needles.add(term);
      expect(needles.size).toBeGreaterThan(VOCABULARY.length);
      const leaked = [...needles].filter((needle) => raw.some((bytes) => bytes.includes(Buffer.from(needle, 'utf8'))));
      expect(leaked).toEqual([]);
    });
  });
});

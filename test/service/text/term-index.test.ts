// The term index changes incrementally: adding, replacing and removing documents keeps postings,
// document frequencies, lengths and the term dictionary exact, and reuses freed document numbers.
// Its exported state (what a sealed segment set keeps) restores, with any documents left out, to
// exactly the index built from the documents kept, which then changes as that one does.
import { describe, expect, it } from 'vitest';
import { Bm25Scorer } from '../../../src/service/text/bm25.js';
import { TermIndex } from '../../../src/service/text/term-index.js';
import { seededRandom } from '../reference-search.js';

describe('TermIndex', () => {
  it('counts document frequencies, term frequencies and lengths', () => {
    const index = new TermIndex();
    index.add(10, ['cat', 'dog', 'cat']);
    index.add(11, ['dog', 'fish']);
    expect(index.documentCount).toBe(2);
    expect(index.averageLength).toBe(2.5);
    expect(index.documentFrequency('dog')).toBe(2);
    expect(index.documentFrequency('cat')).toBe(1);
    expect(index.frequency(10, 'cat')).toBe(2);
    expect(index.frequency(11, 'cat')).toBe(0);
    expect(index.termCount).toBe(3);
  });

  it('removes every term of a deleted document, and terms no document holds any more', () => {
    const index = new TermIndex();
    index.add(1, ['alpha', 'beta']);
    index.add(2, ['beta', 'gamma']);
    expect(index.remove(1)).toBe(true);
    expect(index.remove(1)).toBe(false);
    expect(index.documentFrequency('alpha')).toBe(0);
    expect(index.posting('alpha')).toBeNull();
    expect(index.documentFrequency('beta')).toBe(1);
    expect(index.termCount).toBe(2);
    expect(index.documentCount).toBe(1);
    expect(index.averageLength).toBe(2);
  });

  it('replaces a document added again under the same key', () => {
    const index = new TermIndex();
    index.add(5, ['old', 'shared']);
    index.add(6, ['shared']);
    index.add(5, ['new', 'new']);
    expect(index.documentFrequency('old')).toBe(0);
    expect(index.documentFrequency('new')).toBe(1);
    expect(index.frequency(5, 'new')).toBe(2);
    expect(index.documentFrequency('shared')).toBe(1);
    expect(index.documentCount).toBe(2);
    expect(index.averageLength).toBe(1.5);
  });

  it('replaces a document with the same terms it alone held (its postings are released, then made again)', () => {
    const index = new TermIndex();
    index.add(1, ['only', 'only', 'other']);
    index.add(2, ['other']);
    index.add(1, ['only', 'fresh']);
    expect(index.documentFrequency('only')).toBe(1);
    expect(index.frequency(1, 'only')).toBe(1);
    expect(index.documentFrequency('fresh')).toBe(1);
    expect(index.documentFrequency('other')).toBe(1);
    expect(index.termCount).toBe(3);
    const held = index.intern('only');
    index.remove(1);
    expect(held.released).toBe(true);
    index.addPostings(3, [held, index.intern('other')]);
    expect(index.documentFrequency('only')).toBe(1);
    expect(index.frequency(3, 'only')).toBe(1);
  });

  it('reuses freed document numbers without mixing documents up', () => {
    const index = new TermIndex();
    for (let key = 0; key < 100; key++) index.add(key, [`t${key % 7}`, 'all']);
    for (let key = 0; key < 100; key += 2) index.remove(key);
    const capacity = index.docCapacity;
    for (let key = 100; key < 150; key++) index.add(key, [`t${key % 7}`, 'all', 'late']);
    expect(index.docCapacity).toBe(capacity);
    expect(index.documentFrequency('all')).toBe(100);
    expect(index.documentFrequency('late')).toBe(50);
    const posting = index.posting('t3')!;
    const keys = Array.from(posting.docs.subarray(0, posting.length), (doc) => index.keyOf(doc)).sort((a, b) => a - b);
    const expected = [...Array.from({ length: 50 }, (_, i) => 2 * i + 1), ...Array.from({ length: 50 }, (_, i) => 100 + i)].filter((key) => key % 7 === 3);
    expect(keys).toEqual(expected);
  });

  it('estimates more memory with more documents and terms', () => {
    const index = new TermIndex();
    const empty = index.estimateBytes();
    for (let key = 0; key < 2000; key++) index.add(key, [`unique${key}`, 'shared', 'shared']);
    const full = index.estimateBytes();
    // Each document holds a posting entry per term, its term list and, here, a term of its own.
    expect(full - empty).toBeGreaterThan(2000 * (2 * 8 + 4 + 50));
  });

  it('keeps an empty document as a document of length 0', () => {
    const index = new TermIndex();
    index.add(1, []);
    index.add(2, ['word', 'word']);
    expect(index.documentCount).toBe(2);
    expect(index.averageLength).toBe(1);
    index.clear();
    expect(index.documentCount).toBe(0);
    expect(index.documentFrequency('word')).toBe(0);
  });

  it('equals a plain model through buffered adds, replacements, removals and compactions', () => {
    const index = new TermIndex();
    const model = new Map<number, string[]>();
    const random = seededRandom(7);
    const vocabulary = Array.from({ length: 300 }, (_, i) => `w${i}`);
    const check = () => {
      const df = new Map<string, number>();
      for (const terms of model.values()) for (const term of new Set(terms)) df.set(term, (df.get(term) ?? 0) + 1);
      expect(index.documentCount).toBe(model.size);
      expect(index.termCount).toBe(df.size);
      for (const term of vocabulary) expect(index.documentFrequency(term), term).toBe(df.get(term) ?? 0);
      for (const [key, terms] of [...model].slice(0, 40)) {
        for (const term of new Set(terms)) expect(index.frequency(key, term)).toBe(terms.filter((t) => t === term).length);
      }
    };
    // Bursts of adds left buffered, then reads; many removals to compact the per-document ranges.
    for (let round = 0; round < 30; round++) {
      const burst = 1 + Math.floor(random() * 400);
      for (let i = 0; i < burst; i++) {
        const key = Math.floor(random() * 3000);
        if (random() < 0.35) {
          expect(index.remove(key)).toBe(model.delete(key));
        } else {
          const terms = Array.from({ length: Math.floor(random() * 20) }, () => vocabulary[Math.floor(vocabulary.length * random() ** 3)]);
          index.add(key, terms);
          model.set(key, terms);
        }
      }
      if (round % 3 === 0) check();
    }
    check();
  });

  it('refuses term ids for a key still indexed (its removal could release them)', () => {
    const index = new TermIndex();
    index.add(1, ['a']);
    expect(() => index.addTermIds(1, new Uint32Array([index.internId('a')]), 1)).toThrow(/remove it first/);
    expect(index.frequency(1, 'a')).toBe(1);
  });

  it('indexes counted terms (addTermFrequencies) as it indexes the same terms with repeats', () => {
    const counted = new TermIndex();
    const repeated = new TermIndex();
    const ids = (index: TermIndex, terms: string[]) => Uint32Array.from(terms, (term) => index.internId(term));
    repeated.addTermIds(7, ids(repeated, ['b', 'a', 'b', 'c', 'b']), 5);
    repeated.addTermIds(8, ids(repeated, ['c']), 1);
    // Two documents in one pair of arrays, as a worker's page carries them.
    counted.addTermFrequencies(7, ids(counted, ['b', 'a', 'c', 'c']), Uint32Array.of(3, 1, 1, 1), 0, 3, 5);
    counted.addTermFrequencies(8, ids(counted, ['b', 'a', 'c', 'c']), Uint32Array.of(3, 1, 1, 1), 3, 4, 1);
    for (const index of [counted, repeated]) {
      expect([index.frequency(7, 'b'), index.frequency(7, 'a'), index.frequency(7, 'c'), index.frequency(8, 'c')]).toEqual([3, 1, 1, 1]);
      expect([index.documentFrequency('c'), index.averageLength, index.documentCount]).toEqual([2, 3, 2]);
    }
    expect(() => counted.addTermFrequencies(8, Uint32Array.of(counted.internId('a')), Uint32Array.of(1), 0, 1, 1)).toThrow(/remove it first/);
    expect(counted.frequency(8, 'a')).toBe(0);
  });

  it('restores from its exported state exactly the index of the documents kept, which then changes alike', () => {
    const random = seededRandom(21);
    const vocabulary = Array.from({ length: 400 }, (_, i) => `w${i}`);
    const document = () => Array.from({ length: Math.floor(random() * 25) }, () => vocabulary[Math.floor(vocabulary.length * random() ** 3)]);
    // An index with history: replaced and removed documents, released terms, reused numbers.
    const source = new TermIndex();
    const model = new Map<number, string[]>();
    for (let i = 0; i < 3000; i++) {
      const key = Math.floor(random() * 1500);
      if (random() < 0.3) {
        source.remove(key);
        model.delete(key);
      } else {
        const terms = document();
        source.add(key, terms);
        model.set(key, terms);
      }
    }
    source.add(2000, ['rare', 'rare', 'w1']);
    model.set(2000, ['rare', 'rare', 'w1']);
    // The set's item order is not the key order; position p becomes key p on restore.
    const keys = [...model.keys()].sort(() => random() - 0.5);
    const state = source.exportState(Uint32Array.from(keys));
    expect(state.terms.length).toBe(source.termCount);
    const keep = Uint8Array.from(keys, (key) => (key !== 2000 && random() < 0.8 ? 1 : 0));
    const restored = new TermIndex();
    restored.restoreState(state, keep);
    const expected = new TermIndex();
    keys.forEach((key, p) => {
      if (keep[p] === 1) expected.add(p, model.get(key)!);
    });

    const same = () => {
      expect([restored.documentCount, restored.averageLength, restored.termCount]).toEqual([expected.documentCount, expected.averageLength, expected.termCount]);
      for (const term of [...vocabulary, 'rare']) expect(restored.documentFrequency(term), term).toBe(expected.documentFrequency(term));
      for (let p = 0; p < keys.length; p += 7) {
        expect(restored.has(p)).toBe(expected.has(p));
        for (const term of new Set(model.get(keys[p]))) expect(restored.frequency(p, term)).toBe(expected.frequency(p, term));
      }
      const restoredScores = new Bm25Scorer(restored);
      const expectedScores = new Bm25Scorer(expected);
      for (let q = 0; q < 20; q++) {
        const query = document().slice(0, 3);
        expect(restoredScores.topK(query, 50)).toEqual(expectedScores.topK(query, 50));
      }
    };
    same();
    // A term only a left-out document held is gone, not kept as an empty posting.
    expect(restored.posting('rare')).toBeNull();
    // The restored per-document term lists serve removals and replacements as the built ones do.
    for (let i = 0; i < 400; i++) {
      const p = Math.floor(random() * (keys.length + 50));
      if (random() < 0.5) {
        expect(restored.remove(p)).toBe(expected.remove(p));
      } else {
        const terms = document();
        restored.add(p, terms);
        expected.add(p, terms);
      }
    }
    same();
  });

  it('exports only for keys naming every document once, and restores only into an empty index', () => {
    const index = new TermIndex();
    index.add(1, ['a']);
    index.add(2, ['b']);
    expect(() => index.exportState(Uint32Array.of(1))).toThrow(/not the indexed documents/);
    expect(() => index.exportState(Uint32Array.of(1, 1))).toThrow(/not the indexed documents/);
    expect(() => index.exportState(Uint32Array.of(1, 3))).toThrow(/not the indexed documents/);
    const state = index.exportState(Uint32Array.of(2, 1));
    expect(() => index.restoreState(state, Uint8Array.of(1, 1))).toThrow(/empty index/);
    // Every document left out: an empty index, which indexes what comes next as a new one does.
    const none = new TermIndex();
    none.restoreState(index.exportState(Uint32Array.of(2, 1)), Uint8Array.of(0, 0));
    expect([none.documentCount, none.termCount, none.posting('a')]).toEqual([0, 0, null]);
    none.add(7, ['a', 'a', 'c']);
    expect([none.documentCount, none.frequency(7, 'a'), none.documentFrequency('c'), none.averageLength]).toEqual([1, 2, 1, 3]);
  });

  it('indexes the same after reserving room for a bulk load, past the room reserved too', () => {
    const reserved = new TermIndex();
    const plain = new TermIndex();
    const terms = (key: number) => Array.from({ length: 1 + (key % 9) }, (_, i) => `t${(key * 7 + i * 3) % 50}`);
    for (const index of [reserved, plain]) index.add(0, terms(0));
    reserved.reserve(100);
    for (let key = 1; key < 400; key++) for (const index of [reserved, plain]) index.add(key, terms(key));
    for (const index of [reserved, plain]) index.remove(5);
    for (let term = 0; term < 50; term++) expect(reserved.documentFrequency(`t${term}`)).toBe(plain.documentFrequency(`t${term}`));
    for (let key = 0; key < 400; key += 13) for (const term of terms(key)) expect(reserved.frequency(key, term)).toBe(plain.frequency(key, term));
    expect([reserved.averageLength, reserved.documentCount]).toEqual([plain.averageLength, plain.documentCount]);
  });
});

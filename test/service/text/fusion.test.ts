// Fusion of a vector and a keyword ranking, checked against hand-computed examples.
import { describe, expect, it } from 'vitest';
import { fuse, RRF_K } from '../../../src/service/text/fusion.js';

// Vector ranking A, B, C (distances 0.1, 0.3, 0.5); keyword ranking C, A, D (BM25 4, 2, 1).
const vector = (weight: number) => ({ weight, keys: ['A', 'B', 'C'], scores: [-0.1, -0.3, -0.5] });
const keyword = (weight: number) => ({ weight, keys: ['C', 'A', 'D'], scores: [4, 2, 1] });

describe('fuse', () => {
  it('RRF: weight / (60 + rank from 0), summed (alpha 0.5)', () => {
    // A = 0.5/60 + 0.5/61 = 0.0165300546; C = 0.5/62 + 0.5/60 = 0.0163978495
    // B = 0.5/61 = 0.0081967213;          D = 0.5/62 = 0.0080645161
    const fused = fuse('rrf', [vector(0.5), keyword(0.5)]);
    expect(fused.map((hit) => hit.key)).toEqual(['A', 'C', 'B', 'D']);
    expect(fused.map((hit) => hit.score)).toEqual([0.0165300546, 0.0163978495, 0.0081967213, 0.0080645161].map((score) => expect.closeTo(score, 9)));
    expect(RRF_K).toBe(60);
  });

  it('RRF: alpha moves the ranking toward the keyword list (alpha 0.25)', () => {
    // C = 0.25/62 + 0.75/60 = 0.0165322581; A = 0.25/60 + 0.75/61 = 0.0164617486
    // D = 0.75/62 = 0.0120967742;           B = 0.25/61 = 0.0040983607
    const fused = fuse('rrf', [vector(0.25), keyword(0.75)]);
    expect(fused.map((hit) => hit.key)).toEqual(['C', 'A', 'D', 'B']);
    expect(fused.map((hit) => hit.score)).toEqual([0.0165322581, 0.0164617486, 0.0120967742, 0.0040983607].map((score) => expect.closeTo(score, 9)));
  });

  it('relative score: min-max normalised per list, then weighted and summed', () => {
    // vector: A 1, B 0.5, C 0; keyword: C 1, A 1/3, D 0.
    // A = 0.5 + 0.5/3 = 0.6667; C = 0.5; B = 0.25; D = 0.
    const fused = fuse('relative_score', [vector(0.5), keyword(0.5)]);
    expect(fused.map((hit) => hit.key)).toEqual(['A', 'C', 'B', 'D']);
    expect(fused.map((hit) => hit.score)).toEqual([2 / 3, 0.5, 0.25, 0].map((score) => expect.closeTo(score, 12)));
  });

  it('relative score: a list whose scores are all equal gives each item its weight', () => {
    const fused = fuse('relative_score', [{ weight: 0.3, keys: ['X', 'Y'], scores: [2, 2] }]);
    expect(fused).toEqual([
      { key: 'X', score: 0.3 },
      { key: 'Y', score: 0.3 },
    ]);
  });

  it('one list keeps its order (alpha 0 or 1 runs one leg)', () => {
    expect(fuse('rrf', [keyword(1)]).map((hit) => hit.key)).toEqual(['C', 'A', 'D']);
    expect(fuse('relative_score', [vector(1)]).map((hit) => hit.key)).toEqual(['A', 'B', 'C']);
  });
});

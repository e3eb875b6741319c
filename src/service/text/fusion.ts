// Fusion of a vector result list and a keyword result list into one ranking, as Weaviate defines
// its two hybrid methods. Each list is best first; weights are alpha for the vector list and
// 1 − alpha for the keyword list.
// - RRF (reciprocal rank fusion): an item scores weight / (k + rank) in each list it appears in,
//   rank counted from 0, k = 60; its fused score is the sum.
// - Relative score: each list's scores are min-max normalised to 0..1 (all equal: every item gets
//   1), multiplied by the list's weight and summed.
// Higher fused scores are better; equal scores keep the order in which items were first met,
// vector list first.

import type { Fusion } from '../types.js';

export const RRF_K = 60;

/** One list to fuse: keys best first, with their scores (higher better; only relative-score reads them). */
export interface RankedList<K> {
  weight: number;
  keys: readonly K[];
  scores: readonly number[];
}

export interface FusedKey<K> {
  key: K;
  score: number;
}

/** All keys of all lists, best first. Keys are compared as Map keys (identity for objects). */
export function fuse<K>(method: Fusion, lists: readonly RankedList<K>[]): FusedKey<K>[] {
  const fused = new Map<K, number>();
  for (const list of lists) {
    const contribution = method === 'rrf' ? rrfContributions(list) : relativeContributions(list);
    list.keys.forEach((key, i) => fused.set(key, (fused.get(key) ?? 0) + contribution[i]));
  }
  // Array.prototype.sort is stable: equal scores stay in first-met order.
  return Array.from(fused, ([key, score]) => ({ key, score })).sort((a, b) => b.score - a.score);
}

function rrfContributions<K>(list: RankedList<K>): number[] {
  return list.keys.map((_key, rank) => list.weight / (RRF_K + rank));
}

function relativeContributions<K>(list: RankedList<K>): number[] {
  let min = Infinity;
  let max = -Infinity;
  for (const score of list.scores) {
    if (score < min) min = score;
    if (score > max) max = score;
  }
  return list.scores.map((score) => (max === min ? list.weight : (list.weight * (score - min)) / (max - min)));
}

// A straightforward BM25 (k1 1.2, b 0.75, idf ln(1 + (N - df + 0.5) / (df + 0.5))) computed from
// scratch over term lists, for tests to compare the incremental index against.

export function referenceBm25(documents: ReadonlyMap<number, readonly string[]>, query: readonly string[]): { key: number; score: number }[] {
  const k1 = 1.2;
  const b = 0.75;
  const n = documents.size;
  let total = 0;
  for (const terms of documents.values()) total += terms.length;
  const averageLength = total / n;
  const scored: { key: number; score: number }[] = [];
  for (const [key, terms] of documents) {
    let score = 0;
    let matched = false;
    for (const term of new Set(query)) {
      const tf = terms.filter((t) => t === term).length;
      if (tf === 0) continue;
      matched = true;
      let df = 0;
      for (const other of documents.values()) if (other.includes(term)) df++;
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      score += (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * terms.length) / averageLength));
    }
    if (matched) scored.push({ key, score });
  }
  return scored.sort((x, y) => y.score - x.score || x.key - y.key);
}

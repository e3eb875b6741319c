// A bounded max-heap that keeps the k best candidates of a scan: smallest score first, and among
// equal scores the smaller id, so that the kept set does not depend on the order of the scan.

export class TopK {
  readonly k: number;
  private readonly scores: Float64Array;
  private readonly ids: Uint32Array;
  /** A number carried with each candidate (a search keeps where its row is). */
  private readonly tags: Float64Array;
  private count = 0;

  constructor(k: number, scores = new Float64Array(k), ids = new Uint32Array(k), tags = new Float64Array(k)) {
    this.k = k;
    this.scores = scores;
    this.ids = ids;
    this.tags = tags;
  }

  /**
   * `count` heaps of k over one set of arrays: a batch's thousand queries held three typed arrays
   * each in the young generation until the last was re-ranked, and the collector copied them.
   */
  static many(count: number, k: number): TopK[] {
    const scores = new Float64Array(count * k);
    const ids = new Uint32Array(count * k);
    const tags = new Float64Array(count * k);
    const heaps: TopK[] = new Array(count);
    for (let i = 0; i < count; i++) {
      heaps[i] = new TopK(k, scores.subarray(i * k, (i + 1) * k), ids.subarray(i * k, (i + 1) * k), tags.subarray(i * k, (i + 1) * k));
    }
    return heaps;
  }

  get size(): number {
    return this.count;
  }

  /** A candidate scoring above this cannot enter; +Infinity until k candidates are held. */
  get bound(): number {
    return this.count < this.k ? Infinity : this.scores[0];
  }

  /**
   * Keeps (score, id) if it ranks among the best k. `admit` (a filter) is asked only about
   * candidates that would enter, which keeps a filter off the scan's hot path.
   */
  offer(score: number, id: number, admit?: (id: number) => boolean, tag = 0): boolean {
    if (this.count < this.k) {
      if (admit && !admit(id)) return false;
      this.siftUp(this.count++, score, id, tag);
      return true;
    }
    const top = this.scores[0];
    if (score > top || (score === top && id >= this.ids[0])) return false;
    if (admit && !admit(id)) return false;
    this.siftDown(score, id, tag);
    return true;
  }

  /** The kept candidates, best first. Leaves the heap empty. */
  drain(): { ids: Uint32Array; scores: Float64Array; tags: Float64Array } {
    const n = this.count;
    const ids = new Uint32Array(n);
    const scores = new Float64Array(n);
    const tags = new Float64Array(n);
    this.drainInto(ids, scores, tags, 0);
    return { ids, scores, tags };
  }

  /** drain() into arrays the caller holds, from `at` on; returns how many. */
  drainInto(ids: Uint32Array, scores: Float64Array, tags: Float64Array, at: number): number {
    const n = this.count;
    for (let i = at + n - 1; i >= at; i--) {
      ids[i] = this.ids[0];
      scores[i] = this.scores[0];
      tags[i] = this.tags[0];
      const last = this.count - 1;
      const lastScore = this.scores[last];
      const lastId = this.ids[last];
      const lastTag = this.tags[last];
      this.count--;
      if (this.count > 0) this.siftDown(lastScore, lastId, lastTag);
    }
    return n;
  }

  private worse(scoreA: number, idA: number, scoreB: number, idB: number): boolean {
    return scoreA > scoreB || (scoreA === scoreB && idA > idB);
  }

  private siftUp(at: number, score: number, id: number, tag: number): void {
    let i = at;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.worse(score, id, this.scores[parent], this.ids[parent])) break;
      this.scores[i] = this.scores[parent];
      this.ids[i] = this.ids[parent];
      this.tags[i] = this.tags[parent];
      i = parent;
    }
    this.scores[i] = score;
    this.ids[i] = id;
    this.tags[i] = tag;
  }

  /** Places (score, id) at the root and restores the heap below it. */
  private siftDown(score: number, id: number, tag: number): void {
    const n = this.count;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.worse(this.scores[child + 1], this.ids[child + 1], this.scores[child], this.ids[child])) child++;
      if (!this.worse(this.scores[child], this.ids[child], score, id)) break;
      this.scores[i] = this.scores[child];
      this.ids[i] = this.ids[child];
      this.tags[i] = this.tags[child];
      i = child;
    }
    this.scores[i] = score;
    this.ids[i] = id;
    this.tags[i] = tag;
  }
}

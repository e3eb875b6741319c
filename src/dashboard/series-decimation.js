// Thins a long chart series to a bounded number of points that keeps its shape: per bucket of
// consecutive points, the minimum and maximum of every series (and always the first and last
// point), so a 10,000-iteration run draws as fast as a 100-iteration one and no spike disappears.
// A plain browser script (the page has no build step) that defines the global CipherdexSeries.
'use strict';

(() => {
  /**
   * @param {number[]} xs ascending x values
   * @param {(number | null)[][]} series y values aligned with xs; null is a gap
   * @param {number} buckets how many buckets to keep extremes of (>= 1)
   * @returns {[number[], ...(number | null)[][]]} uPlot data: the kept xs, then each series at them
   */
  function decimate(xs, series, buckets) {
    const n = xs.length;
    const limit = Math.max(1, Math.floor(buckets));
    // At most 2 points per series per bucket are kept anyway: shorter inputs pass unchanged.
    if (n <= limit * 2) return [xs.slice(), ...series.map((ys) => ys.slice())];
    const keep = new Uint8Array(n);
    keep[0] = 1;
    keep[n - 1] = 1;
    for (let b = 0; b < limit; b++) {
      const lo = Math.floor((b * n) / limit);
      const hi = Math.floor(((b + 1) * n) / limit);
      for (const ys of series) {
        let min = -1;
        let max = -1;
        for (let i = lo; i < hi; i++) {
          const y = ys[i];
          if (y === null || y === undefined || !Number.isFinite(y)) continue;
          if (min < 0 || y < /** @type {number} */ (ys[min])) min = i;
          if (max < 0 || y > /** @type {number} */ (ys[max])) max = i;
        }
        if (min >= 0) keep[min] = 1;
        if (max >= 0) keep[max] = 1;
      }
    }
    /** @type {number[]} */
    const keptXs = [];
    const keptSeries = series.map(() => /** @type {(number | null)[]} */ ([]));
    for (let i = 0; i < n; i++) {
      if (!keep[i]) continue;
      keptXs.push(/** @type {number} */ (xs[i]));
      series.forEach((ys, s) => /** @type {(number | null)[]} */ (keptSeries[s]).push(ys[i] ?? null));
    }
    return [keptXs, ...keptSeries];
  }

  /** @type {any} */ (globalThis).CipherdexSeries = Object.freeze({ decimate });
})();

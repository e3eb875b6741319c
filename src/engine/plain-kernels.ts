// Plain typed-array versions of the distance kernels: the baseline and the fallback where
// WebAssembly SIMD is unavailable. Same contract as the SIMD ones (see kernels.ts).
import type { HeapViews, Kernels } from './kernels.js';

// Four partial sums let the loads and multiplies of neighbouring lanes overlap; the rows are
// padded to a multiple of four floats, so the unrolled loop needs no tail.
function dot(f: Float32Array, a: number, b: number, d: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let j = 0; j < d; j += 4) {
    s0 += f[a + j] * f[b + j];
    s1 += f[a + j + 1] * f[b + j + 1];
    s2 += f[a + j + 2] * f[b + j + 2];
    s3 += f[a + j + 3] * f[b + j + 3];
  }
  return s0 + s1 + (s2 + s3);
}

// Integer dot product of an int16 query and an int8 code row: exact, as the SIMD version.
function dotCodes(i16: Int16Array, q: number, i8: Int8Array, c: number, length: number): number {
  let sum = 0;
  for (let j = 0; j < length; j++) sum += i16[q + j] * i8[c + j];
  return Math.fround(sum);
}

// Integer dot product of two int16 rows, exact below 2^31 as the SIMD version's i32 sums.
function dotI16(i16: Int16Array, a: number, b: number, length: number): number {
  let sum = 0;
  for (let j = 0; j < length; j++) sum += i16[a + j] * i16[b + j];
  return Math.fround(sum);
}

export function plainKernels(views: HeapViews): Kernels {
  return {
    simd: false,
    dotRows(q, x, n, rowBytes, out) {
      const f = views.f32;
      const d = rowBytes >> 2;
      const qf = q >> 2;
      let xf = x >> 2;
      const of = out >> 2;
      for (let i = 0; i < n; i++, xf += d) f[of + i] = dot(f, qf, xf, d);
    },
    dotBlock(q, m, x, n, rowBytes, out, ldo) {
      const f = views.f32;
      const d = rowBytes >> 2;
      const qf = q >> 2;
      const xf = x >> 2;
      const of = out >> 2;
      for (let i = 0; i < m; i++) {
        const qi = qf + i * d;
        const oi = of + i * ldo;
        for (let j = 0; j < n; j++) f[oi + j] = dot(f, qi, xf + j * d, d);
      }
    },
    nearest(x, n, c, k, rowBytes, cnorms, labels, best) {
      const f = views.f32;
      const u = views.u32;
      const d = rowBytes >> 2;
      const cf = c >> 2;
      const nf = cnorms >> 2;
      for (let i = 0; i < n; i++) {
        const xi = (x >> 2) + i * d;
        let b = Infinity;
        let label = 0;
        for (let j = 0; j < k; j++) {
          const score = f[nf + j] - 2 * dot(f, xi, cf + j * d, d);
          if (score < b) {
            b = score;
            label = j;
          }
        }
        u[(labels >> 2) + i] = label;
        f[(best >> 2) + i] = b;
      }
    },
    sumRows(x, n, rowBytes, labels, sums) {
      const f = views.f32;
      const u = views.u32;
      const f64 = views.f64;
      const d = rowBytes >> 2;
      for (let i = 0; i < n; i++) {
        const row = (x >> 2) + i * d;
        const to = (sums >> 3) + u[(labels >> 2) + i] * d;
        for (let t = 0; t < d; t++) f64[to + t] += f[row + t];
      }
    },
    gatherRows(src, indices, n, rowBytes, dst) {
      const f = views.f32;
      const u = views.u32;
      const d = rowBytes >> 2;
      for (let i = 0; i < n; i++) {
        const from = (src >> 2) + u[(indices >> 2) + i] * d;
        const to = (dst >> 2) + i * d;
        for (let t = 0; t < d; t++) f[to + t] = f[from + t];
      }
    },
    dotRowsI8(q, codes, n, codeBytes, out) {
      const { i8, i16, f32 } = views;
      const q16 = q >> 1;
      for (let i = 0; i < n; i++) f32[(out >> 2) + i] = dotCodes(i16, q16, i8, codes + i * codeBytes, codeBytes);
    },
    dotBlockI8(q, m, codes, n, codeBytes, out, ldo) {
      const { i8, i16, f32 } = views;
      for (let r = 0; r < m; r++) {
        const q16 = (q >> 1) + r * codeBytes;
        for (let j = 0; j < n; j++) f32[(out >> 2) + r * ldo + j] = dotCodes(i16, q16, i8, codes + j * codeBytes, codeBytes);
      }
    },
    rerankSums(q, rows, n, bytes, dot, out) {
      const { f32, u32, f64 } = views;
      const qf = q >> 2;
      for (let i = 0; i < n; i++) {
        const x = u32[(rows >> 2) + i] >> 2;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let j = 0; j < bytes >> 2; j += 4) {
          if (dot) {
            s0 += f32[qf + j] * f32[x + j];
            s1 += f32[qf + j + 1] * f32[x + j + 1];
            s2 += f32[qf + j + 2] * f32[x + j + 2];
            s3 += f32[qf + j + 3] * f32[x + j + 3];
          } else {
            const d0 = f32[qf + j] - f32[x + j];
            const d1 = f32[qf + j + 1] - f32[x + j + 1];
            const d2 = f32[qf + j + 2] - f32[x + j + 2];
            const d3 = f32[qf + j + 3] - f32[x + j + 3];
            s0 += d0 * d0;
            s1 += d1 * d1;
            s2 += d2 * d2;
            s3 += d3 * d3;
          }
        }
        const o = (out >> 3) + 4 * i;
        f64[o] = s0;
        f64[o + 1] = s1;
        f64[o + 2] = s2;
        f64[o + 3] = s3;
      }
    },
    seedPotential(closest, norms, dots, n, cn, update) {
      const f32 = views.f32;
      const c = Math.fround(cn);
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const d = Math.max(0, Math.fround(Math.fround(f32[(norms >> 2) + i] + c) - Math.fround(2 * f32[(dots >> 2) + i])));
        const m = Math.min(f32[(closest >> 2) + i], d);
        if (update) f32[(closest >> 2) + i] = m;
        sum += m;
      }
      return sum;
    },
    quantizeRowsI16(src, n, rowBytes, scale, dst, i16Bytes) {
      const { f32, i16 } = views;
      const d = rowBytes >> 2;
      const s = Math.fround(scale);
      for (let i = 0; i < n; i++) {
        const from = (src >> 2) + i * d;
        const to = (dst >> 1) + i * (i16Bytes >> 1);
        for (let t = 0; t < d; t++) {
          // f32x4.nearest rounds half to even
          const v = Math.fround(s * f32[from + t]);
          const r = Math.round(v) - (Math.abs(v % 1) === 0.5 && Math.round(v) % 2 !== 0 ? 1 : 0);
          i16[to + t] = Math.max(-32768, Math.min(32767, r));
        }
        i16.fill(0, to + d, to + (i16Bytes >> 1));
      }
    },
    dotBlockI16(q, m, x, n, i16Bytes, out, ldo) {
      const { f32, i16 } = views;
      const len = i16Bytes >> 1;
      for (let r = 0; r < m; r++) {
        for (let j = 0; j < n; j++) f32[(out >> 2) + r * ldo + j] = dotI16(i16, (q >> 1) + r * len, (x >> 1) + j * len, len);
      }
    },
    nearestI16(x, n, c, k, i16Bytes, cnorms, factor, labels, best, second) {
      const { f32, u32, i16 } = views;
      const len = i16Bytes >> 1;
      const f = Math.fround(factor);
      for (let i = 0; i < n; i++) {
        let b = Infinity;
        let sec = Infinity;
        let label = 0;
        for (let j = 0; j < k; j++) {
          const score = Math.fround(f32[(cnorms >> 2) + j] - Math.fround(f * dotI16(i16, (x >> 1) + i * len, (c >> 1) + j * len, len)));
          if (score < b) {
            sec = b;
            b = score;
            label = j;
          } else if (score < sec) {
            sec = score;
          }
        }
        u32[(labels >> 2) + i] = label;
        f32[(best >> 2) + i] = b;
        f32[(second >> 2) + i] = sec;
      }
    },
    encodeRowsI8(src, n, rowBytes, params, dst, codeBytes, misfits) {
      const { f32, f64, i8, u8 } = views;
      const d = rowBytes >> 2;
      const offsets = params >> 2;
      const inverse = (params + rowBytes) >> 3;
      for (let i = 0; i < n; i++) {
        const from = (src >> 2) + i * d;
        const to = dst + i * codeBytes;
        let fits = 1;
        for (let t = 0; t < d; t++) {
          const code = Math.round((f32[from + t] - f32[offsets + t]) * f64[inverse + t]);
          if (code > 127 || code < -127) fits = 0;
          i8[to + t] = code > 127 ? 127 : code < -127 ? -127 : code;
        }
        i8.fill(0, to + d, to + codeBytes);
        u8[misfits + i] = 1 - fits;
      }
    },
    quantizeQueriesI16(src, n, rowBytes, steps, dst, i16Bytes, scales) {
      const { f32, i16, f64 } = views;
      const d = rowBytes >> 2;
      for (let i = 0; i < n; i++) {
        const from = (src >> 2) + i * d;
        const to = (dst >> 1) + i * (i16Bytes >> 1);
        let largest = 0;
        for (let t = 0; t < d; t++) largest = Math.max(largest, Math.abs(f32[from + t] * f32[(steps >> 2) + t]));
        const scale = largest > 0 ? largest / 32_767 : 1;
        f64[(scales >> 3) + i] = scale;
        for (let t = 0; t < d; t++) i16[to + t] = Math.round((f32[from + t] * f32[(steps >> 2) + t]) / scale);
        i16.fill(0, to + d, to + (i16Bytes >> 1));
      }
    },
    nearestProbes(dots, norms, m, k, ldo, p, out, scratch) {
      const { f32, u32, f64 } = views;
      for (let i = 0; i < m; i++) {
        const row = (dots >> 2) + i * ldo;
        const lists = (out >> 2) + i * p;
        const kept = scratch >> 3;
        let count = 0;
        for (let j = 0; j < k; j++) {
          const s = f32[(norms >> 2) + j] - 2 * f32[row + j];
          if (count === p && !(s < f64[kept + p - 1])) continue;
          let at = count < p ? count++ : p - 1;
          while (at > 0 && f64[kept + at - 1] > s) {
            f64[kept + at] = f64[kept + at - 1];
            u32[lists + at] = u32[lists + at - 1];
            at--;
          }
          f64[kept + at] = s;
          u32[lists + at] = j;
        }
      }
    },
    pqScan(table, codes, n, m, entries, out) {
      const { f32, u8 } = views;
      const at = table >> 2;
      for (let i = 0; i < n; i++) {
        const code = codes + i * m;
        let sum = 0;
        for (let j = 0, row = at; j < m; j++, row += entries) sum += f32[row + u8[code + j]];
        f32[(out >> 2) + i] = sum;
      }
    },
    kthScore(norms, dots, n, twice, k, scratch) {
      const { f32 } = views;
      const t = Math.fround(twice);
      const values = new Float64Array(n);
      for (let i = 0; i < n; i++) values[i] = Math.fround(f32[(norms >> 2) + i] - Math.fround(t * f32[(dots >> 2) + i]));
      f32.set(values, scratch >> 2);
      // The fallback sorts: simpler than a quickselect, and the same k-th value.
      return values.sort()[k - 1];
    },
    selectBlock(norms, dots, m, n, ldo, params, out) {
      const { f32, u32 } = views;
      let at = out >> 2;
      for (let q = 0; q < m; q++) {
        const t = f32[(params >> 2) + 2 * q];
        const b = f32[(params >> 2) + 2 * q + 1];
        const row = (dots >> 2) + q * ldo;
        for (let i = 0; i < n; i++) {
          if (Math.fround(f32[(norms >> 2) + i] - Math.fround(t * f32[row + i])) <= b) u32[at++] = q * 65_536 + i;
        }
      }
      return at << 2;
    },
    selectScores(norms, dots, n, twice, bound, out) {
      const { f32, u32 } = views;
      const t = Math.fround(twice);
      const b = Math.fround(bound);
      let at = out >> 2;
      for (let i = 0; i < n; i++) {
        if (Math.fround(f32[(norms >> 2) + i] - Math.fround(t * f32[(dots >> 2) + i])) <= b) u32[at++] = i;
      }
      return at << 2;
    },
  };
}

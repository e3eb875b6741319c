;; WebAssembly SIMD distance kernels of the IVF engine (f32x4 on rows, int8/int16 on codes): the hot
;; path of search and training.
;;
;; Every kernel works on rows of `rb` bytes (a multiple of 16: vectors are zero-padded to a whole
;; number of f32x4 lanes, which changes no dot product) that live in the one shared memory the
;; engine's KernelHeap owns. Row counts are multiples of the tile height; callers allocate padded
;; capacity and ignore the extra outputs, so no kernel carries a scalar tail loop.
;;
;; Distances are computed in dot-product form, ||q - x||^2 = ||q||^2 + ||x||^2 - 2 q.x, because a
;; dot product costs one multiply and one add per lane while a difference costs a subtract more,
;; and the adds are the scarce unit. Callers keep ||x||^2 beside each row and re-rank the final
;; top-k with exact differences, so the cancellation of the dot form never reaches a reported
;; distance. Horizontal sums are written out at each use: V8 does not inline wasm calls.
(module
  (import "env" "memory" (memory 1 65536 shared))

;; out[i] = q . x_i for i < n. One query against a run of rows, one row at a time with four
  ;; accumulators over consecutive chunks: a single sequential stream is what the hardware
  ;; prefetcher follows best, and a scan of lists larger than the cache is memory-bound (interleaved
  ;; tiles of 8 rows ran 40% slower on lists fetched from DRAM, though as fast on cached ones).
  ;; rb is a multiple of 64 bytes or the row's last chunks are read by a trailing single-chunk loop.
  (func (export "dotRows") (param $q i32) (param $x i32) (param $n i32) (param $rb i32) (param $out i32)
    (local $end i32) (local $o i32) (local $wide i32) (local $s v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    ;; bytes of the row covered by whole 64-byte steps
    (local.set $wide (i32.and (local.get $rb) (i32.const -64)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (local.set $a0 (v128.const i64x2 0 0)) (local.set $a1 (v128.const i64x2 0 0))
        (local.set $a2 (v128.const i64x2 0 0)) (local.set $a3 (v128.const i64x2 0 0))
        (local.set $o (i32.const 0))
        (block $wideDone
          (br_if $wideDone (i32.eqz (local.get $wide)))
          (loop $step
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load offset=0 (i32.add (local.get $q) (local.get $o))) (v128.load offset=0 (i32.add (local.get $x) (local.get $o))))))
            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.load offset=16 (i32.add (local.get $q) (local.get $o))) (v128.load offset=16 (i32.add (local.get $x) (local.get $o))))))
            (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (v128.load offset=32 (i32.add (local.get $q) (local.get $o))) (v128.load offset=32 (i32.add (local.get $x) (local.get $o))))))
            (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (v128.load offset=48 (i32.add (local.get $q) (local.get $o))) (v128.load offset=48 (i32.add (local.get $x) (local.get $o))))))
            (local.set $o (i32.add (local.get $o) (i32.const 64)))
            (br_if $step (i32.lt_u (local.get $o) (local.get $wide)))))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $o) (local.get $rb)))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load (i32.add (local.get $q) (local.get $o))) (v128.load (i32.add (local.get $x) (local.get $o))))))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $tail)))
        (local.set $s (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (f32x4.add (local.get $a2) (local.get $a3))))
        (f32.store (local.get $out) (f32.add (f32.add (f32x4.extract_lane 0 (local.get $s)) (f32x4.extract_lane 1 (local.get $s))) (f32.add (f32x4.extract_lane 2 (local.get $s)) (f32x4.extract_lane 3 (local.get $s)))))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $x (i32.add (local.get $x) (local.get $rb)))
        (br $row))))

  ;; out[i * ldo + j] = q_i . x_j for i < m, j < n: many queries against a run of rows. Tiles of
  ;; 4 queries x 2 rows load each row chunk once for four queries. The outer loop walks the rows,
  ;; so each row is fetched from memory once and meets every query while in L1; the queries (a
  ;; small block) are what gets re-read. m is a multiple of 4, n of 2, ldo counts floats.
  (func $dotBlock (export "dotBlock") (param $q i32) (param $m i32) (param $x i32) (param $n i32) (param $rb i32) (param $out i32) (param $ldo i32)
    (local $qi i32) (local $xj i32) (local $o i32) (local $ldb i32) (local $q0 i32)
    (local $q1 i32) (local $q2 i32) (local $q3 i32) (local $xs i32) (local $p i32)
    (local $u v128) (local $w v128) (local $v v128)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local.set $ldb (i32.shl (local.get $ldo) (i32.const 2)))
    (local.set $xj (i32.const 0))
    (block $xdone
      (loop $xtile
        (br_if $xdone (i32.ge_u (local.get $xj) (local.get $n)))
        (local.set $xs (i32.add (local.get $x) (local.get $rb)))
        (local.set $q0 (local.get $q))
        (local.set $p (i32.add (local.get $out) (i32.shl (local.get $xj) (i32.const 2))))
        (local.set $qi (i32.const 0))
        (block $qdone
          (loop $qtile
            (br_if $qdone (i32.ge_u (local.get $qi) (local.get $m)))
            (local.set $q1 (i32.add (local.get $q0) (local.get $rb)))
            (local.set $q2 (i32.add (local.get $q1) (local.get $rb)))
            (local.set $q3 (i32.add (local.get $q2) (local.get $rb)))
            (local.set $a00 (v128.const i64x2 0 0)) (local.set $a01 (v128.const i64x2 0 0))
            (local.set $a10 (v128.const i64x2 0 0)) (local.set $a11 (v128.const i64x2 0 0))
            (local.set $a20 (v128.const i64x2 0 0)) (local.set $a21 (v128.const i64x2 0 0))
            (local.set $a30 (v128.const i64x2 0 0)) (local.set $a31 (v128.const i64x2 0 0))
            (local.set $o (i32.const 0))
            (loop $chunk
              (local.set $u (v128.load (i32.add (local.get $x) (local.get $o))))
              (local.set $w (v128.load (i32.add (local.get $xs) (local.get $o))))
              (local.set $v (v128.load (i32.add (local.get $q0) (local.get $o))))
              (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $v) (local.get $u))))
              (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $v) (local.get $w))))
              (local.set $v (v128.load (i32.add (local.get $q1) (local.get $o))))
              (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $v) (local.get $u))))
              (local.set $a11 (f32x4.add (local.get $a11) (f32x4.mul (local.get $v) (local.get $w))))
              (local.set $v (v128.load (i32.add (local.get $q2) (local.get $o))))
              (local.set $a20 (f32x4.add (local.get $a20) (f32x4.mul (local.get $v) (local.get $u))))
              (local.set $a21 (f32x4.add (local.get $a21) (f32x4.mul (local.get $v) (local.get $w))))
              (local.set $v (v128.load (i32.add (local.get $q3) (local.get $o))))
              (local.set $a30 (f32x4.add (local.get $a30) (f32x4.mul (local.get $v) (local.get $u))))
              (local.set $a31 (f32x4.add (local.get $a31) (f32x4.mul (local.get $v) (local.get $w))))
              (local.set $o (i32.add (local.get $o) (i32.const 16)))
              (br_if $chunk (i32.lt_u (local.get $o) (local.get $rb))))
            (f32.store offset=0 (local.get $p) (f32.add (f32.add (f32x4.extract_lane 0 (local.get $a00)) (f32x4.extract_lane 1 (local.get $a00))) (f32.add (f32x4.extract_lane 2 (local.get $a00)) (f32x4.extract_lane 3 (local.get $a00)))))
            (f32.store offset=4 (local.get $p) (f32.add (f32.add (f32x4.extract_lane 0 (local.get $a01)) (f32x4.extract_lane 1 (local.get $a01))) (f32.add (f32x4.extract_lane 2 (local.get $a01)) (f32x4.extract_lane 3 (local.get $a01)))))
            (local.set $p (i32.add (local.get $p) (local.get $ldb)))
            (f32.store offset=0 (local.get $p) (f32.add (f32.add (f32x4.extract_lane 0 (local.get $a10)) (f32x4.extract_lane 1 (local.get $a10))) (f32.add (f32x4.extract_lane 2 (local.get $a10)) (f32x4.extract_lane 3 (local.get $a10)))))
            (f32.store offset=4 (local.get $p) (f32.add (f32.add (f32x4.extract_lane 0 (local.get $a11)) (f32x4.extract_lane 1 (local.get $a11))) (f32.add (f32x4.extract_lane 2 (local.get $a11)) (f32x4.extract_lane 3 (local.get $a11)))))
            (local.set $p (i32.add (local.get $p) (local.get $ldb)))
            (f32.store offset=0 (local.get $p) (f32.add (f32.add (f32x4.extract_lane 0 (local.get $a20)) (f32x4.extract_lane 1 (local.get $a20))) (f32.add (f32x4.extract_lane 2 (local.get $a20)) (f32x4.extract_lane 3 (local.get $a20)))))
            (f32.store offset=4 (local.get $p) (f32.add (f32.add (f32x4.extract_lane 0 (local.get $a21)) (f32x4.extract_lane 1 (local.get $a21))) (f32.add (f32x4.extract_lane 2 (local.get $a21)) (f32x4.extract_lane 3 (local.get $a21)))))
            (local.set $p (i32.add (local.get $p) (local.get $ldb)))
            (f32.store offset=0 (local.get $p) (f32.add (f32.add (f32x4.extract_lane 0 (local.get $a30)) (f32x4.extract_lane 1 (local.get $a30))) (f32.add (f32x4.extract_lane 2 (local.get $a30)) (f32x4.extract_lane 3 (local.get $a30)))))
            (f32.store offset=4 (local.get $p) (f32.add (f32.add (f32x4.extract_lane 0 (local.get $a31)) (f32x4.extract_lane 1 (local.get $a31))) (f32.add (f32x4.extract_lane 2 (local.get $a31)) (f32x4.extract_lane 3 (local.get $a31)))))
            (local.set $p (i32.add (local.get $p) (local.get $ldb)))
            (local.set $q0 (i32.add (local.get $q3) (local.get $rb)))
            (local.set $qi (i32.add (local.get $qi) (i32.const 4)))
            (br $qtile)))
        (local.set $x (i32.add (local.get $xs) (local.get $rb)))
        (local.set $xj (i32.add (local.get $xj) (i32.const 2)))
        (br $xtile))))

  ;; For rows i < m of a score block (row stride ldb bytes) holding x_i . c_j: the j < k
  ;; minimising cnorms[j] - 2 x_i.c_j, into labels[i] and best[i]. Four lanes keep a running
  ;; minimum each (strict <, so the first j wins a tie); the lanes are merged the same way.
  (func $argmin (param $scores i32) (param $m i32) (param $k i32) (param $ldb i32)
        (param $cnorms i32) (param $labels i32) (param $best i32)
    (local $i i32) (local $j i32) (local $row i32) (local $kb i32)
    (local $s v128) (local $low v128) (local $at v128) (local $js v128) (local $mask v128)
    (local $b f32) (local $l i32) (local $v f32) (local $vi i32)
    (local.set $kb (i32.shl (local.get $k) (i32.const 2)))
    (local.set $row (local.get $scores))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $low (v128.const f32x4 inf inf inf inf))
        (local.set $at (v128.const i32x4 0 0 0 0))
        (local.set $js (v128.const i32x4 0 1 2 3))
        (local.set $j (i32.const 0))
        (loop $cols
          (local.set $s
            (f32x4.sub
              (v128.load (i32.add (local.get $cnorms) (local.get $j)))
              (f32x4.mul (v128.const f32x4 2 2 2 2) (v128.load (i32.add (local.get $row) (local.get $j))))))
          (local.set $mask (f32x4.lt (local.get $s) (local.get $low)))
          (local.set $low (f32x4.pmin (local.get $low) (local.get $s)))
          (local.set $at (v128.bitselect (local.get $js) (local.get $at) (local.get $mask)))
          (local.set $js (i32x4.add (local.get $js) (v128.const i32x4 4 4 4 4)))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br_if $cols (i32.lt_u (local.get $j) (local.get $kb))))
        (local.set $b (f32x4.extract_lane 0 (local.get $low)))
        (local.set $l (i32x4.extract_lane 0 (local.get $at)))
        (local.set $v (f32x4.extract_lane 1 (local.get $low)))
        (local.set $vi (i32x4.extract_lane 1 (local.get $at)))
        (if (i32.or (f32.lt (local.get $v) (local.get $b)) (i32.and (f32.eq (local.get $v) (local.get $b)) (i32.lt_u (local.get $vi) (local.get $l))))
          (then (local.set $b (local.get $v)) (local.set $l (local.get $vi))))
        (local.set $v (f32x4.extract_lane 2 (local.get $low)))
        (local.set $vi (i32x4.extract_lane 2 (local.get $at)))
        (if (i32.or (f32.lt (local.get $v) (local.get $b)) (i32.and (f32.eq (local.get $v) (local.get $b)) (i32.lt_u (local.get $vi) (local.get $l))))
          (then (local.set $b (local.get $v)) (local.set $l (local.get $vi))))
        (local.set $v (f32x4.extract_lane 3 (local.get $low)))
        (local.set $vi (i32x4.extract_lane 3 (local.get $at)))
        (if (i32.or (f32.lt (local.get $v) (local.get $b)) (i32.and (f32.eq (local.get $v) (local.get $b)) (i32.lt_u (local.get $vi) (local.get $l))))
          (then (local.set $b (local.get $v)) (local.set $l (local.get $vi))))
        (i32.store (local.get $labels) (local.get $l))
        (f32.store (local.get $best) (local.get $b))
        (local.set $labels (i32.add (local.get $labels) (i32.const 4)))
        (local.set $best (i32.add (local.get $best) (i32.const 4)))
        (local.set $row (i32.add (local.get $row) (local.get $ldb)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; For each row x_i (i < n, a multiple of 8): the centroid c_j (j < k, a multiple of 8)
  ;; minimising ||c_j||^2 - 2 x_i.c_j, that is the nearest one up to the constant ||x_i||^2.
  ;; Writes labels[i] and best[i] (that score). Blocks of 32 rows go through dotBlock into
  ;; `scratch` (32 x k floats) and then through argmin, so the dot products run at dotBlock's
  ;; speed. A padding centroid carries +infinity in cnorms and is never chosen.
  (func (export "nearest") (param $x i32) (param $n i32) (param $c i32) (param $k i32) (param $rb i32)
        (param $cnorms i32) (param $labels i32) (param $best i32) (param $scratch i32)
    (local $i i32) (local $m i32)
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $m (i32.sub (local.get $n) (local.get $i)))
        (if (i32.gt_u (local.get $m) (i32.const 32)) (then (local.set $m (i32.const 32))))
        (call $dotBlock (local.get $x) (local.get $m) (local.get $c) (local.get $k) (local.get $rb) (local.get $scratch) (local.get $k))
        (call $argmin (local.get $scratch) (local.get $m) (local.get $k) (i32.shl (local.get $k) (i32.const 2))
          (local.get $cnorms) (local.get $labels) (local.get $best))
        (local.set $x (i32.add (local.get $x) (i32.mul (local.get $m) (local.get $rb))))
        (local.set $labels (i32.add (local.get $labels) (i32.shl (local.get $m) (i32.const 2))))
        (local.set $best (i32.add (local.get $best) (i32.shl (local.get $m) (i32.const 2))))
        (local.set $i (i32.add (local.get $i) (local.get $m)))
        (br $blocks))))

  ;; Training's cheaper assignment. Rows and centroids also exist as int16 (qb bytes per row, a
  ;; multiple of 16), scaled so that no dot product can overflow an i32; i32x4.dot_i16x8_s then
  ;; multiplies and pairs eight lanes per instruction where f32x4 takes a multiply and an add for
  ;; four, and reads half the bytes. The scores are approximate: callers check the gap to the
  ;; second best against the quantization's error bound and recompute close calls exactly.

  ;; dst (int16 rows of qb bytes) = nearest(src * scale) for rows i < n of rb-byte f32 rows, lanes
  ;; saturated; the bytes of a row past rb / 2 are zeroed.
  (func (export "quantizeRowsI16") (param $src i32) (param $n i32) (param $rb i32) (param $scale f32) (param $dst i32) (param $qb i32)
    (local $i i32) (local $o i32) (local $to i32) (local $s v128) (local $v v128)
    (local.set $s (f32x4.splat (local.get $scale)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $o (i32.const 0))
        (local.set $to (local.get $dst))
        (loop $chunk
          (local.set $v (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (local.get $s) (v128.load (i32.add (local.get $src) (local.get $o)))))))
          (i64.store (local.get $to) (i64x2.extract_lane 0 (i16x8.narrow_i32x4_s (local.get $v) (local.get $v))))
          (local.set $to (i32.add (local.get $to) (i32.const 8)))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (br_if $chunk (i32.lt_u (local.get $o) (local.get $rb))))
        (if (i32.lt_u (local.get $to) (i32.add (local.get $dst) (local.get $qb)))
          (then (i64.store (local.get $to) (i64.const 0))))
        (local.set $src (i32.add (local.get $src) (local.get $rb)))
        (local.set $dst (i32.add (local.get $dst) (local.get $qb)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

;; The int8 codec's query coding (scalar-quantizer.ts encodeQuery) for n rows of rb bytes:
  ;; row i times the float32 steps (rb bytes, zero past the dimension), over s_i = max |x steps| /
  ;; 32767 (1 if that is 0), rounded to nearest with ties up as Math.round, into int16 rows of qb
  ;; bytes (zero past rb / 2); s_i to scales (f64). All in float64, operation for operation as the
  ;; JS, so the codes and scales are the same bits.
  (func (export "quantizeQueriesI16") (param $src i32) (param $n i32) (param $rb i32) (param $steps i32) (param $dst i32) (param $qb i32) (param $scales i32)
    (local $i i32) (local $o i32) (local $to i32) (local $x v128) (local $lo v128) (local $hi v128) (local $big v128)
    (local $inv v128) (local $r v128) (local $largest f64) (local $scale f64)
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $big (v128.const f64x2 0 0))
        (local.set $o (i32.const 0))
        (loop $scan
          (local.set $x (v128.load (i32.add (local.get $src) (local.get $o))))
          (local.set $r (v128.load (i32.add (local.get $steps) (local.get $o))))
          (local.set $lo (f64x2.mul (f64x2.promote_low_f32x4 (local.get $x)) (f64x2.promote_low_f32x4 (local.get $r))))
          (local.set $hi (f64x2.mul
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x)))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $r) (local.get $r)))))
          (local.set $big (f64x2.max (local.get $big) (f64x2.max (f64x2.abs (local.get $lo)) (f64x2.abs (local.get $hi)))))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (br_if $scan (i32.lt_u (local.get $o) (local.get $rb))))
        (local.set $largest (f64.max (f64x2.extract_lane 0 (local.get $big)) (f64x2.extract_lane 1 (local.get $big))))
        (local.set $scale (select (f64.div (local.get $largest) (f64.const 32767)) (f64.const 1) (f64.gt (local.get $largest) (f64.const 0))))
        (f64.store (local.get $scales) (local.get $scale))
        (local.set $inv (f64x2.splat (local.get $scale)))
        (local.set $o (i32.const 0))
        (local.set $to (local.get $dst))
        (loop $code
          (local.set $x (v128.load (i32.add (local.get $src) (local.get $o))))
          (local.set $r (v128.load (i32.add (local.get $steps) (local.get $o))))
          (local.set $lo (f64x2.div (f64x2.mul (f64x2.promote_low_f32x4 (local.get $x)) (f64x2.promote_low_f32x4 (local.get $r))) (local.get $inv)))
          (local.set $hi (f64x2.div (f64x2.mul
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x)))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $r) (local.get $r)))) (local.get $inv)))
          ;; Math.round: floor, plus one where the fraction (exact: v - floor v) is at least a half
          (local.set $x (f64x2.floor (local.get $lo)))
          (local.set $lo (f64x2.add (local.get $x) (v128.and (f64x2.ge (f64x2.sub (local.get $lo) (local.get $x)) (v128.const f64x2 0.5 0.5)) (v128.const f64x2 1 1))))
          (local.set $x (f64x2.floor (local.get $hi)))
          (local.set $hi (f64x2.add (local.get $x) (v128.and (f64x2.ge (f64x2.sub (local.get $hi) (local.get $x)) (v128.const f64x2 0.5 0.5)) (v128.const f64x2 1 1))))
          (local.set $r (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (i32x4.trunc_sat_f64x2_s_zero (local.get $lo)) (i32x4.trunc_sat_f64x2_s_zero (local.get $hi))))
          (i64.store (local.get $to) (i64x2.extract_lane 0 (i16x8.narrow_i32x4_s (local.get $r) (local.get $r))))
          (local.set $to (i32.add (local.get $to) (i32.const 8)))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (br_if $code (i32.lt_u (local.get $o) (local.get $rb))))
        (block $zeroed
          (loop $zero
            (br_if $zeroed (i32.ge_u (local.get $to) (i32.add (local.get $dst) (local.get $qb))))
            (i64.store (local.get $to) (i64.const 0))
            (local.set $to (i32.add (local.get $to) (i32.const 8)))
            (br $zero)))
        (local.set $src (i32.add (local.get $src) (local.get $rb)))
        (local.set $dst (i32.add (local.get $dst) (local.get $qb)))
        (local.set $scales (i32.add (local.get $scales) (i32.const 8)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; The int8 codec's row coding (scalar-quantizer.ts encodeRow) for n rows of rb bytes: code =
  ;; Math.round((x - offset) * inverse step), in float64 operation for operation as the JS so the
  ;; codes are the same bits, clamped to [-127, 127], into int8 rows of cb bytes (zero past rb / 4);
  ;; misfits[i] (u8) is 1 where row i was clamped, else 0. `params`: the offsets (f32, rb bytes),
  ;; then the inverse steps (f64, 2 rb bytes), both zero past the dimension.
  (func (export "encodeRowsI8") (param $src i32) (param $n i32) (param $rb i32) (param $params i32) (param $dst i32) (param $cb i32) (param $misfits i32)
    (local $i i32) (local $o i32) (local $to i32) (local $inv i32) (local $x v128) (local $off v128)
    (local $lo v128) (local $hi v128) (local $f v128) (local $bad v128)
    (local.set $inv (i32.add (local.get $params) (local.get $rb)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $bad (v128.const i64x2 0 0))
        (local.set $o (i32.const 0))
        (local.set $to (local.get $dst))
        (loop $code
          (local.set $x (v128.load (i32.add (local.get $src) (local.get $o))))
          (local.set $off (v128.load (i32.add (local.get $params) (local.get $o))))
          (local.set $lo (f64x2.mul
            (f64x2.sub (f64x2.promote_low_f32x4 (local.get $x)) (f64x2.promote_low_f32x4 (local.get $off)))
            (v128.load (i32.add (local.get $inv) (i32.shl (local.get $o) (i32.const 1))))))
          (local.set $hi (f64x2.mul
            (f64x2.sub
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x)))
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $off) (local.get $off))))
            (v128.load offset=16 (i32.add (local.get $inv) (i32.shl (local.get $o) (i32.const 1))))))
          ;; Math.round: floor, plus one where the fraction (exact: v - floor v) is at least a half
          (local.set $f (f64x2.floor (local.get $lo)))
          (local.set $lo (f64x2.add (local.get $f) (v128.and (f64x2.ge (f64x2.sub (local.get $lo) (local.get $f)) (v128.const f64x2 0.5 0.5)) (v128.const f64x2 1 1))))
          (local.set $f (f64x2.floor (local.get $hi)))
          (local.set $hi (f64x2.add (local.get $f) (v128.and (f64x2.ge (f64x2.sub (local.get $hi) (local.get $f)) (v128.const f64x2 0.5 0.5)) (v128.const f64x2 1 1))))
          (local.set $bad (v128.or (local.get $bad) (v128.or
            (v128.or (f64x2.gt (local.get $lo) (v128.const f64x2 127 127)) (f64x2.lt (local.get $lo) (v128.const f64x2 -127 -127)))
            (v128.or (f64x2.gt (local.get $hi) (v128.const f64x2 127 127)) (f64x2.lt (local.get $hi) (v128.const f64x2 -127 -127))))))
          ;; Saturating narrowings clamp to [-128, 127]; the codes stop at -127, as the JS does.
          (local.set $x (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (i32x4.trunc_sat_f64x2_s_zero (f64x2.max (local.get $lo) (v128.const f64x2 -127 -127)))
            (i32x4.trunc_sat_f64x2_s_zero (f64x2.max (local.get $hi) (v128.const f64x2 -127 -127)))))
          (local.set $x (i16x8.narrow_i32x4_s (local.get $x) (local.get $x)))
          (i32.store (local.get $to) (i32x4.extract_lane 0 (i8x16.narrow_i16x8_s (local.get $x) (local.get $x))))
          (local.set $to (i32.add (local.get $to) (i32.const 4)))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (br_if $code (i32.lt_u (local.get $o) (local.get $rb))))
        (block $zeroed
          (loop $zero
            (br_if $zeroed (i32.ge_u (local.get $to) (i32.add (local.get $dst) (local.get $cb))))
            (i32.store (local.get $to) (i32.const 0))
            (local.set $to (i32.add (local.get $to) (i32.const 4)))
            (br $zero)))
        (i32.store8 (local.get $misfits) (v128.any_true (local.get $bad)))
        (local.set $src (i32.add (local.get $src) (local.get $rb)))
        (local.set $dst (i32.add (local.get $dst) (local.get $cb)))
        (local.set $misfits (i32.add (local.get $misfits) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; out[i * ldo + j] = (f32) q_i . x_j over int16 rows of qb bytes, i < m (a multiple of 4),
  ;; j < n (even): dotBlock's tiles and loop order.
  (func $dotBlockI16 (export "dotBlockI16") (param $q i32) (param $m i32) (param $x i32) (param $n i32) (param $qb i32) (param $out i32) (param $ldo i32)
    (local $qi i32) (local $xj i32) (local $o i32) (local $ldb i32) (local $q0 i32)
    (local $q1 i32) (local $q2 i32) (local $q3 i32) (local $xs i32) (local $p i32)
    (local $u v128) (local $w v128) (local $v v128)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local.set $ldb (i32.shl (local.get $ldo) (i32.const 2)))
    (local.set $xj (i32.const 0))
    (block $xdone
      (loop $xtile
        (br_if $xdone (i32.ge_u (local.get $xj) (local.get $n)))
        (local.set $xs (i32.add (local.get $x) (local.get $qb)))
        (local.set $q0 (local.get $q))
        (local.set $p (i32.add (local.get $out) (i32.shl (local.get $xj) (i32.const 2))))
        (local.set $qi (i32.const 0))
        (block $qdone
          (loop $qtile
            (br_if $qdone (i32.ge_u (local.get $qi) (local.get $m)))
            (local.set $q1 (i32.add (local.get $q0) (local.get $qb)))
            (local.set $q2 (i32.add (local.get $q1) (local.get $qb)))
            (local.set $q3 (i32.add (local.get $q2) (local.get $qb)))
            (local.set $a00 (v128.const i64x2 0 0)) (local.set $a01 (v128.const i64x2 0 0))
            (local.set $a10 (v128.const i64x2 0 0)) (local.set $a11 (v128.const i64x2 0 0))
            (local.set $a20 (v128.const i64x2 0 0)) (local.set $a21 (v128.const i64x2 0 0))
            (local.set $a30 (v128.const i64x2 0 0)) (local.set $a31 (v128.const i64x2 0 0))
            (local.set $o (i32.const 0))
            (loop $chunk
              (local.set $u (v128.load (i32.add (local.get $x) (local.get $o))))
              (local.set $w (v128.load (i32.add (local.get $xs) (local.get $o))))
              (local.set $v (v128.load (i32.add (local.get $q0) (local.get $o))))
              (local.set $a00 (i32x4.add (local.get $a00) (i32x4.dot_i16x8_s (local.get $v) (local.get $u))))
              (local.set $a01 (i32x4.add (local.get $a01) (i32x4.dot_i16x8_s (local.get $v) (local.get $w))))
              (local.set $v (v128.load (i32.add (local.get $q1) (local.get $o))))
              (local.set $a10 (i32x4.add (local.get $a10) (i32x4.dot_i16x8_s (local.get $v) (local.get $u))))
              (local.set $a11 (i32x4.add (local.get $a11) (i32x4.dot_i16x8_s (local.get $v) (local.get $w))))
              (local.set $v (v128.load (i32.add (local.get $q2) (local.get $o))))
              (local.set $a20 (i32x4.add (local.get $a20) (i32x4.dot_i16x8_s (local.get $v) (local.get $u))))
              (local.set $a21 (i32x4.add (local.get $a21) (i32x4.dot_i16x8_s (local.get $v) (local.get $w))))
              (local.set $v (v128.load (i32.add (local.get $q3) (local.get $o))))
              (local.set $a30 (i32x4.add (local.get $a30) (i32x4.dot_i16x8_s (local.get $v) (local.get $u))))
              (local.set $a31 (i32x4.add (local.get $a31) (i32x4.dot_i16x8_s (local.get $v) (local.get $w))))
              (local.set $o (i32.add (local.get $o) (i32.const 16)))
              (br_if $chunk (i32.lt_u (local.get $o) (local.get $qb))))
            (f32.store offset=0 (local.get $p) (f32.convert_i32_s (i32.add (i32.add (i32x4.extract_lane 0 (local.get $a00)) (i32x4.extract_lane 1 (local.get $a00))) (i32.add (i32x4.extract_lane 2 (local.get $a00)) (i32x4.extract_lane 3 (local.get $a00))))))
            (f32.store offset=4 (local.get $p) (f32.convert_i32_s (i32.add (i32.add (i32x4.extract_lane 0 (local.get $a01)) (i32x4.extract_lane 1 (local.get $a01))) (i32.add (i32x4.extract_lane 2 (local.get $a01)) (i32x4.extract_lane 3 (local.get $a01))))))
            (local.set $p (i32.add (local.get $p) (local.get $ldb)))
            (f32.store offset=0 (local.get $p) (f32.convert_i32_s (i32.add (i32.add (i32x4.extract_lane 0 (local.get $a10)) (i32x4.extract_lane 1 (local.get $a10))) (i32.add (i32x4.extract_lane 2 (local.get $a10)) (i32x4.extract_lane 3 (local.get $a10))))))
            (f32.store offset=4 (local.get $p) (f32.convert_i32_s (i32.add (i32.add (i32x4.extract_lane 0 (local.get $a11)) (i32x4.extract_lane 1 (local.get $a11))) (i32.add (i32x4.extract_lane 2 (local.get $a11)) (i32x4.extract_lane 3 (local.get $a11))))))
            (local.set $p (i32.add (local.get $p) (local.get $ldb)))
            (f32.store offset=0 (local.get $p) (f32.convert_i32_s (i32.add (i32.add (i32x4.extract_lane 0 (local.get $a20)) (i32x4.extract_lane 1 (local.get $a20))) (i32.add (i32x4.extract_lane 2 (local.get $a20)) (i32x4.extract_lane 3 (local.get $a20))))))
            (f32.store offset=4 (local.get $p) (f32.convert_i32_s (i32.add (i32.add (i32x4.extract_lane 0 (local.get $a21)) (i32x4.extract_lane 1 (local.get $a21))) (i32.add (i32x4.extract_lane 2 (local.get $a21)) (i32x4.extract_lane 3 (local.get $a21))))))
            (local.set $p (i32.add (local.get $p) (local.get $ldb)))
            (f32.store offset=0 (local.get $p) (f32.convert_i32_s (i32.add (i32.add (i32x4.extract_lane 0 (local.get $a30)) (i32x4.extract_lane 1 (local.get $a30))) (i32.add (i32x4.extract_lane 2 (local.get $a30)) (i32x4.extract_lane 3 (local.get $a30))))))
            (f32.store offset=4 (local.get $p) (f32.convert_i32_s (i32.add (i32.add (i32x4.extract_lane 0 (local.get $a31)) (i32x4.extract_lane 1 (local.get $a31))) (i32.add (i32x4.extract_lane 2 (local.get $a31)) (i32x4.extract_lane 3 (local.get $a31))))))
            (local.set $p (i32.add (local.get $p) (local.get $ldb)))
            (local.set $q0 (i32.add (local.get $q3) (local.get $qb)))
            (local.set $qi (i32.add (local.get $qi) (i32.const 4)))
            (br $qtile)))
        (local.set $x (i32.add (local.get $xs) (local.get $qb)))
        (local.set $xj (i32.add (local.get $xj) (i32.const 2)))
        (br $xtile))))

  ;; For rows i < m of a score block (row stride ldb bytes) holding x_i . c_j: the j < k
  ;; minimising cnorms[j] - factor * x_i.c_j into labels[i] and best[i] (first j on a tie, as
  ;; argmin), and the second lowest score into second[i]. Each lane keeps its two lowest.
  (func $argmin2 (param $scores i32) (param $m i32) (param $k i32) (param $ldb i32) (param $factor f32)
        (param $cnorms i32) (param $labels i32) (param $best i32) (param $second i32)
    (local $i i32) (local $j i32) (local $row i32) (local $kb i32) (local $f v128)
    (local $s v128) (local $low v128) (local $low2 v128) (local $at v128) (local $js v128) (local $mask v128)
    (local $b f32) (local $l i32) (local $sec f32) (local $v f32) (local $vi i32)
    (local.set $kb (i32.shl (local.get $k) (i32.const 2)))
    (local.set $f (f32x4.splat (local.get $factor)))
    (local.set $row (local.get $scores))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $low (v128.const f32x4 inf inf inf inf))
        (local.set $low2 (v128.const f32x4 inf inf inf inf))
        (local.set $at (v128.const i32x4 0 0 0 0))
        (local.set $js (v128.const i32x4 0 1 2 3))
        (local.set $j (i32.const 0))
        (loop $cols
          (local.set $s
            (f32x4.sub
              (v128.load (i32.add (local.get $cnorms) (local.get $j)))
              (f32x4.mul (local.get $f) (v128.load (i32.add (local.get $row) (local.get $j))))))
          ;; pmin/pmax are single instructions (min/max are not: they order NaNs); the new second
          ;; lowest is the lower of the old one and the larger of (lowest, s)
          (local.set $mask (f32x4.lt (local.get $s) (local.get $low)))
          (local.set $at (v128.bitselect (local.get $js) (local.get $at) (local.get $mask)))
          (local.set $low2 (f32x4.pmin (local.get $low2) (f32x4.pmax (local.get $low) (local.get $s))))
          (local.set $low (f32x4.pmin (local.get $low) (local.get $s)))
          (local.set $js (i32x4.add (local.get $js) (v128.const i32x4 4 4 4 4)))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br_if $cols (i32.lt_u (local.get $j) (local.get $kb))))
        (local.set $sec (f32.min (f32.min (f32x4.extract_lane 0 (local.get $low2)) (f32x4.extract_lane 1 (local.get $low2)))
                                 (f32.min (f32x4.extract_lane 2 (local.get $low2)) (f32x4.extract_lane 3 (local.get $low2)))))
        (local.set $b (f32x4.extract_lane 0 (local.get $low)))
        (local.set $l (i32x4.extract_lane 0 (local.get $at)))
        (local.set $v (f32x4.extract_lane 1 (local.get $low)))
        (local.set $vi (i32x4.extract_lane 1 (local.get $at)))
        (if (i32.or (f32.lt (local.get $v) (local.get $b)) (i32.and (f32.eq (local.get $v) (local.get $b)) (i32.lt_u (local.get $vi) (local.get $l))))
          (then (local.set $sec (f32.min (local.get $sec) (local.get $b))) (local.set $b (local.get $v)) (local.set $l (local.get $vi)))
          (else (local.set $sec (f32.min (local.get $sec) (local.get $v)))))
        (local.set $v (f32x4.extract_lane 2 (local.get $low)))
        (local.set $vi (i32x4.extract_lane 2 (local.get $at)))
        (if (i32.or (f32.lt (local.get $v) (local.get $b)) (i32.and (f32.eq (local.get $v) (local.get $b)) (i32.lt_u (local.get $vi) (local.get $l))))
          (then (local.set $sec (f32.min (local.get $sec) (local.get $b))) (local.set $b (local.get $v)) (local.set $l (local.get $vi)))
          (else (local.set $sec (f32.min (local.get $sec) (local.get $v)))))
        (local.set $v (f32x4.extract_lane 3 (local.get $low)))
        (local.set $vi (i32x4.extract_lane 3 (local.get $at)))
        (if (i32.or (f32.lt (local.get $v) (local.get $b)) (i32.and (f32.eq (local.get $v) (local.get $b)) (i32.lt_u (local.get $vi) (local.get $l))))
          (then (local.set $sec (f32.min (local.get $sec) (local.get $b))) (local.set $b (local.get $v)) (local.set $l (local.get $vi)))
          (else (local.set $sec (f32.min (local.get $sec) (local.get $v)))))
        (i32.store (local.get $labels) (local.get $l))
        (f32.store (local.get $best) (local.get $b))
        (f32.store (local.get $second) (local.get $sec))
        (local.set $labels (i32.add (local.get $labels) (i32.const 4)))
        (local.set $best (i32.add (local.get $best) (i32.const 4)))
        (local.set $second (i32.add (local.get $second) (i32.const 4)))
        (local.set $row (i32.add (local.get $row) (local.get $ldb)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; nearest over int16 rows and centroids (qb bytes each): for each x_i (i < n, a multiple of 8)
  ;; the j < k (a multiple of 8) minimising cnorms[j] - factor * x_i.c_j, with the second lowest
  ;; score, in blocks of 32 rows through scratch (32 x k floats).
  (func (export "nearestI16") (param $x i32) (param $n i32) (param $c i32) (param $k i32) (param $qb i32)
        (param $cnorms i32) (param $factor f32) (param $labels i32) (param $best i32) (param $second i32) (param $scratch i32)
    (local $i i32) (local $m i32)
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $m (i32.sub (local.get $n) (local.get $i)))
        (if (i32.gt_u (local.get $m) (i32.const 32)) (then (local.set $m (i32.const 32))))
        (call $dotBlockI16 (local.get $x) (local.get $m) (local.get $c) (local.get $k) (local.get $qb) (local.get $scratch) (local.get $k))
        (call $argmin2 (local.get $scratch) (local.get $m) (local.get $k) (i32.shl (local.get $k) (i32.const 2)) (local.get $factor)
          (local.get $cnorms) (local.get $labels) (local.get $best) (local.get $second))
        (local.set $x (i32.add (local.get $x) (i32.mul (local.get $m) (local.get $qb))))
        (local.set $labels (i32.add (local.get $labels) (i32.shl (local.get $m) (i32.const 2))))
        (local.set $best (i32.add (local.get $best) (i32.shl (local.get $m) (i32.const 2))))
        (local.set $second (i32.add (local.get $second) (i32.shl (local.get $m) (i32.const 2))))
        (local.set $i (i32.add (local.get $i) (local.get $m)))
        (br $blocks))))

  ;; sums[labels[i]] += x_i for i < n, accumulated in float64 (two f64x2 per f32x4 chunk) so
  ;; that centroid means over many rows keep their precision. sums rows are 2 * rb bytes.
  (func (export "sumRows") (param $x i32) (param $n i32) (param $rb i32) (param $labels i32) (param $sums i32)
    (local $i i32) (local $o i32) (local $to i32) (local $v v128)
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $to (i32.add (local.get $sums)
          (i32.mul (i32.load (i32.add (local.get $labels) (i32.shl (local.get $i) (i32.const 2)))) (i32.shl (local.get $rb) (i32.const 1)))))
        (local.set $o (i32.const 0))
        (loop $chunk
          (local.set $v (v128.load (i32.add (local.get $x) (local.get $o))))
          (v128.store offset=0 (local.get $to)
            (f64x2.add (v128.load offset=0 (local.get $to)) (f64x2.promote_low_f32x4 (local.get $v))))
          (v128.store offset=16 (local.get $to)
            (f64x2.add (v128.load offset=16 (local.get $to))
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
          (local.set $to (i32.add (local.get $to) (i32.const 32)))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (br_if $chunk (i32.lt_u (local.get $o) (local.get $rb))))
        (local.set $x (i32.add (local.get $x) (local.get $rb)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; dst row i = src row indices[i] for i < n: gathers a mini-batch into contiguous rows. A v128
  ;; loop: memory.copy on a shared memory costs about as much per call as copying a 512-byte row.
  (func (export "gatherRows") (param $src i32) (param $indices i32) (param $n i32) (param $rb i32) (param $dst i32)
    (local $end i32) (local $from i32) (local $o i32)
    (local.set $end (i32.add (local.get $indices) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $indices) (local.get $end)))
        (local.set $from (i32.add (local.get $src) (i32.mul (i32.load (local.get $indices)) (local.get $rb))))
        (local.set $o (i32.const 0))
        (loop $chunk
          (v128.store (i32.add (local.get $dst) (local.get $o)) (v128.load (i32.add (local.get $from) (local.get $o))))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (br_if $chunk (i32.lt_u (local.get $o) (local.get $rb))))
        (local.set $dst (i32.add (local.get $dst) (local.get $rb)))
        (local.set $indices (i32.add (local.get $indices) (i32.const 4)))
        (br $rows))))

  ;; k-means++ seeding: for i < n (a multiple of 4), d_i = max(0, norms[i] + cn - 2 dots[i]), the
  ;; squared distance of sample row i to a candidate; returns the sum of min(closest[i], d_i) (the
  ;; sample's potential were the candidate chosen), summed in float64, and when `update` is set
  ;; stores those minima into closest.
  (func (export "seedPotential") (param $closest i32) (param $norms i32) (param $dots i32) (param $n i32) (param $cn f32) (param $update i32) (result f64)
    (local $o i32) (local $end i32) (local $c v128) (local $m v128) (local $lo v128) (local $hi v128)
    (local.set $c (f32x4.splat (local.get $cn)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $lo (v128.const f64x2 0 0)) (local.set $hi (v128.const f64x2 0 0))
    (block $done
      (loop $quad
        (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $m
          (f32x4.pmin (v128.load (i32.add (local.get $closest) (local.get $o)))
            (f32x4.pmax (v128.const f32x4 0 0 0 0)
              (f32x4.sub (f32x4.add (v128.load (i32.add (local.get $norms) (local.get $o))) (local.get $c))
                (f32x4.mul (v128.const f32x4 2 2 2 2) (v128.load (i32.add (local.get $dots) (local.get $o))))))))
        (if (local.get $update) (then (v128.store (i32.add (local.get $closest) (local.get $o)) (local.get $m))))
        (local.set $lo (f64x2.add (local.get $lo) (f64x2.promote_low_f32x4 (local.get $m))))
        (local.set $hi (f64x2.add (local.get $hi) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $m) (local.get $m)))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $quad)))
    (local.set $lo (f64x2.add (local.get $lo) (local.get $hi)))
    (f64.add (f64x2.extract_lane 0 (local.get $lo)) (f64x2.extract_lane 1 (local.get $lo))))

  ;; The exact re-rank's sums, as metric.ts's exactDistance forms them: for each row at byte
  ;; offset rows[i] (u32, i < n) and the first `bytes` of it (whole f32x4 chunks), four float64
  ;; running sums of lanes 0..3 of (q - x)^2 (dot = 0) or of q * x (dot = 1), each term and each
  ;; addition rounded as in JS, into out[4i .. 4i + 3]. The caller adds the tail and combines them.
  (func (export "rerankSums") (param $q i32) (param $rows i32) (param $n i32) (param $bytes i32) (param $dot i32) (param $out i32)
    (local $end i32) (local $x i32) (local $o i32) (local $qv v128) (local $xv v128)
    (local $lo v128) (local $hi v128) (local $a v128) (local $b v128)
    (local.set $end (i32.add (local.get $rows) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $rows) (local.get $end)))
        (local.set $x (i32.load (local.get $rows)))
        (local.set $lo (v128.const f64x2 0 0)) (local.set $hi (v128.const f64x2 0 0))
        (local.set $o (i32.const 0))
        (block $chunksDone
          (loop $chunk
            (br_if $chunksDone (i32.ge_u (local.get $o) (local.get $bytes)))
            (local.set $qv (v128.load (i32.add (local.get $q) (local.get $o))))
            (local.set $xv (v128.load (i32.add (local.get $x) (local.get $o))))
            (if (local.get $dot)
              (then
                (local.set $lo (f64x2.add (local.get $lo) (f64x2.mul (f64x2.promote_low_f32x4 (local.get $qv)) (f64x2.promote_low_f32x4 (local.get $xv)))))
                (local.set $qv (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $qv) (local.get $qv)))
                (local.set $xv (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $xv) (local.get $xv)))
                (local.set $hi (f64x2.add (local.get $hi) (f64x2.mul (f64x2.promote_low_f32x4 (local.get $qv)) (f64x2.promote_low_f32x4 (local.get $xv))))))
              (else
                (local.set $a (f64x2.sub (f64x2.promote_low_f32x4 (local.get $qv)) (f64x2.promote_low_f32x4 (local.get $xv))))
                (local.set $lo (f64x2.add (local.get $lo) (f64x2.mul (local.get $a) (local.get $a))))
                (local.set $qv (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $qv) (local.get $qv)))
                (local.set $xv (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $xv) (local.get $xv)))
                (local.set $b (f64x2.sub (f64x2.promote_low_f32x4 (local.get $qv)) (f64x2.promote_low_f32x4 (local.get $xv))))
                (local.set $hi (f64x2.add (local.get $hi) (f64x2.mul (local.get $b) (local.get $b))))))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $chunk)))
        (v128.store offset=0 (local.get $out) (local.get $lo))
        (v128.store offset=16 (local.get $out) (local.get $hi))
        (local.set $out (i32.add (local.get $out) (i32.const 32)))
        (local.set $rows (i32.add (local.get $rows) (i32.const 4)))
        (br $row))))

  ;; Quantized pre-scan. Rows also exist as int8 codes (cb bytes per row, a multiple of 16) and a
  ;; query as int16 (2 cb bytes); i32x4.dot_i16x8_s multiplies and pairs them exactly in integers,
  ;; so these kernels move a quarter of the bytes of the f32 ones with about half the operations,
  ;; and every tile shape gives the same exact sum. out[i] = (f32) q16 . codes_i.
  (func (export "dotRowsI8") (param $q i32) (param $x i32) (param $n i32) (param $cb i32) (param $out i32)
    (local $end i32) (local $o i32) (local $v v128) (local $a0 v128) (local $a1 v128) (local $s v128)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (local.set $a0 (v128.const i64x2 0 0)) (local.set $a1 (v128.const i64x2 0 0))
        (local.set $o (i32.const 0))
        (loop $step
          (local.set $v (v128.load (i32.add (local.get $x) (local.get $o))))
          (local.set $a0 (i32x4.add (local.get $a0)
            (i32x4.dot_i16x8_s (v128.load offset=0 (i32.add (local.get $q) (i32.shl (local.get $o) (i32.const 1)))) (i16x8.extend_low_i8x16_s (local.get $v)))))
          (local.set $a1 (i32x4.add (local.get $a1)
            (i32x4.dot_i16x8_s (v128.load offset=16 (i32.add (local.get $q) (i32.shl (local.get $o) (i32.const 1)))) (i16x8.extend_high_i8x16_s (local.get $v)))))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (br_if $step (i32.lt_u (local.get $o) (local.get $cb))))
        (local.set $s (i32x4.add (local.get $a0) (local.get $a1)))
        (f32.store (local.get $out) (f32.convert_i32_s (i32.add (i32.add (i32x4.extract_lane 0 (local.get $s)) (i32x4.extract_lane 1 (local.get $s))) (i32.add (i32x4.extract_lane 2 (local.get $s)) (i32x4.extract_lane 3 (local.get $s))))))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $x (i32.add (local.get $x) (local.get $cb)))
        (br $row))))

  ;; out[i * ldo + j] = (f32) q16_i . codes_j, tiles of 4 queries x 2 rows, rows in the outer loop
  ;; (as dotBlock). m is a multiple of 4, n of 2, ldo counts floats.
  (func (export "dotBlockI8") (param $q i32) (param $m i32) (param $x i32) (param $n i32) (param $cb i32) (param $out i32) (param $ldo i32)
    (local $qi i32) (local $xj i32) (local $o i32) (local $ldb i32) (local $qb i32) (local $q0 i32) (local $qo i32)
    (local $xs i32) (local $p i32)
    (local $ul v128) (local $uh v128) (local $wl v128) (local $wh v128) (local $lo v128) (local $hi v128) (local $t v128)
    (local $a00 v128)
    (local $a01 v128)
    (local $a10 v128)
    (local $a11 v128)
    (local $a20 v128)
    (local $a21 v128)
    (local $a30 v128)
    (local $a31 v128)
    (local $ab v128) (local $cd v128)
    (local.set $ldb (i32.shl (local.get $ldo) (i32.const 2)))
    (local.set $qb (i32.shl (local.get $cb) (i32.const 1)))
    (local.set $xj (i32.const 0))
    (block $xdone
      (loop $xtile
        (br_if $xdone (i32.ge_u (local.get $xj) (local.get $n)))
        (local.set $xs (i32.add (local.get $x) (local.get $cb)))
        (local.set $q0 (local.get $q))
        (local.set $p (i32.add (local.get $out) (i32.shl (local.get $xj) (i32.const 2))))
        (local.set $qi (i32.const 0))
        (block $qdone
          (loop $qtile
            (br_if $qdone (i32.ge_u (local.get $qi) (local.get $m)))
            (local.set $a00 (v128.const i64x2 0 0))
            (local.set $a01 (v128.const i64x2 0 0))
            (local.set $a10 (v128.const i64x2 0 0))
            (local.set $a11 (v128.const i64x2 0 0))
            (local.set $a20 (v128.const i64x2 0 0))
            (local.set $a21 (v128.const i64x2 0 0))
            (local.set $a30 (v128.const i64x2 0 0))
            (local.set $a31 (v128.const i64x2 0 0))
            (local.set $o (i32.const 0))
            (loop $step
              (local.set $t (v128.load (i32.add (local.get $x) (local.get $o))))
              (local.set $ul (i16x8.extend_low_i8x16_s (local.get $t)))
              (local.set $uh (i16x8.extend_high_i8x16_s (local.get $t)))
              (local.set $t (v128.load (i32.add (local.get $xs) (local.get $o))))
              (local.set $wl (i16x8.extend_low_i8x16_s (local.get $t)))
              (local.set $wh (i16x8.extend_high_i8x16_s (local.get $t)))
              (local.set $qo (i32.add (local.get $q0) (i32.shl (local.get $o) (i32.const 1))))
              (local.set $lo (v128.load offset=0 (local.get $qo)))
              (local.set $hi (v128.load offset=16 (local.get $qo)))
              (local.set $a00 (i32x4.add (local.get $a00) (i32x4.add (i32x4.dot_i16x8_s (local.get $lo) (local.get $ul)) (i32x4.dot_i16x8_s (local.get $hi) (local.get $uh)))))
              (local.set $a01 (i32x4.add (local.get $a01) (i32x4.add (i32x4.dot_i16x8_s (local.get $lo) (local.get $wl)) (i32x4.dot_i16x8_s (local.get $hi) (local.get $wh)))))
              (local.set $qo (i32.add (local.get $qo) (local.get $qb)))
              (local.set $lo (v128.load offset=0 (local.get $qo)))
              (local.set $hi (v128.load offset=16 (local.get $qo)))
              (local.set $a10 (i32x4.add (local.get $a10) (i32x4.add (i32x4.dot_i16x8_s (local.get $lo) (local.get $ul)) (i32x4.dot_i16x8_s (local.get $hi) (local.get $uh)))))
              (local.set $a11 (i32x4.add (local.get $a11) (i32x4.add (i32x4.dot_i16x8_s (local.get $lo) (local.get $wl)) (i32x4.dot_i16x8_s (local.get $hi) (local.get $wh)))))
              (local.set $qo (i32.add (local.get $qo) (local.get $qb)))
              (local.set $lo (v128.load offset=0 (local.get $qo)))
              (local.set $hi (v128.load offset=16 (local.get $qo)))
              (local.set $a20 (i32x4.add (local.get $a20) (i32x4.add (i32x4.dot_i16x8_s (local.get $lo) (local.get $ul)) (i32x4.dot_i16x8_s (local.get $hi) (local.get $uh)))))
              (local.set $a21 (i32x4.add (local.get $a21) (i32x4.add (i32x4.dot_i16x8_s (local.get $lo) (local.get $wl)) (i32x4.dot_i16x8_s (local.get $hi) (local.get $wh)))))
              (local.set $qo (i32.add (local.get $qo) (local.get $qb)))
              (local.set $lo (v128.load offset=0 (local.get $qo)))
              (local.set $hi (v128.load offset=16 (local.get $qo)))
              (local.set $a30 (i32x4.add (local.get $a30) (i32x4.add (i32x4.dot_i16x8_s (local.get $lo) (local.get $ul)) (i32x4.dot_i16x8_s (local.get $hi) (local.get $uh)))))
              (local.set $a31 (i32x4.add (local.get $a31) (i32x4.add (i32x4.dot_i16x8_s (local.get $lo) (local.get $wl)) (i32x4.dot_i16x8_s (local.get $hi) (local.get $wh)))))
              (local.set $o (i32.add (local.get $o) (i32.const 16)))
              (br_if $step (i32.lt_u (local.get $o) (local.get $cb))))
            ;; The accumulators' lanes summed four accumulators at a time, transposed (lane i of $lo
            ;; the row-0 sum of query i, of $hi the row-1 sum; pairs of lanes, then pairs of pairs),
            ;; exact in integers as any order of adds is, then each query's two scores stored as one
            ;; 64-bit lane: 26 operations where extracting each sum took 72.
            (local.set $ab (i32x4.add (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a00) (local.get $a10)) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a00) (local.get $a10))))
            (local.set $cd (i32x4.add (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a20) (local.get $a30)) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a20) (local.get $a30))))
            (local.set $lo (f32x4.convert_i32x4_s (i32x4.add (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $ab) (local.get $cd)) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $ab) (local.get $cd)))))
            (local.set $ab (i32x4.add (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a01) (local.get $a11)) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a01) (local.get $a11))))
            (local.set $cd (i32x4.add (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a21) (local.get $a31)) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a21) (local.get $a31))))
            (local.set $hi (f32x4.convert_i32x4_s (i32x4.add (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $ab) (local.get $cd)) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $ab) (local.get $cd)))))
            (local.set $t (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $lo) (local.get $hi)))
            (local.set $hi (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $lo) (local.get $hi)))
            (v128.store64_lane 0 (local.get $p) (local.get $t))
            (local.set $p (i32.add (local.get $p) (local.get $ldb)))
            (v128.store64_lane 1 (local.get $p) (local.get $t))
            (local.set $p (i32.add (local.get $p) (local.get $ldb)))
            (v128.store64_lane 0 (local.get $p) (local.get $hi))
            (local.set $p (i32.add (local.get $p) (local.get $ldb)))
            (v128.store64_lane 1 (local.get $p) (local.get $hi))
            (local.set $p (i32.add (local.get $p) (local.get $ldb)))
            (local.set $q0 (i32.add (local.get $q0) (i32.shl (local.get $qb) (i32.const 2))))
            (local.set $qi (i32.add (local.get $qi) (i32.const 4)))
            (br $qtile)))
        (local.set $x (i32.add (local.get $xs) (local.get $cb)))
        (local.set $xj (i32.add (local.get $xj) (i32.const 2)))
        (br $xtile))))

;; selectScores for m queries at once over one block of rows: query q's dots are the row at
  ;; dots + 4 q ldo, its twice and bound the f32 pair at params + 8 q. Writes (u32) q * 65536 + i
  ;; for each pick (n < 65536), query by query and in row order within each, and returns the end.
  ;; One call per block, not one per query: for a group of queries the calls cost more than the picking.
  (func (export "selectBlock") (param $norms i32) (param $dots i32) (param $m i32) (param $n i32) (param $ldo i32) (param $params i32) (param $out i32) (result i32)
    (local $i i32) (local $q i32) (local $n4 i32) (local $mask i32) (local $tag i32) (local $t v128) (local $b v128)
    (local $twice f32) (local $bound f32)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $queriesDone
      (loop $query
        (br_if $queriesDone (i32.ge_u (local.get $q) (local.get $m)))
        (local.set $twice (f32.load offset=0 (local.get $params)))
        (local.set $bound (f32.load offset=4 (local.get $params)))
        (local.set $t (f32x4.splat (local.get $twice)))
        (local.set $b (f32x4.splat (local.get $bound)))
        (local.set $tag (i32.shl (local.get $q) (i32.const 16)))
        (local.set $i (i32.const 0))
        (block $done
          (loop $quad
            (br_if $done (i32.ge_u (local.get $i) (local.get $n4)))
            (local.set $mask (i32x4.bitmask (f32x4.le
              (f32x4.sub (v128.load (i32.add (local.get $norms) (i32.shl (local.get $i) (i32.const 2))))
                         (f32x4.mul (local.get $t) (v128.load (i32.add (local.get $dots) (i32.shl (local.get $i) (i32.const 2))))))
              (local.get $b))))
            (if (local.get $mask)
              (then
              (if (i32.and (local.get $mask) (i32.const 1))
                (then (i32.store (local.get $out) (i32.or (local.get $tag) (local.get $i))) (local.set $out (i32.add (local.get $out) (i32.const 4)))))
              (if (i32.and (local.get $mask) (i32.const 2))
                (then (i32.store (local.get $out) (i32.or (local.get $tag) (i32.add (local.get $i) (i32.const 1)))) (local.set $out (i32.add (local.get $out) (i32.const 4)))))
              (if (i32.and (local.get $mask) (i32.const 4))
                (then (i32.store (local.get $out) (i32.or (local.get $tag) (i32.add (local.get $i) (i32.const 2)))) (local.set $out (i32.add (local.get $out) (i32.const 4)))))
              (if (i32.and (local.get $mask) (i32.const 8))
                (then (i32.store (local.get $out) (i32.or (local.get $tag) (i32.add (local.get $i) (i32.const 3)))) (local.set $out (i32.add (local.get $out) (i32.const 4)))))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $quad)))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $i) (local.get $n)))
            (if (f32.le
                  (f32.sub (f32.load (i32.add (local.get $norms) (i32.shl (local.get $i) (i32.const 2))))
                           (f32.mul (local.get $twice) (f32.load (i32.add (local.get $dots) (i32.shl (local.get $i) (i32.const 2))))))
                  (local.get $bound))
              (then (i32.store (local.get $out) (i32.or (local.get $tag) (local.get $i))) (local.set $out (i32.add (local.get $out) (i32.const 4)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $tail)))
        (local.set $dots (i32.add (local.get $dots) (i32.shl (local.get $ldo) (i32.const 2))))
        (local.set $params (i32.add (local.get $params) (i32.const 8)))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $query)))
    (local.get $out))

;; The k-th smallest (1-based, k <= n) of the f32 scores norms[i] - twice * dots[i], i < n, as
  ;; selectScores computes them (written to scratch, n floats). Found by bisection on the scores'
  ;; order-preserving integer keys, each step a branch-free SIMD count of the scores at or under
  ;; the middle, until exactly k are: a quickselect's data-dependent branches cost about three
  ;; times as much at 256 scores (about a tenth of a batch at 128-d and 1-2 probes). The answer is
  ;; then the largest score at or under the bound, which is the k-th exactly; with ties at the
  ;; k-th the keys close in on its value (at most 32 steps).
  (func (export "kthScore") (param $norms i32) (param $dots i32) (param $n i32) (param $twice f32) (param $k i32) (param $scratch i32) (result f32)
    (local $i i32) (local $n4 i32) (local $t v128) (local $s v128) (local $lo4 v128) (local $hi4 v128)
    (local $lo i32) (local $hi i32) (local $mid i32) (local $c i32) (local $v f32) (local $min f32) (local $max f32)
    (local.set $t (f32x4.splat (local.get $twice)))
    (local.set $lo4 (f32x4.splat (f32.const inf)))
    (local.set $hi4 (f32x4.splat (f32.const -inf)))
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $done
      (loop $quad
        (br_if $done (i32.ge_u (local.get $i) (local.get $n4)))
        (local.set $s
          (f32x4.sub (v128.load (i32.add (local.get $norms) (i32.shl (local.get $i) (i32.const 2))))
                     (f32x4.mul (local.get $t) (v128.load (i32.add (local.get $dots) (i32.shl (local.get $i) (i32.const 2)))))))
        (v128.store (i32.add (local.get $scratch) (i32.shl (local.get $i) (i32.const 2))) (local.get $s))
        (local.set $lo4 (f32x4.min (local.get $lo4) (local.get $s)))
        (local.set $hi4 (f32x4.max (local.get $hi4) (local.get $s)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $quad)))
    (local.set $min (f32.min (f32.min (f32x4.extract_lane 0 (local.get $lo4)) (f32x4.extract_lane 1 (local.get $lo4)))
                             (f32.min (f32x4.extract_lane 2 (local.get $lo4)) (f32x4.extract_lane 3 (local.get $lo4)))))
    (local.set $max (f32.max (f32.max (f32x4.extract_lane 0 (local.get $hi4)) (f32x4.extract_lane 1 (local.get $hi4)))
                             (f32.max (f32x4.extract_lane 2 (local.get $hi4)) (f32x4.extract_lane 3 (local.get $hi4)))))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $v
          (f32.sub (f32.load (i32.add (local.get $norms) (i32.shl (local.get $i) (i32.const 2))))
                   (f32.mul (local.get $twice) (f32.load (i32.add (local.get $dots) (i32.shl (local.get $i) (i32.const 2)))))))
        (f32.store (i32.add (local.get $scratch) (i32.shl (local.get $i) (i32.const 2))) (local.get $v))
        (local.set $min (f32.min (local.get $min) (local.get $v)))
        (local.set $max (f32.max (local.get $max) (local.get $v)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))
    ;; Invariant: fewer than k scores at or under key lo, at least k at or under key hi.
    (if (i32.ge_u (call $countAtMost (local.get $scratch) (local.get $n) (local.get $min)) (local.get $k))
      (then (return (local.get $min))))
    (local.set $lo (call $orderKey (local.get $min)))
    (local.set $hi (call $orderKey (local.get $max)))
    (block $found
      (loop $bisect
        (br_if $found (i32.le_u (i32.sub (local.get $hi) (local.get $lo)) (i32.const 1)))
        (local.set $mid (i32.add (local.get $lo) (i32.shr_u (i32.sub (local.get $hi) (local.get $lo)) (i32.const 1))))
        (local.set $c (call $countAtMost (local.get $scratch) (local.get $n) (call $keyValue (local.get $mid))))
        (if (i32.lt_u (local.get $c) (local.get $k))
          (then (local.set $lo (local.get $mid)) (br $bisect)))
        (local.set $hi (local.get $mid))
        (br_if $found (i32.eq (local.get $c) (local.get $k)))
        (br $bisect)))
    (call $largestAtMost (local.get $scratch) (local.get $n) (call $keyValue (local.get $hi))))

  ;; An f32's key: unsigned integers in the floats' order (sign bit set for positives, negatives
  ;; with every bit flipped), and back.
  (func $orderKey (param $x f32) (result i32)
    (local $bits i32)
    (local.set $bits (i32.reinterpret_f32 (local.get $x)))
    (i32.xor (local.get $bits) (i32.or (i32.shr_s (local.get $bits) (i32.const 31)) (i32.const 0x80000000))))
  (func $keyValue (param $key i32) (result f32)
    (f32.reinterpret_i32 (i32.xor (local.get $key)
      (i32.or (i32.xor (i32.shr_s (local.get $key) (i32.const 31)) (i32.const -1)) (i32.const 0x80000000)))))

  ;; How many of the n f32 at $at are <= $bound (four lanes of 0 / -1 masks summed, then the tail).
  (func $countAtMost (param $at i32) (param $n i32) (param $bound f32) (result i32)
    (local $i i32) (local $n4 i32) (local $b v128) (local $c v128) (local $count i32)
    (local.set $b (f32x4.splat (local.get $bound)))
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $done
      (loop $quad
        (br_if $done (i32.ge_u (local.get $i) (local.get $n4)))
        (local.set $c (i32x4.sub (local.get $c) (f32x4.le (v128.load (i32.add (local.get $at) (i32.shl (local.get $i) (i32.const 2)))) (local.get $b))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $quad)))
    (local.set $count (i32.add (i32.add (i32x4.extract_lane 0 (local.get $c)) (i32x4.extract_lane 1 (local.get $c)))
                               (i32.add (i32x4.extract_lane 2 (local.get $c)) (i32x4.extract_lane 3 (local.get $c)))))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $count (i32.add (local.get $count) (f32.le (f32.load (i32.add (local.get $at) (i32.shl (local.get $i) (i32.const 2)))) (local.get $bound))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))
    (local.get $count))

  ;; The largest of the n f32 at $at that is <= $bound (one is).
  (func $largestAtMost (param $at i32) (param $n i32) (param $bound f32) (result f32)
    (local $i i32) (local $n4 i32) (local $b v128) (local $m v128) (local $x v128) (local $v f32) (local $best f32)
    (local.set $b (f32x4.splat (local.get $bound)))
    (local.set $m (f32x4.splat (f32.const -inf)))
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $done
      (loop $quad
        (br_if $done (i32.ge_u (local.get $i) (local.get $n4)))
        (local.set $x (v128.load (i32.add (local.get $at) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $m (f32x4.max (local.get $m) (v128.bitselect (local.get $x) (f32x4.splat (f32.const -inf)) (f32x4.le (local.get $x) (local.get $b)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $quad)))
    (local.set $best (f32.max (f32.max (f32x4.extract_lane 0 (local.get $m)) (f32x4.extract_lane 1 (local.get $m)))
                              (f32.max (f32x4.extract_lane 2 (local.get $m)) (f32x4.extract_lane 3 (local.get $m)))))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $v (f32.load (i32.add (local.get $at) (i32.shl (local.get $i) (i32.const 2)))))
        (if (f32.le (local.get $v) (local.get $bound)) (then (local.set $best (f32.max (local.get $best) (local.get $v)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))
    (local.get $best))

;; The coarse probes of m queries: for query i (its centroid dots the f32 row at dots + 4 i ldo),
  ;; the p lists j < k of lowest score norms[j] - 2 dots[j] in float64 (as coarse-quantizer.ts
  ;; computes it), the lower list first on a tie, nearest first, into out[i p .. i p + p) (u32).
  ;; `scratch` takes p float64: the scores kept, an insertion-sorted run beside out's lists.
  (func (export "nearestProbes") (param $dots i32) (param $norms i32) (param $m i32) (param $k i32) (param $ldo i32) (param $p i32) (param $out i32) (param $scratch i32)
    (local $i i32) (local $j i32) (local $count i32) (local $at i32) (local $s f64)
    (block $queriesDone
      (loop $query
        (br_if $queriesDone (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $count (i32.const 0))
        (local.set $j (i32.const 0))
        (block $listsDone
          (loop $list
            (br_if $listsDone (i32.ge_u (local.get $j) (local.get $k)))
            (local.set $s (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $norms) (i32.shl (local.get $j) (i32.const 2)))))
              (f64.mul (f64.const 2) (f64.promote_f32 (f32.load (i32.add (local.get $dots) (i32.shl (local.get $j) (i32.const 2))))))))
            ;; a full run takes only a strictly lower score: lists come in ascending order
            (if (i32.or (i32.lt_u (local.get $count) (local.get $p))
                  (f64.lt (local.get $s) (f64.load (i32.add (local.get $scratch) (i32.shl (i32.sub (local.get $p) (i32.const 1)) (i32.const 3))))))
              (then
                (local.set $at (select (local.get $count) (i32.sub (local.get $p) (i32.const 1)) (i32.lt_u (local.get $count) (local.get $p))))
                (if (i32.lt_u (local.get $count) (local.get $p)) (then (local.set $count (i32.add (local.get $count) (i32.const 1)))))
                ;; shift up the kept entries scoring strictly more (an equal score is a lower list)
                (block $placed
                  (loop $shift
                    (br_if $placed (i32.eqz (local.get $at)))
                    (br_if $placed (i32.eqz (f64.gt (f64.load (i32.add (local.get $scratch) (i32.shl (i32.sub (local.get $at) (i32.const 1)) (i32.const 3)))) (local.get $s))))
                    (f64.store (i32.add (local.get $scratch) (i32.shl (local.get $at) (i32.const 3)))
                      (f64.load (i32.add (local.get $scratch) (i32.shl (i32.sub (local.get $at) (i32.const 1)) (i32.const 3)))))
                    (i32.store (i32.add (local.get $out) (i32.shl (local.get $at) (i32.const 2)))
                      (i32.load (i32.add (local.get $out) (i32.shl (i32.sub (local.get $at) (i32.const 1)) (i32.const 2)))))
                    (local.set $at (i32.sub (local.get $at) (i32.const 1)))
                    (br $shift)))
                (f64.store (i32.add (local.get $scratch) (i32.shl (local.get $at) (i32.const 3))) (local.get $s))
                (i32.store (i32.add (local.get $out) (i32.shl (local.get $at) (i32.const 2))) (local.get $j))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $list)))
        (local.set $dots (i32.add (local.get $dots) (i32.shl (local.get $ldo) (i32.const 2))))
        (local.set $out (i32.add (local.get $out) (i32.shl (local.get $p) (i32.const 2))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $query))))

  ;; Writes to out (u32) the indices i < n whose score norms[i] - twice * dots[i] is at most
  ;; bound, and returns the end of what it wrote. A search passes its current top-k bound
  ;; (slightly widened: these scores are f32) so that JS only looks at rows that might enter.
  (func (export "selectScores") (param $norms i32) (param $dots i32) (param $n i32) (param $twice f32) (param $bound f32) (param $out i32) (result i32)
    (local $i i32) (local $n4 i32) (local $mask i32) (local $t v128) (local $b v128)
    (local.set $t (f32x4.splat (local.get $twice)))
    (local.set $b (f32x4.splat (local.get $bound)))
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $done
      (loop $quad
        (br_if $done (i32.ge_u (local.get $i) (local.get $n4)))
        (local.set $mask (i32x4.bitmask (f32x4.le
          (f32x4.sub (v128.load (i32.add (local.get $norms) (i32.shl (local.get $i) (i32.const 2))))
                     (f32x4.mul (local.get $t) (v128.load (i32.add (local.get $dots) (i32.shl (local.get $i) (i32.const 2))))))
          (local.get $b))))
        (if (local.get $mask)
          (then
          (if (i32.and (local.get $mask) (i32.const 1))
            (then (i32.store (local.get $out) (i32.add (local.get $i) (i32.const 0))) (local.set $out (i32.add (local.get $out) (i32.const 4)))))
          (if (i32.and (local.get $mask) (i32.const 2))
            (then (i32.store (local.get $out) (i32.add (local.get $i) (i32.const 1))) (local.set $out (i32.add (local.get $out) (i32.const 4)))))
          (if (i32.and (local.get $mask) (i32.const 4))
            (then (i32.store (local.get $out) (i32.add (local.get $i) (i32.const 2))) (local.set $out (i32.add (local.get $out) (i32.const 4)))))
          (if (i32.and (local.get $mask) (i32.const 8))
            (then (i32.store (local.get $out) (i32.add (local.get $i) (i32.const 3))) (local.set $out (i32.add (local.get $out) (i32.const 4)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $quad)))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $i) (local.get $n)))
        (if (f32.le
              (f32.sub (f32.load (i32.add (local.get $norms) (i32.shl (local.get $i) (i32.const 2))))
                       (f32.mul (local.get $twice) (f32.load (i32.add (local.get $dots) (i32.shl (local.get $i) (i32.const 2))))))
              (local.get $bound))
          (then (i32.store (local.get $out) (local.get $i)) (local.set $out (i32.add (local.get $out) (i32.const 4)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))
    (local.get $out))

  ;; IVF_PQ's list scan: out[i] = sum over j < m of table[j * entries + codes[i * m + j]] (f32 table
  ;; rows of `entries`, one u8 code per piece), for i < n (any n). Each sum runs in float64 in j
  ;; order and is rounded once, the bits of the JS loop it replaced; four entries are summed side by
  ;; side so that their chains of dependent adds overlap.
  (func (export "pqScan") (param $table i32) (param $codes i32) (param $n i32) (param $m i32) (param $entries i32) (param $out i32)
    (local $i i32) (local $j i32) (local $row i32) (local $c i32) (local $stride i32) (local $n4 i32)
    (local $s0 f64) (local $s1 f64) (local $s2 f64) (local $s3 f64)
    (local.set $stride (i32.shl (local.get $entries) (i32.const 2)))
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $quadsDone
      (loop $quad
        (br_if $quadsDone (i32.ge_u (local.get $i) (local.get $n4)))
        (local.set $s0 (f64.const 0)) (local.set $s1 (f64.const 0)) (local.set $s2 (f64.const 0)) (local.set $s3 (f64.const 0))
        (local.set $row (local.get $table))
        (local.set $c (local.get $codes))
        (local.set $j (i32.const 0))
        (block $piecesDone
          (loop $piece
            (br_if $piecesDone (i32.ge_u (local.get $j) (local.get $m)))
            (local.set $s0 (f64.add (local.get $s0) (f64.promote_f32 (f32.load (i32.add (local.get $row) (i32.shl (i32.load8_u (local.get $c)) (i32.const 2)))))))
            (local.set $s1 (f64.add (local.get $s1) (f64.promote_f32 (f32.load (i32.add (local.get $row) (i32.shl (i32.load8_u (i32.add (local.get $c) (local.get $m))) (i32.const 2)))))))
            (local.set $s2 (f64.add (local.get $s2) (f64.promote_f32 (f32.load (i32.add (local.get $row) (i32.shl (i32.load8_u (i32.add (local.get $c) (i32.shl (local.get $m) (i32.const 1)))) (i32.const 2)))))))
            (local.set $s3 (f64.add (local.get $s3) (f64.promote_f32 (f32.load (i32.add (local.get $row) (i32.shl (i32.load8_u (i32.add (local.get $c) (i32.mul (local.get $m) (i32.const 3)))) (i32.const 2)))))))
            (local.set $row (i32.add (local.get $row) (local.get $stride)))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $piece)))
        (f32.store offset=0 (local.get $out) (f32.demote_f64 (local.get $s0)))
        (f32.store offset=4 (local.get $out) (f32.demote_f64 (local.get $s1)))
        (f32.store offset=8 (local.get $out) (f32.demote_f64 (local.get $s2)))
        (f32.store offset=12 (local.get $out) (f32.demote_f64 (local.get $s3)))
        (local.set $codes (i32.add (local.get $codes) (i32.shl (local.get $m) (i32.const 2))))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $quad)))
    (block $done
      (loop $entry
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $s0 (f64.const 0))
        (local.set $row (local.get $table))
        (local.set $j (i32.const 0))
        (block $piecesDone
          (loop $piece
            (br_if $piecesDone (i32.ge_u (local.get $j) (local.get $m)))
            (local.set $s0 (f64.add (local.get $s0) (f64.promote_f32 (f32.load (i32.add (local.get $row) (i32.shl (i32.load8_u (i32.add (local.get $codes) (local.get $j))) (i32.const 2)))))))
            (local.set $row (i32.add (local.get $row) (local.get $stride)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $piece)))
        (f32.store (local.get $out) (f32.demote_f64 (local.get $s0)))
        (local.set $codes (i32.add (local.get $codes) (local.get $m)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $entry)))
  )
)

;; Deflicker kernels (WebAssembly SIMD): the brightness sum of a plane and a gain applied to it.
;; The gain is Q12 (4096 = 1, below 8): out = sat_u8((q15(v << 7, g) + 8) >> 4), where
;; q15(a, b) = sat((a·b + 2^14) >> 15) — the TypeScript table in deflicker.ts gives the same bytes.
(module
  (memory (export "memory") 1)

  ;; Sum of the first $cols bytes of every $every-th row of a plane ($rows rows, $stride apart).
  (func (export "sumRows") (param $ptr i32) (param $cols i32) (param $rows i32) (param $stride i32)
    (param $every i32) (result f64)
    (local $y i32) (local $x i32) (local $row i32) (local $end i32) (local $acc v128) (local $tail i32)
    (local $total f64)
    (local.set $end (i32.and (local.get $cols) (i32.const -16)))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $y) (local.get $rows)))
        (local.set $row (i32.add (local.get $ptr) (i32.mul (local.get $y) (local.get $stride))))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $x (i32.const 0))
        (block $chunksDone
          (loop $chunk
            (br_if $chunksDone (i32.ge_u (local.get $x) (local.get $end)))
            (local.set $acc (i32x4.add (local.get $acc)
              (i32x4.extadd_pairwise_i16x8_u
                (i16x8.extadd_pairwise_i8x16_u (v128.load (i32.add (local.get $row) (local.get $x)))))))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (br $chunk)))
        (local.set $tail (i32.const 0))
        (block $tailDone
          (loop $tailLoop
            (br_if $tailDone (i32.ge_u (local.get $x) (local.get $cols)))
            (local.set $tail (i32.add (local.get $tail) (i32.load8_u (i32.add (local.get $row) (local.get $x)))))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))
            (br $tailLoop)))
        (local.set $total (f64.add (local.get $total) (f64.convert_i32_u
          (i32.add (local.get $tail)
            (i32.add
              (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
              (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc))))))))
        (local.set $y (i32.add (local.get $y) (local.get $every)))
        (br $rowLoop)))
    (local.get $total))

  ;; Multiply $n bytes (a multiple of 16) at $ptr by the Q12 gain $g, in place.
  (func (export "applyGain") (param $ptr i32) (param $n i32) (param $g i32)
    (local $i i32) (local $p i32) (local $v v128) (local $G v128) (local $R v128)
    (local.set $G (i16x8.splat (local.get $g)))
    (local.set $R (i16x8.splat (i32.const 8)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $p (i32.add (local.get $ptr) (local.get $i)))
        (local.set $v (v128.load (local.get $p)))
        (v128.store (local.get $p)
          (i8x16.narrow_i16x8_u
            (i16x8.shr_s
              (i16x8.add (i16x8.q15mulr_sat_s (i16x8.shl (i16x8.extend_low_i8x16_u (local.get $v)) (i32.const 7))
                (local.get $G)) (local.get $R))
              (i32.const 4))
            (i16x8.shr_s
              (i16x8.add (i16x8.q15mulr_sat_s (i16x8.shl (i16x8.extend_high_i8x16_u (local.get $v)) (i32.const 7))
                (local.get $G)) (local.get $R))
              (i32.const 4))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $loop)))))

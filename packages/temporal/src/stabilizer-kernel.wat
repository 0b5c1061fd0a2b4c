;; The flow stabilizer's per-pixel passes (flow-stabilizer.ts) in WebAssembly: scalar code in
;; doubles, the same operations in the same order as the TypeScript they replaced (outputs bit for
;; bit what they were), and the resampling taps in SIMD. Every array lives in this module's memory (the stabilizer lays
;; them out once per frame size); addresses are byte offsets.
;;
;; composite: one plane of the output. Per plane pixel (x, y), at luma pixel i = (y << sy)·w +
;; (x << sx), history A with weight wA[i] and history B with weight wB[i] are each drawn from
;; the stored frame their pixel came from (frame number → ring slot through $slots, position
;; from the history's coordinates; Lanczos-3 over 6×6 taps, weights from tables in 1/64 px steps,
;; edges clamped, or the whole pixel within 1/32 px of one), and the rest is the new stylized
;; frame T:
;;   out = (1 − wA − wB)·T + wA·A + wB·B, rounded and clamped to 0–255.
;; Where a sample's six columns lie inside its row, the taps are summed in f32x4 (the rest in
;; doubles).
;;
;; follow, check, commit: moving the histories one frame on; blur: the box blurs (below).
(module
  (memory (export "memory") 1)

  ;; The Lanczos-3 sum of one history pixel whose six columns lie inside the row (x0 − 2 ≥ 0,
  ;; x0 + 3 ≤ maxX), for 1, 3 or 4 channels, in f32x4: each tap row's 6·c bytes are one or two
  ;; loads widened to floats; the rows are summed with their weights (k·wy) first, then the
  ;; columns with theirs (per byte: the weight of its column). $wx, $wy: the fractions' rows of
  ;; the f32 table (8 floats: six weights and two zeros). acc[j] += the sums.
  (func $lanczos
    (param $S i32) (param $stride i32) (param $c i32) (param $col i32) (param $y0 i32) (param $maxY i32)
    (param $wx i32) (param $wy i32) (param $k f32) (param $acc i32)
    (local $A0 v128) (local $A1 v128) (local $A2 v128) (local $A3 v128) (local $A4 v128) (local $A5 v128)
    (local $B v128) (local $L v128) (local $Hh v128) (local $L2 v128) (local $WY v128) (local $W0 v128) (local $W1 v128)
    (local $r i32) (local $yr i32) (local $row i32)
    (loop $rows
      (local.set $yr (i32.add (i32.sub (local.get $y0) (i32.const 2)) (local.get $r)))
      (if (i32.lt_s (local.get $yr) (i32.const 0)) (then (local.set $yr (i32.const 0))))
      (if (i32.gt_s (local.get $yr) (local.get $maxY)) (then (local.set $yr (local.get $maxY))))
      (local.set $row (i32.add (local.get $S) (i32.add (i32.mul (local.get $yr) (local.get $stride)) (local.get $col))))
      (local.set $WY (f32x4.splat (f32.mul (local.get $k) (f32.load (i32.add (local.get $wy) (i32.shl (local.get $r) (i32.const 2)))))))
      (if (i32.eq (local.get $c) (i32.const 1))
        (then
          ;; p0 … p5
          (local.set $L (i16x8.extend_low_i8x16_u (v128.load64_zero (local.get $row))))
          (local.set $A0 (f32x4.add (local.get $A0) (f32x4.mul (local.get $WY) (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (local.get $L))))))
          (local.set $A1 (f32x4.add (local.get $A1) (f32x4.mul (local.get $WY) (f32x4.convert_i32x4_u (i32x4.extend_high_i16x8_u (local.get $L))))))))
      (if (i32.ge_s (local.get $c) (i32.const 3))
        (then
          (local.set $B (v128.load (local.get $row)))
          (local.set $L (i16x8.extend_low_i8x16_u (local.get $B)))
          (local.set $Hh (i16x8.extend_high_i8x16_u (local.get $B)))
          (local.set $L2 (i16x8.extend_low_i8x16_u (v128.load64_zero (i32.add (local.get $row) (i32.mul (local.get $c) (i32.const 4))))))
          (local.set $A0 (f32x4.add (local.get $A0) (f32x4.mul (local.get $WY) (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (local.get $L))))))
          (local.set $A1 (f32x4.add (local.get $A1) (f32x4.mul (local.get $WY) (f32x4.convert_i32x4_u (i32x4.extend_high_i16x8_u (local.get $L))))))
          (local.set $A2 (f32x4.add (local.get $A2) (f32x4.mul (local.get $WY) (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (local.get $Hh))))))
          (local.set $A3 (f32x4.add (local.get $A3) (f32x4.mul (local.get $WY) (f32x4.convert_i32x4_u (i32x4.extend_high_i16x8_u (local.get $Hh))))))
          (local.set $A4 (f32x4.add (local.get $A4) (f32x4.mul (local.get $WY) (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (local.get $L2))))))
          (local.set $A5 (f32x4.add (local.get $A5) (f32x4.mul (local.get $WY) (f32x4.convert_i32x4_u (i32x4.extend_high_i16x8_u (local.get $L2))))))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $rows (i32.lt_s (local.get $r) (i32.const 6))))
    (local.set $W0 (v128.load (local.get $wx)))
    (local.set $W1 (v128.load offset=16 (local.get $wx)))
    (if (i32.eq (local.get $c) (i32.const 1))
      (then
        (f64.store (local.get $acc) (f64.add (f64.load (local.get $acc)) (f64.promote_f32
          (call $hsum (f32x4.add (f32x4.mul (local.get $A0) (local.get $W0)) (f32x4.mul (local.get $A1) (local.get $W1)))))))))
    (if (i32.eq (local.get $c) (i32.const 3))
      (then
        ;; A0–A2 = R0 G0 B0 R1 | G1 B1 R2 G2 | B2 R3 G3 B3 from the first load, A4–A5 =
        ;; R4 G4 B4 R5 | G5 B5 · · from the second (12 bytes on; A3 is not used).
        (local.set $A0 (f32x4.mul (local.get $A0) (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 4 5 6 7 (local.get $W0) (local.get $W0))))
        (local.set $A1 (f32x4.mul (local.get $A1) (i8x16.shuffle 4 5 6 7 4 5 6 7 8 9 10 11 8 9 10 11 (local.get $W0) (local.get $W0))))
        (local.set $A2 (f32x4.mul (local.get $A2) (i8x16.shuffle 8 9 10 11 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $W0) (local.get $W0))))
        (local.set $A4 (f32x4.mul (local.get $A4) (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 4 5 6 7 (local.get $W1) (local.get $W1))))
        (local.set $A5 (f32x4.mul (local.get $A5) (i8x16.shuffle 4 5 6 7 4 5 6 7 8 9 10 11 8 9 10 11 (local.get $W1) (local.get $W1))))
        (f64.store (local.get $acc) (f64.add (f64.load (local.get $acc)) (f64.promote_f32
          (f32.add
            (f32.add
              (f32.add (f32x4.extract_lane 0 (local.get $A0)) (f32x4.extract_lane 3 (local.get $A0)))
              (f32.add (f32x4.extract_lane 2 (local.get $A1)) (f32x4.extract_lane 1 (local.get $A2))))
            (f32.add (f32x4.extract_lane 0 (local.get $A4)) (f32x4.extract_lane 3 (local.get $A4)))))))
        (f64.store offset=8 (local.get $acc) (f64.add (f64.load offset=8 (local.get $acc)) (f64.promote_f32
          (f32.add
            (f32.add
              (f32.add (f32x4.extract_lane 1 (local.get $A0)) (f32x4.extract_lane 0 (local.get $A1)))
              (f32.add (f32x4.extract_lane 3 (local.get $A1)) (f32x4.extract_lane 2 (local.get $A2))))
            (f32.add (f32x4.extract_lane 1 (local.get $A4)) (f32x4.extract_lane 0 (local.get $A5)))))))
        (f64.store offset=16 (local.get $acc) (f64.add (f64.load offset=16 (local.get $acc)) (f64.promote_f32
          (f32.add
            (f32.add
              (f32.add (f32x4.extract_lane 2 (local.get $A0)) (f32x4.extract_lane 1 (local.get $A1)))
              (f32.add (f32x4.extract_lane 0 (local.get $A2)) (f32x4.extract_lane 3 (local.get $A2))))
            (f32.add (f32x4.extract_lane 2 (local.get $A4)) (f32x4.extract_lane 1 (local.get $A5)))))))))
    (if (i32.eq (local.get $c) (i32.const 4))
      (then
        ;; one pixel per vector: taps 0–3 from the first load (A0–A3), 4–5 from the second (A4, A5)
        (local.set $B
          (f32x4.add
            (f32x4.add
              (f32x4.add (f32x4.mul (local.get $A0) (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $W0) (local.get $W0)))
                (f32x4.mul (local.get $A1) (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $W0) (local.get $W0))))
              (f32x4.add (f32x4.mul (local.get $A2) (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $W0) (local.get $W0)))
                (f32x4.mul (local.get $A3) (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $W0) (local.get $W0)))))
            (f32x4.add (f32x4.mul (local.get $A4) (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $W1) (local.get $W1)))
              (f32x4.mul (local.get $A5) (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $W1) (local.get $W1))))))
        (f64.store (local.get $acc) (f64.add (f64.load (local.get $acc)) (f64.promote_f32 (f32x4.extract_lane 0 (local.get $B)))))
        (f64.store offset=8 (local.get $acc) (f64.add (f64.load offset=8 (local.get $acc)) (f64.promote_f32 (f32x4.extract_lane 1 (local.get $B)))))
        (f64.store offset=16 (local.get $acc) (f64.add (f64.load offset=16 (local.get $acc)) (f64.promote_f32 (f32x4.extract_lane 2 (local.get $B)))))
        (f64.store offset=24 (local.get $acc) (f64.add (f64.load offset=24 (local.get $acc)) (f64.promote_f32 (f32x4.extract_lane 3 (local.get $B))))))))

  ;; The sum of a vector's four lanes.
  (func $hsum (param $v v128) (result f32)
    (local.set $v (f32x4.add (local.get $v) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
    (local.set $v (f32x4.add (local.get $v) (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $v) (local.get $v))))
    (f32x4.extract_lane 0 (local.get $v)))

  ;; acc[j] += k · the sample of the history pixel i (see composite); acc at $acc, $c doubles.
  (func $draw
    (param $fn i32) (param $cd i32) (param $i i32) (param $k f64)
    (param $ring0 i32) (param $frameBytes i32) (param $slots i32) (param $first i32)
    (param $stride i32) (param $c i32) (param $sx i32) (param $sy i32) (param $maxX f64) (param $maxY f64) (param $acc i32)
    (param $lut64 i32) (param $lut32 i32)
    (local $S i32) (local $u f64) (local $v f64) (local $x0 f64) (local $y0 f64) (local $fu f64) (local $fv f64)
    (local $base i32) (local $j i32) (local $a i32) (local $q i32) (local $r i32) (local $t i32)
    (local $wx i32) (local $wyr i32) (local $wy f64) (local $yr f64) (local $xt f64) (local $row i32) (local $sum f64)
    (local.set $S
      (i32.add (local.get $ring0)
        (i32.mul (local.get $frameBytes)
          (i32.load (i32.add (local.get $slots)
            (i32.shl (i32.sub (i32.load (i32.add (local.get $fn) (i32.shl (local.get $i) (i32.const 2)))) (local.get $first)) (i32.const 2)))))))
    (local.set $u (f64.promote_f32 (f32.load (i32.add (local.get $cd) (i32.shl (local.get $i) (i32.const 3))))))
    (local.set $v (f64.promote_f32 (f32.load offset=4 (i32.add (local.get $cd) (i32.shl (local.get $i) (i32.const 3))))))
    (if (local.get $sx)
      (then (local.set $u (f64.sub (f64.div (f64.add (local.get $u) (f64.const 0.5)) (f64.convert_i32_s (i32.shl (i32.const 1) (local.get $sx)))) (f64.const 0.5)))))
    (if (local.get $sy)
      (then (local.set $v (f64.sub (f64.div (f64.add (local.get $v) (f64.const 0.5)) (f64.convert_i32_s (i32.shl (i32.const 1) (local.get $sy)))) (f64.const 0.5)))))
    ;; u > 0 ? (u < maxX ? u : maxX) : 0 (NaN → 0)
    (local.set $u (select (select (local.get $u) (local.get $maxX) (f64.lt (local.get $u) (local.get $maxX))) (f64.const 0) (f64.gt (local.get $u) (f64.const 0))))
    (local.set $v (select (select (local.get $v) (local.get $maxY) (f64.lt (local.get $v) (local.get $maxY))) (f64.const 0) (f64.gt (local.get $v) (f64.const 0))))
    (local.set $x0 (f64.floor (local.get $u)))
    (local.set $y0 (f64.floor (local.get $v)))
    (local.set $fu (f64.sub (local.get $u) (local.get $x0)))
    (local.set $fv (f64.sub (local.get $v) (local.get $y0)))
    (if (i32.and
          (i32.or (f64.lt (local.get $fu) (f64.const 0.03125)) (f64.gt (local.get $fu) (f64.const 0.96875)))
          (i32.or (f64.lt (local.get $fv) (f64.const 0.03125)) (f64.gt (local.get $fv) (f64.const 0.96875))))
      (then
        (if (i32.and (f64.gt (local.get $fu) (f64.const 0.5)) (f64.lt (local.get $x0) (local.get $maxX)))
          (then (local.set $x0 (f64.add (local.get $x0) (f64.const 1)))))
        (if (i32.and (f64.gt (local.get $fv) (f64.const 0.5)) (f64.lt (local.get $y0) (local.get $maxY)))
          (then (local.set $y0 (f64.add (local.get $y0) (f64.const 1)))))
        (local.set $base (i32.add (local.get $S)
          (i32.add (i32.mul (i32.trunc_f64_s (local.get $y0)) (local.get $stride)) (i32.mul (i32.trunc_f64_s (local.get $x0)) (local.get $c)))))
        (loop $each
          (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3))))
          (f64.store (local.get $a)
            (f64.add (f64.load (local.get $a))
              (f64.mul (local.get $k) (f64.convert_i32_u (i32.load8_u (i32.add (local.get $base) (local.get $j)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $each (i32.lt_s (local.get $j) (local.get $c))))
        (return)))
    ;; Lanczos-3 weights of the six taps around each fraction, from the tables (1/64 px steps).
    (local.set $q (i32.trunc_f64_s (f64.add (f64.mul (local.get $fu) (f64.const 64)) (f64.const 0.5))))
    (local.set $r (i32.trunc_f64_s (f64.add (f64.mul (local.get $fv) (f64.const 64)) (f64.const 0.5))))
    ;; Inside the row, 1, 3 or 4 channels: vectors.
    (if (i32.and
          (i32.and (f64.ge (local.get $x0) (f64.const 2)) (f64.le (f64.add (local.get $x0) (f64.const 3)) (local.get $maxX)))
          (i32.or (i32.eq (local.get $c) (i32.const 1)) (i32.ge_s (local.get $c) (i32.const 3))))
      (then
        (call $lanczos (local.get $S) (local.get $stride) (local.get $c)
          (i32.mul (i32.sub (i32.trunc_f64_s (local.get $x0)) (i32.const 2)) (local.get $c))
          (i32.trunc_f64_s (local.get $y0)) (i32.trunc_f64_s (local.get $maxY))
          (i32.add (local.get $lut32) (i32.shl (local.get $q) (i32.const 5)))
          (i32.add (local.get $lut32) (i32.shl (local.get $r) (i32.const 5)))
          (f32.demote_f64 (local.get $k)) (local.get $acc))
        (return)))
    ;; Elsewhere per sample in doubles, columns and rows clamped.
    (local.set $wx (i32.add (local.get $lut64) (i32.mul (local.get $q) (i32.const 48))))
    (local.set $wyr (i32.add (local.get $lut64) (i32.mul (local.get $r) (i32.const 48))))
    (local.set $r (i32.const 0))
    (loop $rows
      (local.set $yr (f64.add (f64.sub (local.get $y0) (f64.const 2)) (f64.convert_i32_s (local.get $r))))
      (local.set $row (i32.add (local.get $S)
        (i32.mul (i32.trunc_f64_s (select (f64.const 0) (select (local.get $maxY) (local.get $yr) (f64.gt (local.get $yr) (local.get $maxY))) (f64.lt (local.get $yr) (f64.const 0))))
          (local.get $stride))))
      (local.set $wy (f64.mul (local.get $k) (f64.load (i32.add (local.get $wyr) (i32.shl (local.get $r) (i32.const 3))))))
      (local.set $j (i32.const 0))
      (loop $each
        (local.set $sum (f64.const 0))
        (local.set $t (i32.const 0))
        (loop $taps
          (local.set $xt (f64.add (f64.sub (local.get $x0) (f64.const 2)) (f64.convert_i32_s (local.get $t))))
          (local.set $xt (select (f64.const 0) (select (local.get $maxX) (local.get $xt) (f64.gt (local.get $xt) (local.get $maxX))) (f64.lt (local.get $xt) (f64.const 0))))
          (local.set $sum (f64.add (local.get $sum)
            (f64.mul (f64.load (i32.add (local.get $wx) (i32.shl (local.get $t) (i32.const 3))))
              (f64.convert_i32_u (i32.load8_u (i32.add (i32.add (local.get $row) (local.get $j)) (i32.mul (i32.trunc_f64_s (local.get $xt)) (local.get $c))))))))
          (local.set $t (i32.add (local.get $t) (i32.const 1)))
          (br_if $taps (i32.lt_s (local.get $t) (i32.const 6))))
        (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3))))
        (f64.store (local.get $a) (f64.add (f64.load (local.get $a)) (f64.mul (local.get $wy) (local.get $sum))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $each (i32.lt_s (local.get $j) (local.get $c))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $rows (i32.lt_s (local.get $r) (i32.const 6)))))

  (func (export "composite")
    (param $ring0 i32) (param $frameBytes i32) (param $slots i32) (param $first i32)
    (param $fa i32) (param $ca i32) (param $fb i32) (param $cb i32) (param $wa i32) (param $wb i32)
    (param $t i32) (param $o i32) (param $stride i32)
    (param $w i32) (param $gw i32) (param $gh i32) (param $c i32) (param $sx i32) (param $sy i32) (param $acc i32)
    (param $lut64 i32) (param $lut32 i32)
    (local $x i32) (local $y i32) (local $i i32) (local $ka f64) (local $kb f64) (local $ks f64)
    (local $tp i32) (local $op i32) (local $j i32) (local $v f64) (local $maxX f64) (local $maxY f64)
    (local.set $maxX (f64.convert_i32_s (i32.sub (local.get $gw) (i32.const 1))))
    (local.set $maxY (f64.convert_i32_s (i32.sub (local.get $gh) (i32.const 1))))
    (block $done_y
      (loop $next_y
        (br_if $done_y (i32.ge_s (local.get $y) (local.get $gh)))
        (local.set $x (i32.const 0))
        (block $done_x
          (loop $next_x
            (br_if $done_x (i32.ge_s (local.get $x) (local.get $gw)))
            (local.set $i (i32.add (i32.mul (i32.shl (local.get $y) (local.get $sy)) (local.get $w)) (i32.shl (local.get $x) (local.get $sx))))
            (local.set $ka (f64.promote_f32 (f32.load (i32.add (local.get $wa) (i32.shl (local.get $i) (i32.const 2))))))
            (local.set $kb (f64.promote_f32 (f32.load (i32.add (local.get $wb) (i32.shl (local.get $i) (i32.const 2))))))
            (local.set $tp (i32.add (local.get $t) (i32.add (i32.mul (local.get $y) (local.get $stride)) (i32.mul (local.get $x) (local.get $c)))))
            (local.set $op (i32.add (local.get $o) (i32.add (i32.mul (local.get $y) (local.get $stride)) (i32.mul (local.get $x) (local.get $c)))))
            (local.set $j (i32.const 0))
            (if (i32.and (f64.eq (local.get $ka) (f64.const 0)) (f64.eq (local.get $kb) (f64.const 0)))
              (then
                (loop $copy
                  (i32.store8 (i32.add (local.get $op) (local.get $j)) (i32.load8_u (i32.add (local.get $tp) (local.get $j))))
                  (local.set $j (i32.add (local.get $j) (i32.const 1)))
                  (br_if $copy (i32.lt_s (local.get $j) (local.get $c)))))
              (else
                (local.set $ks (f64.sub (f64.sub (f64.const 1) (local.get $ka)) (local.get $kb)))
                (f64.store (local.get $acc) (f64.const 0))
                (f64.store offset=8 (local.get $acc) (f64.const 0))
                (f64.store offset=16 (local.get $acc) (f64.const 0))
                (f64.store offset=24 (local.get $acc) (f64.const 0))
                (if (f64.gt (local.get $ka) (f64.const 0))
                  (then
                    (call $draw (local.get $fa) (local.get $ca) (local.get $i) (local.get $ka)
                      (local.get $ring0) (local.get $frameBytes) (local.get $slots) (local.get $first)
                      (local.get $stride) (local.get $c) (local.get $sx) (local.get $sy) (local.get $maxX) (local.get $maxY) (local.get $acc)
                      (local.get $lut64) (local.get $lut32))))
                (if (f64.gt (local.get $kb) (f64.const 0))
                  (then
                    (call $draw (local.get $fb) (local.get $cb) (local.get $i) (local.get $kb)
                      (local.get $ring0) (local.get $frameBytes) (local.get $slots) (local.get $first)
                      (local.get $stride) (local.get $c) (local.get $sx) (local.get $sy) (local.get $maxX) (local.get $maxY) (local.get $acc)
                      (local.get $lut64) (local.get $lut32))))
                (loop $out
                  (local.set $v
                    (f64.add
                      (f64.mul (local.get $ks) (f64.convert_i32_u (i32.load8_u (i32.add (local.get $tp) (local.get $j)))))
                      (f64.load (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3))))))
                  (i32.store8 (i32.add (local.get $op) (local.get $j))
                    (if (result i32) (f64.le (local.get $v) (f64.const 0))
                      (then (i32.const 0))
                      (else
                        (if (result i32) (f64.ge (local.get $v) (f64.const 255))
                          (then (i32.const 255))
                          (else (i32.trunc_sat_f64_s (f64.add (local.get $v) (f64.const 0.5))))))))
                  (local.set $j (i32.add (local.get $j) (i32.const 1)))
                  (br_if $out (i32.lt_s (local.get $j) (local.get $c))))))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))
            (br $next_x)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $next_y))))

  ;; follow: each pixel x takes the source (frame number, position) of the history pixel nearest to
  ;; x + flow(x) (clamped to the frame), moved by the remaining fraction (see followFlow).
  (func (export "follow")
    (param $w i32) (param $h i32) (param $fn i32) (param $cd i32) (param $flow i32) (param $nfn i32) (param $ncd i32)
    (local $x i32) (local $y i32) (local $i i32) (local $px f64) (local $py f64) (local $qx f64) (local $qy f64)
    (local $q i32) (local $maxX f64) (local $maxY f64)
    (local.set $maxX (f64.convert_i32_s (i32.sub (local.get $w) (i32.const 1))))
    (local.set $maxY (f64.convert_i32_s (i32.sub (local.get $h) (i32.const 1))))
    (block $done_y
      (loop $next_y
        (br_if $done_y (i32.ge_s (local.get $y) (local.get $h)))
        (local.set $x (i32.const 0))
        (block $done_x
          (loop $next_x
            (br_if $done_x (i32.ge_s (local.get $x) (local.get $w)))
            (local.set $px (f64.add (f64.convert_i32_s (local.get $x)) (f64.promote_f32 (f32.load (i32.add (local.get $flow) (i32.shl (local.get $i) (i32.const 3)))))))
            (local.set $py (f64.add (f64.convert_i32_s (local.get $y)) (f64.promote_f32 (f32.load offset=4 (i32.add (local.get $flow) (i32.shl (local.get $i) (i32.const 3)))))))
            (local.set $px (select (select (local.get $px) (local.get $maxX) (f64.lt (local.get $px) (local.get $maxX))) (f64.const 0) (f64.gt (local.get $px) (f64.const 0))))
            (local.set $py (select (select (local.get $py) (local.get $maxY) (f64.lt (local.get $py) (local.get $maxY))) (f64.const 0) (f64.gt (local.get $py) (f64.const 0))))
            ;; Math.round of a value ≥ 0
            (local.set $qx (f64.floor (f64.add (local.get $px) (f64.const 0.5))))
            (local.set $qy (f64.floor (f64.add (local.get $py) (f64.const 0.5))))
            (local.set $q (i32.add (i32.mul (i32.trunc_f64_s (local.get $qy)) (local.get $w)) (i32.trunc_f64_s (local.get $qx))))
            (i32.store (i32.add (local.get $nfn) (i32.shl (local.get $i) (i32.const 2)))
              (i32.load (i32.add (local.get $fn) (i32.shl (local.get $q) (i32.const 2)))))
            (f32.store (i32.add (local.get $ncd) (i32.shl (local.get $i) (i32.const 3)))
              (f32.demote_f64 (f64.add (f64.promote_f32 (f32.load (i32.add (local.get $cd) (i32.shl (local.get $q) (i32.const 3)))))
                (f64.sub (local.get $px) (local.get $qx)))))
            (f32.store offset=4 (i32.add (local.get $ncd) (i32.shl (local.get $i) (i32.const 3)))
              (f32.demote_f64 (f64.add (f64.promote_f32 (f32.load offset=4 (i32.add (local.get $cd) (i32.shl (local.get $q) (i32.const 3)))))
                (f64.sub (local.get $py) (local.get $qy)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))
            (br $next_x)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $next_y))))

  ;; check: per pixel, 1 where the forward–backward mask passes and the current luma is within
  ;; $limit of the luma at the history's source (its stored frame through $slots, bilinear, the
  ;; position clamped to the frame), else 0, as f32 into $ok (see FlowStabilizer's #update).
  (func (export "check")
    (param $w i32) (param $h i32) (param $luma0 i32) (param $lumaStep i32) (param $slots i32) (param $first i32)
    (param $fn i32) (param $cd i32) (param $mask i32) (param $cur i32) (param $limit f64) (param $ok i32)
    (local $i i32) (local $n i32) (local $S i32) (local $u f64) (local $v f64) (local $x0 f64) (local $y0 f64)
    (local $fu f64) (local $fv f64) (local $r0 i32) (local $r1 i32) (local $c0 i32) (local $c1 i32)
    (local $a f64) (local $top f64) (local $bot f64) (local $d f64) (local $maxX f64) (local $maxY f64)
    (local.set $n (i32.mul (local.get $w) (local.get $h)))
    (local.set $maxX (f64.convert_i32_s (i32.sub (local.get $w) (i32.const 1))))
    (local.set $maxY (f64.convert_i32_s (i32.sub (local.get $h) (i32.const 1))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $S
          (i32.add (local.get $luma0)
            (i32.mul (local.get $lumaStep)
              (i32.load (i32.add (local.get $slots)
                (i32.shl (i32.sub (i32.load (i32.add (local.get $fn) (i32.shl (local.get $i) (i32.const 2)))) (local.get $first)) (i32.const 2)))))))
        (local.set $u (f64.promote_f32 (f32.load (i32.add (local.get $cd) (i32.shl (local.get $i) (i32.const 3))))))
        (local.set $v (f64.promote_f32 (f32.load offset=4 (i32.add (local.get $cd) (i32.shl (local.get $i) (i32.const 3))))))
        (local.set $u (select (select (local.get $u) (local.get $maxX) (f64.lt (local.get $u) (local.get $maxX))) (f64.const 0) (f64.gt (local.get $u) (f64.const 0))))
        (local.set $v (select (select (local.get $v) (local.get $maxY) (f64.lt (local.get $v) (local.get $maxY))) (f64.const 0) (f64.gt (local.get $v) (f64.const 0))))
        (local.set $x0 (f64.floor (local.get $u)))
        (local.set $y0 (f64.floor (local.get $v)))
        (local.set $fu (f64.sub (local.get $u) (local.get $x0)))
        (local.set $fv (f64.sub (local.get $v) (local.get $y0)))
        (local.set $c0 (i32.trunc_f64_s (local.get $x0)))
        (local.set $c1 (select (i32.add (local.get $c0) (i32.const 1)) (local.get $c0) (f64.lt (local.get $x0) (local.get $maxX))))
        (local.set $r0 (i32.add (local.get $S) (i32.mul (i32.trunc_f64_s (local.get $y0)) (local.get $w))))
        (local.set $r1 (select (i32.add (local.get $r0) (local.get $w)) (local.get $r0) (f64.lt (local.get $y0) (local.get $maxY))))
        (local.set $a (f64.convert_i32_u (i32.load8_u (i32.add (local.get $r0) (local.get $c0)))))
        (local.set $top (f64.add (local.get $a)
          (f64.mul (local.get $fu) (f64.sub (f64.convert_i32_u (i32.load8_u (i32.add (local.get $r0) (local.get $c1)))) (local.get $a)))))
        (local.set $a (f64.convert_i32_u (i32.load8_u (i32.add (local.get $r1) (local.get $c0)))))
        (local.set $bot (f64.add (local.get $a)
          (f64.mul (local.get $fu) (f64.sub (f64.convert_i32_u (i32.load8_u (i32.add (local.get $r1) (local.get $c1)))) (local.get $a)))))
        (local.set $d
          (f64.sub (f64.convert_i32_u (i32.load8_u (i32.add (local.get $cur) (local.get $i))))
            (f64.add (local.get $top) (f64.mul (local.get $fv) (f64.sub (local.get $bot) (local.get $top))))))
        (f32.store (i32.add (local.get $ok) (i32.shl (local.get $i) (i32.const 2)))
          (select (f32.const 1) (f32.const 0)
            (i32.and
              (i32.ne (i32.load8_u (i32.add (local.get $mask) (local.get $i))) (i32.const 0))
              (i32.and (f64.lt (local.get $d) (local.get $limit)) (f64.gt (local.get $d) (f64.neg (local.get $limit)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; commit: a history keeps its source where the majorities agree (ok and coarse ≥ $share) and
  ;; starts over from frame $index at the pixel itself elsewhere; keep (may be ok) gets 1 or 0.
  ;; Returns the number kept.
  (func (export "commit")
    (param $w i32) (param $h i32) (param $index i32) (param $share f32) (param $ok i32) (param $coarse i32)
    (param $fn i32) (param $cd i32) (param $nfn i32) (param $ncd i32) (param $keep i32) (result i32)
    (local $x i32) (local $y i32) (local $i i32) (local $kept i32) (local $b i32)
    (block $done_y
      (loop $next_y
        (br_if $done_y (i32.ge_s (local.get $y) (local.get $h)))
        (local.set $x (i32.const 0))
        (block $done_x
          (loop $next_x
            (br_if $done_x (i32.ge_s (local.get $x) (local.get $w)))
            (local.set $b (i32.shl (local.get $i) (i32.const 2)))
            (if (i32.and
                  (f32.ge (f32.load (i32.add (local.get $ok) (local.get $b))) (local.get $share))
                  (f32.ge (f32.load (i32.add (local.get $coarse) (local.get $b))) (local.get $share)))
              (then
                (i32.store (i32.add (local.get $fn) (local.get $b)) (i32.load (i32.add (local.get $nfn) (local.get $b))))
                (i64.store (i32.add (local.get $cd) (i32.shl (local.get $i) (i32.const 3))) (i64.load (i32.add (local.get $ncd) (i32.shl (local.get $i) (i32.const 3)))))
                (f32.store (i32.add (local.get $keep) (local.get $b)) (f32.const 1))
                (local.set $kept (i32.add (local.get $kept) (i32.const 1))))
              (else
                (i32.store (i32.add (local.get $fn) (local.get $b)) (local.get $index))
                (f32.store (i32.add (local.get $cd) (i32.shl (local.get $i) (i32.const 3))) (f32.convert_i32_s (local.get $x)))
                (f32.store offset=4 (i32.add (local.get $cd) (i32.shl (local.get $i) (i32.const 3))) (f32.convert_i32_s (local.get $y)))
                (f32.store (i32.add (local.get $keep) (local.get $b)) (f32.const 0))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))
            (br $next_x)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $next_y)))
    (local.get $kept))

  ;; blur: box blur of radius $r (edges clamped), in place, of $ch interleaved channels of f32 at
  ;; $data (w × h), with $tmp (as long) and $col (w·ch doubles): a running sum along each row,
  ;; then running column sums advanced a row at a time, two columns per f64x2. Sums in doubles.
  (func (export "blur")
    (param $data i32) (param $w i32) (param $h i32) (param $r i32) (param $ch i32) (param $tmp i32) (param $col i32)
    (local $inv f64) (local $y i32) (local $k i32) (local $x i32) (local $q i32) (local $sum f64)
    (local $base i32) (local $last i32) (local $add i32) (local $drop i32) (local $n i32) (local $rowb i32)
    (local $outb i32) (local $addb i32) (local $dropb i32) (local $p i32) (local $C v128) (local $INV v128)
    (local.set $inv (f64.div (f64.const 1) (f64.convert_i32_s (i32.add (i32.shl (local.get $r) (i32.const 1)) (i32.const 1)))))
    (local.set $INV (f64x2.splat (local.get $inv)))
    (local.set $last (i32.sub (local.get $w) (i32.const 1)))
    (local.set $n (i32.mul (local.get $w) (local.get $ch)))
    ;; rows
    (block $done_y
      (loop $next_y
        (br_if $done_y (i32.ge_s (local.get $y) (local.get $h)))
        (local.set $k (i32.const 0))
        (loop $next_k
          ;; sample x of this channel at byte ($base + x·ch)·4
          (local.set $base (i32.add (i32.mul (local.get $y) (local.get $n)) (local.get $k)))
          (local.set $sum (f64.const 0))
          (local.set $q (i32.sub (i32.const 0) (local.get $r)))
          (loop $init
            (local.set $sum (f64.add (local.get $sum)
              (f64.promote_f32 (f32.load (i32.add (local.get $data)
                (i32.shl (i32.add (local.get $base) (i32.mul (call $clamp (local.get $q) (local.get $last)) (local.get $ch))) (i32.const 2)))))))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br_if $init (i32.le_s (local.get $q) (local.get $r))))
          (local.set $x (i32.const 0))
          (block $done_x
            (loop $next_x
              (br_if $done_x (i32.ge_s (local.get $x) (local.get $w)))
              (f32.store (i32.add (local.get $tmp) (i32.shl (i32.add (local.get $base) (i32.mul (local.get $x) (local.get $ch))) (i32.const 2)))
                (f32.demote_f64 (f64.mul (local.get $sum) (local.get $inv))))
              (local.set $add (i32.add (i32.add (local.get $x) (local.get $r)) (i32.const 1)))
              (local.set $drop (i32.sub (local.get $x) (local.get $r)))
              (local.set $sum (f64.add (local.get $sum)
                (f64.sub
                  (f64.promote_f32 (f32.load (i32.add (local.get $data)
                    (i32.shl (i32.add (local.get $base) (i32.mul (call $clamp (local.get $add) (local.get $last)) (local.get $ch))) (i32.const 2)))))
                  (f64.promote_f32 (f32.load (i32.add (local.get $data)
                    (i32.shl (i32.add (local.get $base) (i32.mul (call $clamp (local.get $drop) (local.get $last)) (local.get $ch))) (i32.const 2))))))))
              (local.set $x (i32.add (local.get $x) (i32.const 1)))
              (br $next_x)))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $next_k (i32.lt_s (local.get $k) (local.get $ch))))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $next_y)))
    ;; columns: col = Σ of the first 2r + 1 (clamped) rows of tmp
    (local.set $x (i32.const 0))
    (block $done_z
      (loop $zero
        (br_if $done_z (i32.ge_s (local.get $x) (local.get $n)))
        (f64.store (i32.add (local.get $col) (i32.shl (local.get $x) (i32.const 3))) (f64.const 0))
        (local.set $x (i32.add (local.get $x) (i32.const 1)))
        (br $zero)))
    (local.set $q (i32.sub (i32.const 0) (local.get $r)))
    (loop $init_rows
      (local.set $rowb (i32.add (local.get $tmp)
        (i32.shl (i32.mul (call $clamp (local.get $q) (i32.sub (local.get $h) (i32.const 1))) (local.get $n)) (i32.const 2))))
      (local.set $x (i32.const 0))
      (block $done_c
        (loop $next_c
          (br_if $done_c (i32.ge_s (local.get $x) (local.get $n)))
          (local.set $p (i32.add (local.get $col) (i32.shl (local.get $x) (i32.const 3))))
          (f64.store (local.get $p) (f64.add (f64.load (local.get $p))
            (f64.promote_f32 (f32.load (i32.add (local.get $rowb) (i32.shl (local.get $x) (i32.const 2)))))))
          (local.set $x (i32.add (local.get $x) (i32.const 1)))
          (br $next_c)))
      (local.set $q (i32.add (local.get $q) (i32.const 1)))
      (br_if $init_rows (i32.le_s (local.get $q) (local.get $r))))
    (local.set $y (i32.const 0))
    (block $done_out
      (loop $next_out
        (br_if $done_out (i32.ge_s (local.get $y) (local.get $h)))
        (local.set $outb (i32.add (local.get $data) (i32.shl (i32.mul (local.get $y) (local.get $n)) (i32.const 2))))
        (local.set $addb (i32.add (local.get $tmp)
          (i32.shl (i32.mul (call $clamp (i32.add (i32.add (local.get $y) (local.get $r)) (i32.const 1)) (i32.sub (local.get $h) (i32.const 1))) (local.get $n)) (i32.const 2))))
        (local.set $dropb (i32.add (local.get $tmp)
          (i32.shl (i32.mul (call $clamp (i32.sub (local.get $y) (local.get $r)) (i32.sub (local.get $h) (i32.const 1))) (local.get $n)) (i32.const 2))))
        (local.set $x (i32.const 0))
        ;; two columns at a time
        (block $done_v
          (loop $next_v
            (br_if $done_v (i32.gt_s (i32.add (local.get $x) (i32.const 2)) (local.get $n)))
            (local.set $p (i32.add (local.get $col) (i32.shl (local.get $x) (i32.const 3))))
            (local.set $C (v128.load (local.get $p)))
            (v128.store64_lane 0 (i32.add (local.get $outb) (i32.shl (local.get $x) (i32.const 2)))
              (f32x4.demote_f64x2_zero (f64x2.mul (local.get $C) (local.get $INV))))
            (v128.store (local.get $p)
              (f64x2.add (local.get $C)
                (f64x2.sub
                  (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $addb) (i32.shl (local.get $x) (i32.const 2)))))
                  (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $dropb) (i32.shl (local.get $x) (i32.const 2))))))))
            (local.set $x (i32.add (local.get $x) (i32.const 2)))
            (br $next_v)))
        (block $done_s
          (loop $next_s
            (br_if $done_s (i32.ge_s (local.get $x) (local.get $n)))
            (local.set $p (i32.add (local.get $col) (i32.shl (local.get $x) (i32.const 3))))
            (f32.store (i32.add (local.get $outb) (i32.shl (local.get $x) (i32.const 2)))
              (f32.demote_f64 (f64.mul (f64.load (local.get $p)) (local.get $inv))))
            (f64.store (local.get $p)
              (f64.add (f64.load (local.get $p))
                (f64.sub
                  (f64.promote_f32 (f32.load (i32.add (local.get $addb) (i32.shl (local.get $x) (i32.const 2)))))
                  (f64.promote_f32 (f32.load (i32.add (local.get $dropb) (i32.shl (local.get $x) (i32.const 2))))))))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))
            (br $next_s)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $next_out))))

  ;; v clamped to [0, hi]
  (func $clamp (param $v i32) (param $hi i32) (result i32)
    (select (i32.const 0) (select (local.get $hi) (local.get $v) (i32.gt_s (local.get $v) (local.get $hi))) (i32.lt_s (local.get $v) (i32.const 0))))
)

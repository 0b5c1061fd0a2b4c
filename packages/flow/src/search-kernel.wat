;; The inner loops of the patch search (patch-search.ts) in WebAssembly SIMD, four samples of a
;; patch row at a time. Addresses are byte offsets into this module's memory, where the caller
;; keeps one level's I0, gx, gy (w wide) and bordered I1 (we wide); bytes 0–63 hold results.
;;
;; step: compare the template patch (psz × psz samples from $a, rows $w4 bytes apart; psz a
;; multiple of four) with I1 at a sub-pixel position, bilinear with weights w00 w01 w10 w11 around
;; $b (rows $we4 bytes apart). With d = I1 sample − template sample it writes at bytes 0, 4, 8, 12:
;;   Σd, Σd², and when $grad is set Σd·gx, Σd·gy (gx, gy read at $gx, $gy like the template).
;;
;; splat: densification for one patch over a rectangle of $rows × $cols samples (any $cols): with
;; I1 sampled at fixed bilinear weights around $b, per sample wgt = 1 / max(1, |I1 − I0|) and
;;   Ux += wgt·sx, Uy += wgt·sy, sumW += wgt   (Ux, Uy, sumW at $ux, $uy, $sw, rows $w4 apart).
;;
;; descend, upsample: one patch's whole gradient descent; the flow's last resize (below).
(module
  (memory (export "memory") 1)

  ;; The sum of a vector's four lanes.
  (func $hsum (param $v v128) (result f32)
    (local.set $v (f32x4.add (local.get $v) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
    (local.set $v (f32x4.add (local.get $v) (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $v) (local.get $v))))
    (f32x4.extract_lane 0 (local.get $v)))

  ;; a + t·(b − a)
  (func $lerp (param $a v128) (param $b v128) (param $t v128) (result v128)
    (f32x4.add (local.get $a) (f32x4.mul (local.get $t) (f32x4.sub (local.get $b) (local.get $a)))))

    ;; Bilinear I1 at $q (four samples), weights as vectors.
  (func $sample (param $q i32) (param $we4 i32) (param $w00 v128) (param $w01 v128) (param $w10 v128) (param $w11 v128) (result v128)
    (f32x4.add
      (f32x4.add
        (f32x4.mul (local.get $w00) (v128.load (local.get $q)))
        (f32x4.mul (local.get $w01) (v128.load offset=4 (local.get $q))))
      (f32x4.add
        (f32x4.mul (local.get $w10) (v128.load (i32.add (local.get $q) (local.get $we4))))
        (f32x4.mul (local.get $w11) (v128.load offset=4 (i32.add (local.get $q) (local.get $we4)))))))

  (func $stepN (export "step")
    (param $a i32) (param $gx i32) (param $gy i32) (param $b i32) (param $w4 i32) (param $we4 i32) (param $psz i32)
    (param $w00 f32) (param $w01 f32) (param $w10 f32) (param $w11 f32) (param $grad i32)
    (local $W00 v128) (local $W01 v128) (local $W10 v128) (local $W11 v128)
    (local $sd v128) (local $sd2 v128) (local $sgx v128) (local $sgy v128) (local $d v128)
    (local $r i32) (local $c i32) (local $end i32)
    (local.set $W00 (f32x4.splat (local.get $w00)))
    (local.set $W01 (f32x4.splat (local.get $w01)))
    (local.set $W10 (f32x4.splat (local.get $w10)))
    (local.set $W11 (f32x4.splat (local.get $w11)))
    (local.set $end (i32.shl (local.get $psz) (i32.const 2)))
    (loop $row
      (local.set $c (i32.const 0))
      (loop $col
        (local.set $d
          (f32x4.sub
            (call $sample (i32.add (local.get $b) (local.get $c)) (local.get $we4)
              (local.get $W00) (local.get $W01) (local.get $W10) (local.get $W11))
            (v128.load (i32.add (local.get $a) (local.get $c)))))
        (local.set $sd (f32x4.add (local.get $sd) (local.get $d)))
        (local.set $sd2 (f32x4.add (local.get $sd2) (f32x4.mul (local.get $d) (local.get $d))))
        (if (local.get $grad)
          (then
            (local.set $sgx (f32x4.add (local.get $sgx) (f32x4.mul (local.get $d) (v128.load (i32.add (local.get $gx) (local.get $c))))))
            (local.set $sgy (f32x4.add (local.get $sgy) (f32x4.mul (local.get $d) (v128.load (i32.add (local.get $gy) (local.get $c))))))))
        (local.set $c (i32.add (local.get $c) (i32.const 16)))
        (br_if $col (i32.lt_s (local.get $c) (local.get $end))))
      (local.set $a (i32.add (local.get $a) (local.get $w4)))
      (local.set $gx (i32.add (local.get $gx) (local.get $w4)))
      (local.set $gy (i32.add (local.get $gy) (local.get $w4)))
      (local.set $b (i32.add (local.get $b) (local.get $we4)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $row (i32.lt_s (local.get $r) (local.get $psz))))
    (f32.store (i32.const 0) (call $hsum (local.get $sd)))
    (f32.store (i32.const 4) (call $hsum (local.get $sd2)))
    (f32.store (i32.const 8) (call $hsum (local.get $sgx)))
    (f32.store (i32.const 12) (call $hsum (local.get $sgy))))

  ;; step for 8 × 8 patches (the presets'), the bilinear sample as two lerps: each row of I1 is
  ;; blended across (ax) once and used for two output rows (ay), two vectors per row in registers.
  (func $step8 (export "step8")
    (param $a i32) (param $gx i32) (param $gy i32) (param $b i32) (param $w4 i32) (param $we4 i32)
    (param $ax f32) (param $ay f32) (param $grad i32)
    (local $AX v128) (local $AY v128) (local $T0 v128) (local $T1 v128) (local $B0 v128) (local $B1 v128)
    (local $d0 v128) (local $d1 v128) (local $sd v128) (local $sd2 v128) (local $sgx v128) (local $sgy v128)
    (local $r i32)
    (local.set $AX (f32x4.splat (local.get $ax)))
    (local.set $AY (f32x4.splat (local.get $ay)))
    (local.set $T0 (call $lerp (v128.load (local.get $b)) (v128.load offset=4 (local.get $b)) (local.get $AX)))
    (local.set $T1 (call $lerp (v128.load offset=16 (local.get $b)) (v128.load offset=20 (local.get $b)) (local.get $AX)))
    (loop $row
      (local.set $b (i32.add (local.get $b) (local.get $we4)))
      (local.set $B0 (call $lerp (v128.load (local.get $b)) (v128.load offset=4 (local.get $b)) (local.get $AX)))
      (local.set $B1 (call $lerp (v128.load offset=16 (local.get $b)) (v128.load offset=20 (local.get $b)) (local.get $AX)))
      (local.set $d0 (f32x4.sub (call $lerp (local.get $T0) (local.get $B0) (local.get $AY)) (v128.load (local.get $a))))
      (local.set $d1 (f32x4.sub (call $lerp (local.get $T1) (local.get $B1) (local.get $AY)) (v128.load offset=16 (local.get $a))))
      (local.set $sd (f32x4.add (local.get $sd) (f32x4.add (local.get $d0) (local.get $d1))))
      (local.set $sd2 (f32x4.add (local.get $sd2)
        (f32x4.add (f32x4.mul (local.get $d0) (local.get $d0)) (f32x4.mul (local.get $d1) (local.get $d1)))))
      (if (local.get $grad)
        (then
          (local.set $sgx (f32x4.add (local.get $sgx)
            (f32x4.add (f32x4.mul (local.get $d0) (v128.load (local.get $gx))) (f32x4.mul (local.get $d1) (v128.load offset=16 (local.get $gx))))))
          (local.set $sgy (f32x4.add (local.get $sgy)
            (f32x4.add (f32x4.mul (local.get $d0) (v128.load (local.get $gy))) (f32x4.mul (local.get $d1) (v128.load offset=16 (local.get $gy))))))))
      (local.set $T0 (local.get $B0))
      (local.set $T1 (local.get $B1))
      (local.set $a (i32.add (local.get $a) (local.get $w4)))
      (local.set $gx (i32.add (local.get $gx) (local.get $w4)))
      (local.set $gy (i32.add (local.get $gy) (local.get $w4)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $row (i32.lt_s (local.get $r) (i32.const 8))))
    (f32.store (i32.const 0) (call $hsum (local.get $sd)))
    (f32.store (i32.const 4) (call $hsum (local.get $sd2)))
    (f32.store (i32.const 8) (call $hsum (local.get $sgx)))
    (f32.store (i32.const 12) (call $hsum (local.get $sgy))))

  ;; The gradient descent of one patch (inverseSearch's inner loop): from (ux, uy), up to $inner
  ;; inverse-compositional Gauss–Newton steps with the inverse structure tensor (h11 h12 h22) and
  ;; the template's gradient sums (gsx, gsy), each at the clamped position; a step that makes the
  ;; (mean-normalized when $norm) error worse is taken back and ends the descent. $i1 is the
  ;; bordered I1's start, (i, j) the patch's top-left sample, $border the border width. Writes the
  ;; final (ux, uy) at bytes 16 and 20.
  (func (export "descend")
    (param $a i32) (param $gx i32) (param $gy i32) (param $i1 i32) (param $w4 i32) (param $we i32)
    (param $psz i32) (param $norm i32) (param $inner i32)
    (param $i f32) (param $j f32) (param $ux f32) (param $uy f32)
    (param $h11 f32) (param $h12 f32) (param $h22 f32) (param $gsx f32) (param $gsy f32)
    (param $border f32) (param $lo f32) (param $hiY f32) (param $hiX f32)
    (local $it i32) (local $prev f32) (local $prevX f32) (local $prevY f32)
    (local $py f32) (local $px f32) (local $fy f32) (local $fx f32) (local $ay f32) (local $ax f32)
    (local $b i32) (local $we4 i32) (local $n f32) (local $sd f32) (local $ssd f32) (local $stx f32) (local $sty f32)
    (local.set $prev (f32.const inf))
    (local.set $we4 (i32.shl (local.get $we) (i32.const 2)))
    (local.set $n (f32.convert_i32_s (i32.mul (local.get $psz) (local.get $psz))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $it) (local.get $inner)))
        (local.set $py (f32.min (local.get $hiY) (f32.max (local.get $lo)
          (f32.add (f32.add (local.get $i) (local.get $uy)) (local.get $border)))))
        (local.set $px (f32.min (local.get $hiX) (f32.max (local.get $lo)
          (f32.add (f32.add (local.get $j) (local.get $ux)) (local.get $border)))))
        (local.set $fy (f32.floor (local.get $py)))
        (local.set $fx (f32.floor (local.get $px)))
        (local.set $ay (f32.sub (local.get $py) (local.get $fy)))
        (local.set $ax (f32.sub (local.get $px) (local.get $fx)))
        (local.set $b (i32.add (local.get $i1) (i32.shl
          (i32.add (i32.mul (i32.trunc_f32_s (local.get $fy)) (local.get $we)) (i32.trunc_f32_s (local.get $fx)))
          (i32.const 2))))
        (if (i32.eq (local.get $psz) (i32.const 8))
          (then
            (call $step8 (local.get $a) (local.get $gx) (local.get $gy) (local.get $b) (local.get $w4) (local.get $we4)
              (local.get $ax) (local.get $ay) (i32.const 1)))
          (else
            (call $stepN (local.get $a) (local.get $gx) (local.get $gy) (local.get $b) (local.get $w4) (local.get $we4)
              (local.get $psz)
              (f32.mul (f32.sub (f32.const 1) (local.get $ay)) (f32.sub (f32.const 1) (local.get $ax)))
              (f32.mul (f32.sub (f32.const 1) (local.get $ay)) (local.get $ax))
              (f32.mul (local.get $ay) (f32.sub (f32.const 1) (local.get $ax)))
              (f32.mul (local.get $ay) (local.get $ax))
              (i32.const 1))))
        (local.set $sd (f32.load (i32.const 0)))
        (local.set $ssd (f32.load (i32.const 4)))
        (local.set $stx (f32.load (i32.const 8)))
        (local.set $sty (f32.load (i32.const 12)))
        (if (local.get $norm)
          (then
            (local.set $stx (f32.sub (local.get $stx) (f32.div (f32.mul (local.get $sd) (local.get $gsx)) (local.get $n))))
            (local.set $sty (f32.sub (local.get $sty) (f32.div (f32.mul (local.get $sd) (local.get $gsy)) (local.get $n))))
            (local.set $ssd (f32.sub (local.get $ssd) (f32.div (f32.mul (local.get $sd) (local.get $sd)) (local.get $n))))))
        (if (f32.ge (local.get $ssd) (local.get $prev))
          (then
            (local.set $ux (local.get $prevX))
            (local.set $uy (local.get $prevY))
            (br $done)))
        (local.set $prev (local.get $ssd))
        (local.set $prevX (local.get $ux))
        (local.set $prevY (local.get $uy))
        (local.set $ux (f32.sub (local.get $ux)
          (f32.add (f32.mul (local.get $h11) (local.get $stx)) (f32.mul (local.get $h12) (local.get $sty)))))
        (local.set $uy (f32.sub (local.get $uy)
          (f32.add (f32.mul (local.get $h12) (local.get $stx)) (f32.mul (local.get $h22) (local.get $sty)))))
        (local.set $it (i32.add (local.get $it) (i32.const 1)))
        (br $next)))
    (f32.store (i32.const 16) (local.get $ux))
    (f32.store (i32.const 20) (local.get $uy)))

  (func (export "splat")
    (param $a i32) (param $b i32) (param $ux i32) (param $uy i32) (param $sw i32)
    (param $w4 i32) (param $we4 i32) (param $rows i32) (param $cols i32)
    (param $w00 f32) (param $w01 f32) (param $w10 f32) (param $w11 f32) (param $sx f32) (param $sy f32)
    (local $W00 v128) (local $W01 v128) (local $W10 v128) (local $W11 v128) (local $SX v128) (local $SY v128)
    (local $one v128) (local $wgt v128) (local $p i32)
    (local $r i32) (local $c i32) (local $vend i32) (local $end i32) (local $d f32) (local $s f32)
    (local.set $W00 (f32x4.splat (local.get $w00)))
    (local.set $W01 (f32x4.splat (local.get $w01)))
    (local.set $W10 (f32x4.splat (local.get $w10)))
    (local.set $W11 (f32x4.splat (local.get $w11)))
    (local.set $SX (f32x4.splat (local.get $sx)))
    (local.set $SY (f32x4.splat (local.get $sy)))
    (local.set $one (f32x4.splat (f32.const 1)))
    (local.set $end (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $vend (i32.shl (i32.and (local.get $cols) (i32.const -4)) (i32.const 2)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_s (local.get $r) (local.get $rows)))
        (local.set $c (i32.const 0))
        (block $vdone
          (loop $vcol
            (br_if $vdone (i32.ge_s (local.get $c) (local.get $vend)))
            (local.set $wgt
              (f32x4.div (local.get $one)
                (f32x4.max (local.get $one)
                  (f32x4.abs
                    (f32x4.sub
                      (call $sample (i32.add (local.get $b) (local.get $c)) (local.get $we4)
                        (local.get $W00) (local.get $W01) (local.get $W10) (local.get $W11))
                      (v128.load (i32.add (local.get $a) (local.get $c))))))))
            (local.set $p (i32.add (local.get $ux) (local.get $c)))
            (v128.store (local.get $p) (f32x4.add (v128.load (local.get $p)) (f32x4.mul (local.get $wgt) (local.get $SX))))
            (local.set $p (i32.add (local.get $uy) (local.get $c)))
            (v128.store (local.get $p) (f32x4.add (v128.load (local.get $p)) (f32x4.mul (local.get $wgt) (local.get $SY))))
            (local.set $p (i32.add (local.get $sw) (local.get $c)))
            (v128.store (local.get $p) (f32x4.add (v128.load (local.get $p)) (local.get $wgt)))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $vcol)))
        ;; The rest of the row, one sample at a time.
        (block $sdone
          (loop $scol
            (br_if $sdone (i32.ge_s (local.get $c) (local.get $end)))
            (local.set $p (i32.add (local.get $b) (local.get $c)))
            (local.set $d
              (f32.abs
                (f32.sub
                  (f32.add
                    (f32.add
                      (f32.mul (local.get $w00) (f32.load (local.get $p)))
                      (f32.mul (local.get $w01) (f32.load offset=4 (local.get $p))))
                    (f32.add
                      (f32.mul (local.get $w10) (f32.load (i32.add (local.get $p) (local.get $we4))))
                      (f32.mul (local.get $w11) (f32.load offset=4 (i32.add (local.get $p) (local.get $we4))))))
                  (f32.load (i32.add (local.get $a) (local.get $c))))))
            (local.set $s (f32.div (f32.const 1) (f32.max (f32.const 1) (local.get $d))))
            (local.set $p (i32.add (local.get $ux) (local.get $c)))
            (f32.store (local.get $p) (f32.add (f32.load (local.get $p)) (f32.mul (local.get $s) (local.get $sx))))
            (local.set $p (i32.add (local.get $uy) (local.get $c)))
            (f32.store (local.get $p) (f32.add (f32.load (local.get $p)) (f32.mul (local.get $s) (local.get $sy))))
            (local.set $p (i32.add (local.get $sw) (local.get $c)))
            (f32.store (local.get $p) (f32.add (f32.load (local.get $p)) (local.get $s)))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $scol)))
        (local.set $a (i32.add (local.get $a) (local.get $w4)))
        (local.set $b (i32.add (local.get $b) (local.get $we4)))
        (local.set $ux (i32.add (local.get $ux) (local.get $w4)))
        (local.set $uy (i32.add (local.get $uy) (local.get $w4)))
        (local.set $sw (i32.add (local.get $sw) (local.get $w4)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; upsample: the last step of the flow — the finest level's field (U at $u, V at $v, sw × sh)
  ;; resized by a whole factor $f of 2 or 4 to (f·sw) × (f·sh), bilinear with pixel centres
  ;; aligned and edges clamped (as resizeFlow in dis.ts), vectors scaled by $scale, written as
  ;; interleaved (dx, dy) at $out (room for 8 floats past the end). Each output row first blends
  ;; its two source rows into $tx, $ty (sw floats with one replicated sample before and after),
  ;; then every source column gives f outputs at fixed weights.
  (func (export "upsample")
    (param $u i32) (param $v i32) (param $sw i32) (param $sh i32) (param $f i32) (param $scale f32)
    (param $out i32) (param $tx i32) (param $ty i32)
    (local $y i32) (local $dh i32) (local $fy f32) (local $y0 i32) (local $y1 i32) (local $ay f32)
    (local $S0 v128) (local $S1 v128) (local $x i32) (local $r0 i32) (local $r1 i32) (local $swb i32)
    (local $k i32) (local $o i32) (local $W v128) (local $L v128) (local $M v128) (local $X v128) (local $Y v128)
    (local.set $dh (i32.mul (local.get $sh) (local.get $f)))
    (local.set $swb (i32.shl (local.get $sw) (i32.const 2)))
    (local.set $W
      (if (result v128) (i32.eq (local.get $f) (i32.const 4))
        (then (v128.const f32x4 0.625 0.875 0.125 0.375))
        (else (v128.const f32x4 0.75 0.25 0.75 0.25))))
    (local.set $o (local.get $out))
    (block $done_y
      (loop $next_y
        (br_if $done_y (i32.ge_s (local.get $y) (local.get $dh)))
        (local.set $fy
          (f32.max (f32.const 0)
            (f32.sub (f32.div (f32.add (f32.convert_i32_s (local.get $y)) (f32.const 0.5)) (f32.convert_i32_s (local.get $f))) (f32.const 0.5))))
        (local.set $y0 (i32.trunc_f32_s (f32.floor (local.get $fy))))
        (if (i32.gt_s (local.get $y0) (i32.sub (local.get $sh) (i32.const 1)))
          (then (local.set $y0 (i32.sub (local.get $sh) (i32.const 1)))))
        (local.set $y1 (select (i32.add (local.get $y0) (i32.const 1)) (local.get $y0)
          (i32.lt_s (local.get $y0) (i32.sub (local.get $sh) (i32.const 1)))))
        (local.set $ay (f32.min (f32.const 1) (f32.sub (local.get $fy) (f32.convert_i32_s (local.get $y0)))))
        (local.set $S0 (f32x4.splat (f32.mul (f32.sub (f32.const 1) (local.get $ay)) (local.get $scale))))
        (local.set $S1 (f32x4.splat (f32.mul (local.get $ay) (local.get $scale))))
        (local.set $r0 (i32.mul (local.get $y0) (local.get $swb)))
        (local.set $r1 (i32.mul (local.get $y1) (local.get $swb)))
        (local.set $x (i32.const 0))
        (block $done_x
          (loop $next_x
            (br_if $done_x (i32.ge_s (local.get $x) (local.get $swb)))
            (v128.store offset=4 (i32.add (local.get $tx) (local.get $x))
              (f32x4.add
                (f32x4.mul (local.get $S0) (v128.load (i32.add (local.get $u) (i32.add (local.get $r0) (local.get $x)))))
                (f32x4.mul (local.get $S1) (v128.load (i32.add (local.get $u) (i32.add (local.get $r1) (local.get $x)))))))
            (v128.store offset=4 (i32.add (local.get $ty) (local.get $x))
              (f32x4.add
                (f32x4.mul (local.get $S0) (v128.load (i32.add (local.get $v) (i32.add (local.get $r0) (local.get $x)))))
                (f32x4.mul (local.get $S1) (v128.load (i32.add (local.get $v) (i32.add (local.get $r1) (local.get $x)))))))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (br $next_x)))
        ;; The replicated samples: before the first, after the last.
        (f32.store (local.get $tx) (f32.load offset=4 (local.get $tx)))
        (f32.store (local.get $ty) (f32.load offset=4 (local.get $ty)))
        (f32.store offset=4 (i32.add (local.get $tx) (local.get $swb)) (f32.load (i32.add (local.get $tx) (local.get $swb))))
        (f32.store offset=4 (i32.add (local.get $ty) (local.get $swb)) (f32.load (i32.add (local.get $ty) (local.get $swb))))
        (local.set $k (i32.const 0))
        (block $done_k
          (loop $next_k
            (br_if $done_k (i32.ge_s (local.get $k) (local.get $swb)))
            ;; [t(k − 1), t(k), t(k + 1), t(k + 2)] from the padded row
            (local.set $L (v128.load (i32.add (local.get $tx) (local.get $k))))
            (local.set $M (v128.load (i32.add (local.get $ty) (local.get $k))))
            (if (i32.eq (local.get $f) (i32.const 4))
              (then
                ;; column k: two outputs between k − 1 and k, two between k and k + 1
                (local.set $X (call $lerp (i8x16.shuffle 0 1 2 3 0 1 2 3 4 5 6 7 4 5 6 7 (local.get $L) (local.get $L))
                  (i8x16.shuffle 4 5 6 7 4 5 6 7 8 9 10 11 8 9 10 11 (local.get $L) (local.get $L)) (local.get $W)))
                (local.set $Y (call $lerp (i8x16.shuffle 0 1 2 3 0 1 2 3 4 5 6 7 4 5 6 7 (local.get $M) (local.get $M))
                  (i8x16.shuffle 4 5 6 7 4 5 6 7 8 9 10 11 8 9 10 11 (local.get $M) (local.get $M)) (local.get $W)))
                (local.set $k (i32.add (local.get $k) (i32.const 4))))
              (else
                ;; columns k and k + 1: one output before and one after each centre
                (local.set $X (call $lerp (i8x16.shuffle 0 1 2 3 4 5 6 7 4 5 6 7 8 9 10 11 (local.get $L) (local.get $L))
                  (i8x16.shuffle 4 5 6 7 8 9 10 11 8 9 10 11 12 13 14 15 (local.get $L) (local.get $L)) (local.get $W)))
                (local.set $Y (call $lerp (i8x16.shuffle 0 1 2 3 4 5 6 7 4 5 6 7 8 9 10 11 (local.get $M) (local.get $M))
                  (i8x16.shuffle 4 5 6 7 8 9 10 11 8 9 10 11 12 13 14 15 (local.get $M) (local.get $M)) (local.get $W)))
                (local.set $k (i32.add (local.get $k) (i32.const 8)))))
            (v128.store (local.get $o) (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $X) (local.get $Y)))
            (v128.store offset=16 (local.get $o) (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $X) (local.get $Y)))
            (local.set $o (i32.add (local.get $o) (i32.const 32)))
            (br $next_k)))
        ;; An odd sw at f = 2 wrote two outputs past the row: back up over them.
        (if (i32.and (i32.eq (local.get $f) (i32.const 2)) (i32.and (local.get $sw) (i32.const 1)))
          (then (local.set $o (i32.sub (local.get $o) (i32.const 16)))))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $next_y))))
)

;; Backward warping and the forward–backward check (warp.ts, consistency.ts) in WebAssembly:
;; scalar code in doubles with the same operations in the same order as the TypeScript, so the
;; results are bit for bit the same (the TypeScript stays for other sample types and where
;; WebAssembly SIMD, which the package's other kernels need, is missing). Addresses are byte
;; offsets into this module's memory, where the caller copies its planes and flows.
;;
;; warp8: out(x) = src(x + flow(x)) for an 8-bit plane of $c interleaved components, bilinear,
;; edges clamped (a non-finite vector samples the nearest edge), rounded to 0–255.
;;
;; mask: 255 where following the backward flow and then the forward flow returns to the start
;; (|b + f(x + b)|² ≤ 0.01(|b|² + |f|²) + 0.5, f sampled bilinearly and rounded to f32 first) and,
;; when $boundaries is set, the backward flow is smooth there; 0 elsewhere and where x + b leaves
;; the frame.
(module
  (memory (export "memory") 1)

  ;; v clamped to [0, hi], NaN to 0
  (func $clamp (param $v f64) (param $hi f64) (result f64)
    (select (select (local.get $v) (local.get $hi) (f64.lt (local.get $v) (local.get $hi))) (f64.const 0) (f64.gt (local.get $v) (f64.const 0))))

  (func (export "warp8")
    (param $src i32) (param $stride i32) (param $w i32) (param $h i32) (param $c i32)
    (param $flow i32) (param $dst i32) (param $dstStride i32)
    (local $x i32) (local $y i32) (local $f i32) (local $o i32) (local $px f64) (local $py f64)
    (local $x0 f64) (local $y0 f64) (local $ax f64) (local $ay f64) (local $maxX f64) (local $maxY f64)
    (local $c0 i32) (local $c1 i32) (local $r0 i32) (local $r1 i32) (local $k i32)
    (local $a f64) (local $b f64) (local $d f64) (local $e f64) (local $top f64) (local $v f64)
    (local.set $maxX (f64.convert_i32_s (i32.sub (local.get $w) (i32.const 1))))
    (local.set $maxY (f64.convert_i32_s (i32.sub (local.get $h) (i32.const 1))))
    (local.set $f (local.get $flow))
    (block $done_y
      (loop $next_y
        (br_if $done_y (i32.ge_s (local.get $y) (local.get $h)))
        (local.set $o (i32.add (local.get $dst) (i32.mul (local.get $y) (local.get $dstStride))))
        (local.set $x (i32.const 0))
        (block $done_x
          (loop $next_x
            (br_if $done_x (i32.ge_s (local.get $x) (local.get $w)))
            (local.set $px (call $clamp (f64.add (f64.convert_i32_s (local.get $x)) (f64.promote_f32 (f32.load (local.get $f)))) (local.get $maxX)))
            (local.set $py (call $clamp (f64.add (f64.convert_i32_s (local.get $y)) (f64.promote_f32 (f32.load offset=4 (local.get $f)))) (local.get $maxY)))
            (local.set $x0 (f64.floor (local.get $px)))
            (local.set $y0 (f64.floor (local.get $py)))
            (local.set $ax (f64.sub (local.get $px) (local.get $x0)))
            (local.set $ay (f64.sub (local.get $py) (local.get $y0)))
            (local.set $c0 (i32.mul (i32.trunc_f64_s (local.get $x0)) (local.get $c)))
            (local.set $c1 (select (i32.add (local.get $c0) (local.get $c)) (local.get $c0) (f64.lt (local.get $x0) (local.get $maxX))))
            (local.set $r0 (i32.add (local.get $src) (i32.mul (i32.trunc_f64_s (local.get $y0)) (local.get $stride))))
            (local.set $r1 (select (i32.add (local.get $r0) (local.get $stride)) (local.get $r0) (f64.lt (local.get $y0) (local.get $maxY))))
            (local.set $k (i32.const 0))
            (loop $comp
              (local.set $a (f64.convert_i32_u (i32.load8_u (i32.add (i32.add (local.get $r0) (local.get $c0)) (local.get $k)))))
              (local.set $b (f64.convert_i32_u (i32.load8_u (i32.add (i32.add (local.get $r0) (local.get $c1)) (local.get $k)))))
              (local.set $d (f64.convert_i32_u (i32.load8_u (i32.add (i32.add (local.get $r1) (local.get $c0)) (local.get $k)))))
              (local.set $e (f64.convert_i32_u (i32.load8_u (i32.add (i32.add (local.get $r1) (local.get $c1)) (local.get $k)))))
              (local.set $top (f64.add (local.get $a) (f64.mul (local.get $ax) (f64.sub (local.get $b) (local.get $a)))))
              (local.set $v
                (f64.add (local.get $top)
                  (f64.mul (local.get $ay)
                    (f64.sub (f64.add (local.get $d) (f64.mul (local.get $ax) (f64.sub (local.get $e) (local.get $d)))) (local.get $top)))))
              (i32.store8 (local.get $o)
                (if (result i32) (f64.le (local.get $v) (f64.const 0))
                  (then (i32.const 0))
                  (else
                    (if (result i32) (f64.ge (local.get $v) (f64.const 255))
                      (then (i32.const 255))
                      (else (i32.trunc_sat_f64_s (f64.add (local.get $v) (f64.const 0.5))))))))
              (local.set $o (i32.add (local.get $o) (i32.const 1)))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br_if $comp (i32.lt_s (local.get $k) (local.get $c))))
            (local.set $f (i32.add (local.get $f) (i32.const 8)))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))
            (br $next_x)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $next_y))))

  (func (export "mask")
    (param $back i32) (param $fwd i32) (param $w i32) (param $h i32) (param $out i32) (param $boundaries i32)
    (local $x i32) (local $y i32) (local $o i32) (local $q i32) (local $bx f64) (local $by f64) (local $px f64) (local $py f64)
    (local $cx f64) (local $cy f64) (local $x0 f64) (local $y0 f64) (local $ax f64) (local $ay f64)
    (local $maxX f64) (local $maxY f64) (local $c0 i32) (local $c1 i32) (local $r0 i32) (local $r1 i32)
    (local $fx f64) (local $fy f64) (local $ex f64) (local $ey f64) (local $ok i32) (local $rr i32) (local $dd i32)
    (local $ux f64) (local $vx f64) (local $uy f64) (local $vy f64) (local $row2 i32)
    (local.set $maxX (f64.convert_i32_s (i32.sub (local.get $w) (i32.const 1))))
    (local.set $maxY (f64.convert_i32_s (i32.sub (local.get $h) (i32.const 1))))
    (local.set $row2 (i32.shl (local.get $w) (i32.const 3)))
    (block $done_y
      (loop $next_y
        (br_if $done_y (i32.ge_s (local.get $y) (local.get $h)))
        (local.set $x (i32.const 0))
        (block $done_x
          (loop $next_x
            (br_if $done_x (i32.ge_s (local.get $x) (local.get $w)))
            (local.set $q (i32.add (local.get $back) (i32.shl (local.get $o) (i32.const 3))))
            (local.set $bx (f64.promote_f32 (f32.load (local.get $q))))
            (local.set $by (f64.promote_f32 (f32.load offset=4 (local.get $q))))
            (local.set $px (f64.add (f64.convert_i32_s (local.get $x)) (local.get $bx)))
            (local.set $py (f64.add (f64.convert_i32_s (local.get $y)) (local.get $by)))
            (local.set $ok (i32.const 0))
            (if (i32.and
                  (i32.and (f64.ge (local.get $px) (f64.const 0)) (f64.le (local.get $px) (local.get $maxX)))
                  (i32.and (f64.ge (local.get $py) (f64.const 0)) (f64.le (local.get $py) (local.get $maxY))))
              (then
                ;; the forward flow at x + b, bilinear (as warpSamples: clamped, f32)
                (local.set $cx (call $clamp (local.get $px) (local.get $maxX)))
                (local.set $cy (call $clamp (local.get $py) (local.get $maxY)))
                (local.set $x0 (f64.floor (local.get $cx)))
                (local.set $y0 (f64.floor (local.get $cy)))
                (local.set $ax (f64.sub (local.get $cx) (local.get $x0)))
                (local.set $ay (f64.sub (local.get $cy) (local.get $y0)))
                (local.set $c0 (i32.shl (i32.trunc_f64_s (local.get $x0)) (i32.const 3)))
                (local.set $c1 (select (i32.add (local.get $c0) (i32.const 8)) (local.get $c0) (f64.lt (local.get $x0) (local.get $maxX))))
                (local.set $r0 (i32.add (local.get $fwd) (i32.mul (i32.trunc_f64_s (local.get $y0)) (local.get $row2))))
                (local.set $r1 (select (i32.add (local.get $r0) (local.get $row2)) (local.get $r0) (f64.lt (local.get $y0) (local.get $maxY))))
                (local.set $fx (call $bilinear (i32.add (local.get $r0) (local.get $c0)) (i32.add (local.get $r0) (local.get $c1))
                  (i32.add (local.get $r1) (local.get $c0)) (i32.add (local.get $r1) (local.get $c1)) (local.get $ax) (local.get $ay)))
                (local.set $fy (call $bilinear (i32.add (i32.add (local.get $r0) (local.get $c0)) (i32.const 4)) (i32.add (i32.add (local.get $r0) (local.get $c1)) (i32.const 4))
                  (i32.add (i32.add (local.get $r1) (local.get $c0)) (i32.const 4)) (i32.add (i32.add (local.get $r1) (local.get $c1)) (i32.const 4)) (local.get $ax) (local.get $ay)))
                (local.set $ex (f64.add (local.get $bx) (local.get $fx)))
                (local.set $ey (f64.add (local.get $by) (local.get $fy)))
                (local.set $ok
                  (f64.le
                    (f64.add (f64.mul (local.get $ex) (local.get $ex)) (f64.mul (local.get $ey) (local.get $ey)))
                    (f64.add
                      (f64.mul (f64.const 0.01)
                        (f64.add (f64.add (f64.add (f64.mul (local.get $bx) (local.get $bx)) (f64.mul (local.get $by) (local.get $by)))
                          (f64.mul (local.get $fx) (local.get $fx))) (f64.mul (local.get $fy) (local.get $fy))))
                      (f64.const 0.5))))
                (if (i32.and (local.get $ok) (local.get $boundaries))
                  (then
                    (local.set $rr (select (i32.const 8) (i32.const 0) (i32.lt_s (local.get $x) (i32.sub (local.get $w) (i32.const 1)))))
                    (local.set $dd (select (local.get $row2) (i32.const 0) (i32.lt_s (local.get $y) (i32.sub (local.get $h) (i32.const 1)))))
                    (local.set $ux (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $q) (local.get $rr)))) (local.get $bx)))
                    (local.set $vx (f64.sub (f64.promote_f32 (f32.load offset=4 (i32.add (local.get $q) (local.get $rr)))) (local.get $by)))
                    (local.set $uy (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $q) (local.get $dd)))) (local.get $bx)))
                    (local.set $vy (f64.sub (f64.promote_f32 (f32.load offset=4 (i32.add (local.get $q) (local.get $dd)))) (local.get $by)))
                    (local.set $ok
                      (f64.le
                        (f64.add (f64.add (f64.add (f64.mul (local.get $ux) (local.get $ux)) (f64.mul (local.get $vx) (local.get $vx)))
                          (f64.mul (local.get $uy) (local.get $uy))) (f64.mul (local.get $vy) (local.get $vy)))
                        (f64.add
                          (f64.mul (f64.const 0.01) (f64.add (f64.mul (local.get $bx) (local.get $bx)) (f64.mul (local.get $by) (local.get $by))))
                          (f64.const 0.002))))))))
            (i32.store8 (i32.add (local.get $out) (local.get $o)) (select (i32.const 255) (i32.const 0) (local.get $ok)))
            (local.set $o (i32.add (local.get $o) (i32.const 1)))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))
            (br $next_x)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $next_y))))

  ;; Bilinear of four f32 samples, as warpSamples computes it, rounded to f32 as it stores it.
  (func $bilinear (param $pa i32) (param $pb i32) (param $pd i32) (param $pe i32) (param $ax f64) (param $ay f64) (result f64)
    (local $a f64) (local $b f64) (local $d f64) (local $e f64) (local $top f64)
    (local.set $a (f64.promote_f32 (f32.load (local.get $pa))))
    (local.set $b (f64.promote_f32 (f32.load (local.get $pb))))
    (local.set $d (f64.promote_f32 (f32.load (local.get $pd))))
    (local.set $e (f64.promote_f32 (f32.load (local.get $pe))))
    (local.set $top (f64.add (local.get $a) (f64.mul (local.get $ax) (f64.sub (local.get $b) (local.get $a)))))
    (f64.promote_f32 (f32.demote_f64
      (f64.add (local.get $top)
        (f64.mul (local.get $ay)
          (f64.sub (f64.add (local.get $d) (f64.mul (local.get $ax) (f64.sub (local.get $e) (local.get $d)))) (local.get $top))))))))

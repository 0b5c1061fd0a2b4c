;; The data terms (export "data") and the red-black SOR sweeps (export "sor") of the variational
;; refinement (variational.ts) in WebAssembly SIMD.
;;
;; data: per pixel, four at a time, from the image derivatives and the current increment (du, dv),
;; the robustly weighted normal equations of the colour and gradient constancy terms:
;;   a11, a12, a22, b1, b2 exactly as the TypeScript loop in variational.ts (in f32).
;;
;; sor: red-black SOR sweeps, four pixels of one colour
;; at a time (WebAssembly SIMD, f32x4). All arrays are f32, w × h, in this module's memory:
;;   du, dv      the increments solved for (updated in place)
;;   ru, rv      right-hand sides (data term plus the neighbours' flow), fixed during the sweeps
;;   i11, i22    omega / (a11 + sum of weights), omega / (a22 + sum of weights)
;;   a12         the data term's coupling
;;   sm          smoothness weight of the edge to the right and of the edge below each pixel
;; Per pixel (neighbours that exist only):
;;   su = ru + Σ sm_edge · du_nb;  sv = rv + Σ sm_edge · dv_nb
;;   du = (1 − ω)·du + (su − a12·dv)·i11;  dv = (1 − ω)·dv + (sv − a12·du)·i22
;; Pixels with (x + y) even are updated first, then the odd ones; a pixel's four neighbours are of
;; the other colour, so the four lanes never depend on each other. The TypeScript path in
;; variational.ts runs the same order in doubles.
(module
  (memory (export "memory") 1)

  ;; One pixel, any position (edges checked). $o is the pixel index.
  (func $pixel
    (param $o i32) (param $x i32) (param $y i32) (param $w i32) (param $h i32) (param $omega f32)
    (param $du i32) (param $dv i32) (param $ru i32) (param $rv i32)
    (param $i11 i32) (param $i22 i32) (param $a12 i32) (param $sm i32)
    (local $b i32) (local $su f32) (local $sv f32) (local $c f32) (local $q i32) (local $u f32)
    (local.set $b (i32.shl (local.get $o) (i32.const 2)))
    (local.set $su (f32.load (i32.add (local.get $ru) (local.get $b))))
    (local.set $sv (f32.load (i32.add (local.get $rv) (local.get $b))))
    ;; left: weight sm[o − 1]
    (if (i32.gt_s (local.get $x) (i32.const 0))
      (then
        (local.set $q (i32.sub (local.get $b) (i32.const 4)))
        (local.set $c (f32.load (i32.add (local.get $sm) (local.get $q))))
        (local.set $su (f32.add (local.get $su) (f32.mul (local.get $c) (f32.load (i32.add (local.get $du) (local.get $q))))))
        (local.set $sv (f32.add (local.get $sv) (f32.mul (local.get $c) (f32.load (i32.add (local.get $dv) (local.get $q))))))))
    ;; right: weight sm[o]
    (if (i32.lt_s (local.get $x) (i32.sub (local.get $w) (i32.const 1)))
      (then
        (local.set $q (i32.add (local.get $b) (i32.const 4)))
        (local.set $c (f32.load (i32.add (local.get $sm) (local.get $b))))
        (local.set $su (f32.add (local.get $su) (f32.mul (local.get $c) (f32.load (i32.add (local.get $du) (local.get $q))))))
        (local.set $sv (f32.add (local.get $sv) (f32.mul (local.get $c) (f32.load (i32.add (local.get $dv) (local.get $q))))))))
    ;; up: weight sm[o − w]
    (if (i32.gt_s (local.get $y) (i32.const 0))
      (then
        (local.set $q (i32.sub (local.get $b) (i32.shl (local.get $w) (i32.const 2))))
        (local.set $c (f32.load (i32.add (local.get $sm) (local.get $q))))
        (local.set $su (f32.add (local.get $su) (f32.mul (local.get $c) (f32.load (i32.add (local.get $du) (local.get $q))))))
        (local.set $sv (f32.add (local.get $sv) (f32.mul (local.get $c) (f32.load (i32.add (local.get $dv) (local.get $q))))))))
    ;; down: weight sm[o]
    (if (i32.lt_s (local.get $y) (i32.sub (local.get $h) (i32.const 1)))
      (then
        (local.set $q (i32.add (local.get $b) (i32.shl (local.get $w) (i32.const 2))))
        (local.set $c (f32.load (i32.add (local.get $sm) (local.get $b))))
        (local.set $su (f32.add (local.get $su) (f32.mul (local.get $c) (f32.load (i32.add (local.get $du) (local.get $q))))))
        (local.set $sv (f32.add (local.get $sv) (f32.mul (local.get $c) (f32.load (i32.add (local.get $dv) (local.get $q))))))))
    (local.set $u
      (f32.add
        (f32.mul (f32.sub (f32.const 1) (local.get $omega)) (f32.load (i32.add (local.get $du) (local.get $b))))
        (f32.mul
          (f32.sub (local.get $su)
            (f32.mul (f32.load (i32.add (local.get $a12) (local.get $b))) (f32.load (i32.add (local.get $dv) (local.get $b)))))
          (f32.load (i32.add (local.get $i11) (local.get $b))))))
    (f32.store (i32.add (local.get $du) (local.get $b)) (local.get $u))
    (f32.store (i32.add (local.get $dv) (local.get $b))
      (f32.add
        (f32.mul (f32.sub (f32.const 1) (local.get $omega)) (f32.load (i32.add (local.get $dv) (local.get $b))))
        (f32.mul
          (f32.sub (local.get $sv) (f32.mul (f32.load (i32.add (local.get $a12) (local.get $b))) (local.get $u)))
          (f32.load (i32.add (local.get $i22) (local.get $b)))))))

  ;; Four interior pixels o, o + 2, o + 4, o + 6 ($b = 4·o; $wb = 4·w).
  (func $quad
    (param $b i32) (param $wb i32) (param $keep v128)
    (param $du i32) (param $dv i32) (param $ru i32) (param $rv i32)
    (param $i11 i32) (param $i22 i32) (param $a12 i32) (param $sm i32)
    (local $cl v128) (local $cs v128) (local $cu v128) (local $su v128) (local $sv v128)
    (local $dus v128) (local $dvs v128) (local $a v128) (local $u v128)
    (local $p i32) (local $v v128)
    (local.set $cl (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load (i32.sub (i32.add (local.get $sm) (local.get $b)) (i32.const 4))) (v128.load offset=16 (i32.sub (i32.add (local.get $sm) (local.get $b)) (i32.const 4)))))
    (local.set $cs (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load (i32.add (local.get $sm) (local.get $b))) (v128.load offset=16 (i32.add (local.get $sm) (local.get $b)))))
    (local.set $cu (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load (i32.sub (i32.add (local.get $sm) (local.get $b)) (local.get $wb))) (v128.load offset=16 (i32.sub (i32.add (local.get $sm) (local.get $b)) (local.get $wb)))))
    (local.set $su
      (f32x4.add
        (f32x4.add (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load (i32.add (local.get $ru) (local.get $b))) (v128.load offset=16 (i32.add (local.get $ru) (local.get $b))))
          (f32x4.mul (local.get $cl) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load (i32.sub (i32.add (local.get $du) (local.get $b)) (i32.const 4))) (v128.load offset=16 (i32.sub (i32.add (local.get $du) (local.get $b)) (i32.const 4))))))
        (f32x4.add
          (f32x4.mul (local.get $cs) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load (i32.add (i32.add (local.get $du) (local.get $b)) (i32.const 4))) (v128.load offset=16 (i32.add (i32.add (local.get $du) (local.get $b)) (i32.const 4)))))
          (f32x4.add
            (f32x4.mul (local.get $cu) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load (i32.sub (i32.add (local.get $du) (local.get $b)) (local.get $wb))) (v128.load offset=16 (i32.sub (i32.add (local.get $du) (local.get $b)) (local.get $wb)))))
            (f32x4.mul (local.get $cs) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load (i32.add (i32.add (local.get $du) (local.get $b)) (local.get $wb))) (v128.load offset=16 (i32.add (i32.add (local.get $du) (local.get $b)) (local.get $wb)))))))))
    (local.set $sv
      (f32x4.add
        (f32x4.add (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load (i32.add (local.get $rv) (local.get $b))) (v128.load offset=16 (i32.add (local.get $rv) (local.get $b))))
          (f32x4.mul (local.get $cl) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load (i32.sub (i32.add (local.get $dv) (local.get $b)) (i32.const 4))) (v128.load offset=16 (i32.sub (i32.add (local.get $dv) (local.get $b)) (i32.const 4))))))
        (f32x4.add
          (f32x4.mul (local.get $cs) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load (i32.add (i32.add (local.get $dv) (local.get $b)) (i32.const 4))) (v128.load offset=16 (i32.add (i32.add (local.get $dv) (local.get $b)) (i32.const 4)))))
          (f32x4.add
            (f32x4.mul (local.get $cu) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load (i32.sub (i32.add (local.get $dv) (local.get $b)) (local.get $wb))) (v128.load offset=16 (i32.sub (i32.add (local.get $dv) (local.get $b)) (local.get $wb)))))
            (f32x4.mul (local.get $cs) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load (i32.add (i32.add (local.get $dv) (local.get $b)) (local.get $wb))) (v128.load offset=16 (i32.add (i32.add (local.get $dv) (local.get $b)) (local.get $wb)))))))))
    (local.set $dus (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load (i32.add (local.get $du) (local.get $b))) (v128.load offset=16 (i32.add (local.get $du) (local.get $b)))))
    (local.set $dvs (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load (i32.add (local.get $dv) (local.get $b))) (v128.load offset=16 (i32.add (local.get $dv) (local.get $b)))))
    (local.set $a (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load (i32.add (local.get $a12) (local.get $b))) (v128.load offset=16 (i32.add (local.get $a12) (local.get $b)))))
    (local.set $u
      (f32x4.add (f32x4.mul (local.get $keep) (local.get $dus))
        (f32x4.mul (f32x4.sub (local.get $su) (f32x4.mul (local.get $a) (local.get $dvs)))
          (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load (i32.add (local.get $i11) (local.get $b))) (v128.load offset=16 (i32.add (local.get $i11) (local.get $b)))))))
    (local.set $p (i32.add (i32.const 0) (i32.add (local.get $du) (local.get $b)))) (local.set $v (local.get $u)) (v128.store (local.get $p) (i8x16.shuffle 0 1 2 3 20 21 22 23 4 5 6 7 28 29 30 31 (local.get $v) (v128.load (local.get $p))))
    (v128.store offset=16 (local.get $p) (i8x16.shuffle 8 9 10 11 20 21 22 23 12 13 14 15 28 29 30 31 (local.get $v) (v128.load offset=16 (local.get $p))))
    (local.set $p (i32.add (i32.const 0) (i32.add (local.get $dv) (local.get $b)))) (local.set $v (f32x4.add (f32x4.mul (local.get $keep) (local.get $dvs))
        (f32x4.mul (f32x4.sub (local.get $sv) (f32x4.mul (local.get $a) (local.get $u)))
          (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load (i32.add (local.get $i22) (local.get $b))) (v128.load offset=16 (i32.add (local.get $i22) (local.get $b))))))) (v128.store (local.get $p) (i8x16.shuffle 0 1 2 3 20 21 22 23 4 5 6 7 28 29 30 31 (local.get $v) (v128.load (local.get $p))))
    (v128.store offset=16 (local.get $p) (i8x16.shuffle 8 9 10 11 20 21 22 23 12 13 14 15 28 29 30 31 (local.get $v) (v128.load offset=16 (local.get $p)))))

  ;; n pixels (a multiple of four is read and written; the arrays are padded).
  (func (export "data")
    (param $n i32) (param $delta2 f32) (param $gamma2 f32)
    (param $ix i32) (param $iy i32) (param $iz i32) (param $ixx i32) (param $ixy i32) (param $iyy i32)
    (param $ixz i32) (param $iyz i32) (param $du i32) (param $dv i32)
    (param $a11 i32) (param $a12 i32) (param $a22 i32) (param $b1 i32) (param $b2 i32)
    (local $b i32) (local $end i32)
    (local $X v128) (local $Y v128) (local $Z v128) (local $U v128) (local $V v128)
    (local $XX v128) (local $XY v128) (local $YY v128) (local $XZ v128) (local $YZ v128)
    (local $N v128) (local $N2 v128) (local $E v128) (local $F v128) (local $W v128)
    (local $A11 v128) (local $A12 v128) (local $A22 v128) (local $B1 v128) (local $B2 v128)
    (local $zeta v128) (local $eps v128) (local $D2 v128) (local $G2 v128)
    (local.set $zeta (f32x4.splat (f32.const 0.01)))
    (local.set $eps (f32x4.splat (f32.const 1e-6)))
    (local.set $D2 (f32x4.splat (local.get $delta2)))
    (local.set $G2 (f32x4.splat (local.get $gamma2)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $b) (local.get $end)))
        (local.set $X (v128.load (i32.add (local.get $ix) (local.get $b))))
        (local.set $Y (v128.load (i32.add (local.get $iy) (local.get $b))))
        (local.set $Z (v128.load (i32.add (local.get $iz) (local.get $b))))
        (local.set $U (v128.load (i32.add (local.get $du) (local.get $b))))
        (local.set $V (v128.load (i32.add (local.get $dv) (local.get $b))))
        ;; colour constancy
        (local.set $N (f32x4.add (f32x4.add (f32x4.mul (local.get $X) (local.get $X)) (f32x4.mul (local.get $Y) (local.get $Y))) (local.get $zeta)))
        (local.set $E (f32x4.add (local.get $Z) (f32x4.add (f32x4.mul (local.get $X) (local.get $U)) (f32x4.mul (local.get $Y) (local.get $V)))))
        (local.set $W
          (f32x4.div
            (f32x4.div (local.get $D2)
              (f32x4.sqrt (f32x4.add (f32x4.div (f32x4.mul (local.get $E) (local.get $E)) (local.get $N)) (local.get $eps))))
            (local.get $N)))
        (local.set $A11 (f32x4.add (f32x4.mul (f32x4.mul (local.get $W) (local.get $X)) (local.get $X)) (local.get $zeta)))
        (local.set $A12 (f32x4.mul (f32x4.mul (local.get $W) (local.get $X)) (local.get $Y)))
        (local.set $A22 (f32x4.add (f32x4.mul (f32x4.mul (local.get $W) (local.get $Y)) (local.get $Y)) (local.get $zeta)))
        (local.set $B1 (f32x4.neg (f32x4.mul (f32x4.mul (local.get $W) (local.get $Z)) (local.get $X))))
        (local.set $B2 (f32x4.neg (f32x4.mul (f32x4.mul (local.get $W) (local.get $Z)) (local.get $Y))))
        ;; gradient constancy
        (local.set $XX (v128.load (i32.add (local.get $ixx) (local.get $b))))
        (local.set $XY (v128.load (i32.add (local.get $ixy) (local.get $b))))
        (local.set $YY (v128.load (i32.add (local.get $iyy) (local.get $b))))
        (local.set $XZ (v128.load (i32.add (local.get $ixz) (local.get $b))))
        (local.set $YZ (v128.load (i32.add (local.get $iyz) (local.get $b))))
        (local.set $N (f32x4.add (f32x4.add (f32x4.mul (local.get $XX) (local.get $XX)) (f32x4.mul (local.get $XY) (local.get $XY))) (local.get $zeta)))
        (local.set $N2 (f32x4.add (f32x4.add (f32x4.mul (local.get $YY) (local.get $YY)) (f32x4.mul (local.get $XY) (local.get $XY))) (local.get $zeta)))
        (local.set $E (f32x4.add (local.get $XZ) (f32x4.add (f32x4.mul (local.get $XX) (local.get $U)) (f32x4.mul (local.get $XY) (local.get $V)))))
        (local.set $F (f32x4.add (local.get $YZ) (f32x4.add (f32x4.mul (local.get $XY) (local.get $U)) (f32x4.mul (local.get $YY) (local.get $V)))))
        (local.set $W
          (f32x4.div (local.get $G2)
            (f32x4.sqrt
              (f32x4.add
                (f32x4.add (f32x4.div (f32x4.mul (local.get $E) (local.get $E)) (local.get $N))
                  (f32x4.div (f32x4.mul (local.get $F) (local.get $F)) (local.get $N2)))
                (local.get $eps)))))
        (local.set $A11 (f32x4.add (local.get $A11) (f32x4.mul (local.get $W)
          (f32x4.add (f32x4.div (f32x4.mul (local.get $XX) (local.get $XX)) (local.get $N))
            (f32x4.div (f32x4.mul (local.get $XY) (local.get $XY)) (local.get $N2))))))
        (local.set $A12 (f32x4.add (local.get $A12) (f32x4.mul (local.get $W)
          (f32x4.add (f32x4.div (f32x4.mul (local.get $XX) (local.get $XY)) (local.get $N))
            (f32x4.div (f32x4.mul (local.get $XY) (local.get $YY)) (local.get $N2))))))
        (local.set $A22 (f32x4.add (local.get $A22) (f32x4.mul (local.get $W)
          (f32x4.add (f32x4.div (f32x4.mul (local.get $XY) (local.get $XY)) (local.get $N))
            (f32x4.div (f32x4.mul (local.get $YY) (local.get $YY)) (local.get $N2))))))
        (local.set $B1 (f32x4.sub (local.get $B1) (f32x4.mul (local.get $W)
          (f32x4.add (f32x4.div (f32x4.mul (local.get $XX) (local.get $XZ)) (local.get $N))
            (f32x4.div (f32x4.mul (local.get $XY) (local.get $YZ)) (local.get $N2))))))
        (local.set $B2 (f32x4.sub (local.get $B2) (f32x4.mul (local.get $W)
          (f32x4.add (f32x4.div (f32x4.mul (local.get $XY) (local.get $XZ)) (local.get $N))
            (f32x4.div (f32x4.mul (local.get $YY) (local.get $YZ)) (local.get $N2))))))
        (v128.store (i32.add (local.get $a11) (local.get $b)) (local.get $A11))
        (v128.store (i32.add (local.get $a12) (local.get $b)) (local.get $A12))
        (v128.store (i32.add (local.get $a22) (local.get $b)) (local.get $A22))
        (v128.store (i32.add (local.get $b1) (local.get $b)) (local.get $B1))
        (v128.store (i32.add (local.get $b2) (local.get $b)) (local.get $B2))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br $next))))

  ;; $iterations sweeps over a w × h field.
  (func (export "sor")
    (param $w i32) (param $h i32) (param $iterations i32) (param $omega f32)
    (param $du i32) (param $dv i32) (param $ru i32) (param $rv i32)
    (param $i11 i32) (param $i22 i32) (param $a12 i32) (param $sm i32)
    (local $it i32) (local $color i32) (local $y i32) (local $x i32) (local $row i32)
    (local $keep v128) (local $wb i32) (local $interior i32)
    (local.set $keep (f32x4.splat (f32.sub (f32.const 1) (local.get $omega))))
    (local.set $wb (i32.shl (local.get $w) (i32.const 2)))
    (block $done_it
      (loop $next_it
        (br_if $done_it (i32.ge_s (local.get $it) (local.get $iterations)))
        (local.set $color (i32.const 0))
        (loop $next_color
          (local.set $y (i32.const 0))
          (block $done_y
            (loop $next_y
              (br_if $done_y (i32.ge_s (local.get $y) (local.get $h)))
              (local.set $row (i32.mul (local.get $y) (local.get $w)))
              (local.set $x (i32.and (i32.add (local.get $y) (local.get $color)) (i32.const 1)))
              (local.set $interior
                (i32.and (i32.gt_s (local.get $y) (i32.const 0))
                  (i32.lt_s (local.get $y) (i32.sub (local.get $h) (i32.const 1)))))
              ;; x = 0 of this colour, checked.
              (if (i32.eqz (local.get $x))
                (then
                  (call $pixel (local.get $row) (i32.const 0) (local.get $y) (local.get $w) (local.get $h) (local.get $omega)
                    (local.get $du) (local.get $dv) (local.get $ru) (local.get $rv)
                    (local.get $i11) (local.get $i22) (local.get $a12) (local.get $sm))
                  (local.set $x (i32.const 2))))
              ;; Interior rows: four at a time while x + 6 ≤ w − 2.
              (if (local.get $interior)
                (then
                  (block $done_q
                    (loop $next_q
                      (br_if $done_q (i32.gt_s (i32.add (local.get $x) (i32.const 6)) (i32.sub (local.get $w) (i32.const 2))))
                      (call $quad (i32.shl (i32.add (local.get $row) (local.get $x)) (i32.const 2)) (local.get $wb) (local.get $keep)
                        (local.get $du) (local.get $dv) (local.get $ru) (local.get $rv)
                        (local.get $i11) (local.get $i22) (local.get $a12) (local.get $sm))
                      (local.set $x (i32.add (local.get $x) (i32.const 8)))
                      (br $next_q)))))
              ;; The rest of the row, one at a time.
              (block $done_x
                (loop $next_x
                  (br_if $done_x (i32.ge_s (local.get $x) (local.get $w)))
                  (call $pixel (i32.add (local.get $row) (local.get $x)) (local.get $x) (local.get $y) (local.get $w) (local.get $h)
                    (local.get $omega)
                    (local.get $du) (local.get $dv) (local.get $ru) (local.get $rv)
                    (local.get $i11) (local.get $i22) (local.get $a12) (local.get $sm))
                  (local.set $x (i32.add (local.get $x) (i32.const 2)))
                  (br $next_x)))
              (local.set $y (i32.add (local.get $y) (i32.const 1)))
              (br $next_y)))
          (local.set $color (i32.add (local.get $color) (i32.const 1)))
          (br_if $next_color (i32.lt_s (local.get $color) (i32.const 2))))
        (local.set $it (i32.add (local.get $it) (i32.const 1)))
        (br $next_it))))

  ;; smooth: the smoothness weight of each pixel from forward differences of the whole flow
  ;; (U + du, V + dv), for the pixels [0, $end) — rows above the last: sm = α/2 / sqrt(|∇u|² + |∇v|²
  ;; + ε²). The last column and row (whose differences stop at the edge) are left to the caller.
  (func (export "smooth")
    (param $end i32) (param $w i32) (param $alpha2 f32)
    (param $u i32) (param $v i32) (param $du i32) (param $dv i32) (param $sm i32)
    (local $b i32) (local $e i32) (local $wb i32) (local $A v128) (local $eps v128)
    (local $U0 v128) (local $V0 v128) (local $UX v128) (local $VX v128) (local $UY v128) (local $VY v128)
    (local $p i32) (local $q i32)
    (local.set $A (f32x4.splat (local.get $alpha2)))
    (local.set $eps (f32x4.splat (f32.const 1e-6)))
    (local.set $wb (i32.shl (local.get $w) (i32.const 2)))
    (local.set $e (i32.shl (local.get $end) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $b) (local.get $e)))
        (local.set $p (i32.add (local.get $u) (local.get $b)))
        (local.set $q (i32.add (local.get $du) (local.get $b)))
        (local.set $U0 (f32x4.add (v128.load (local.get $p)) (v128.load (local.get $q))))
        (local.set $UX (f32x4.sub (f32x4.add (v128.load offset=4 (local.get $p)) (v128.load offset=4 (local.get $q))) (local.get $U0)))
        (local.set $UY (f32x4.sub (f32x4.add (v128.load (i32.add (local.get $p) (local.get $wb))) (v128.load (i32.add (local.get $q) (local.get $wb)))) (local.get $U0)))
        (local.set $p (i32.add (local.get $v) (local.get $b)))
        (local.set $q (i32.add (local.get $dv) (local.get $b)))
        (local.set $V0 (f32x4.add (v128.load (local.get $p)) (v128.load (local.get $q))))
        (local.set $VX (f32x4.sub (f32x4.add (v128.load offset=4 (local.get $p)) (v128.load offset=4 (local.get $q))) (local.get $V0)))
        (local.set $VY (f32x4.sub (f32x4.add (v128.load (i32.add (local.get $p) (local.get $wb))) (v128.load (i32.add (local.get $q) (local.get $wb)))) (local.get $V0)))
        (v128.store (i32.add (local.get $sm) (local.get $b))
          (f32x4.div (local.get $A)
            (f32x4.sqrt
              (f32x4.add
                (f32x4.add
                  (f32x4.add (f32x4.mul (local.get $UX) (local.get $UX)) (f32x4.mul (local.get $UY) (local.get $UY)))
                  (f32x4.add (f32x4.mul (local.get $VX) (local.get $VX)) (f32x4.mul (local.get $VY) (local.get $VY))))
                (local.get $eps)))))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br $next))))

  ;; rhs: for the pixels [$start, $end) — rows with all four neighbours; the first and last column
  ;; are left to the caller — what the sweeps keep fixed: with c the weights of the edges to the
  ;; left, right, up and down (sm[o − 1], sm[o], sm[o − w], sm[o]) and Σc their sum,
  ;;   i11 = ω / (a11 + Σc), i22 = ω / (a22 + Σc), ru = b1 + Σ c·(U_nb − U), rv = b2 + Σ c·(V_nb − V).
  (func (export "rhs")
    (param $start i32) (param $end i32) (param $w i32) (param $omega f32)
    (param $u i32) (param $v i32) (param $sm i32) (param $a11 i32) (param $a22 i32) (param $b1 i32) (param $b2 i32)
    (param $i11 i32) (param $i22 i32) (param $ru i32) (param $rv i32)
    (local $b i32) (local $e i32) (local $wb i32) (local $O v128)
    (local $CL v128) (local $CR v128) (local $CU v128) (local $SW v128) (local $X v128) (local $p i32) (local $q i32)
    (local.set $O (f32x4.splat (local.get $omega)))
    (local.set $wb (i32.shl (local.get $w) (i32.const 2)))
    (local.set $b (i32.shl (local.get $start) (i32.const 2)))
    (local.set $e (i32.shl (local.get $end) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $b) (local.get $e)))
        (local.set $p (i32.add (local.get $sm) (local.get $b)))
        (local.set $CL (v128.load (i32.sub (local.get $p) (i32.const 4))))
        (local.set $CR (v128.load (local.get $p)))
        (local.set $CU (v128.load (i32.sub (local.get $p) (local.get $wb))))
        (local.set $SW (f32x4.add (f32x4.add (local.get $CL) (local.get $CU)) (f32x4.add (local.get $CR) (local.get $CR))))
        (v128.store (i32.add (local.get $i11) (local.get $b))
          (f32x4.div (local.get $O) (f32x4.add (v128.load (i32.add (local.get $a11) (local.get $b))) (local.get $SW))))
        (v128.store (i32.add (local.get $i22) (local.get $b))
          (f32x4.div (local.get $O) (f32x4.add (v128.load (i32.add (local.get $a22) (local.get $b))) (local.get $SW))))
        ;; u: Σ c·(U_nb − U) = cl·U_l + cr·(U_r + U_d) + cu·U_u − Σc·U
        (local.set $p (i32.add (local.get $u) (local.get $b)))
        (local.set $X (v128.load (local.get $p)))
        (v128.store (i32.add (local.get $ru) (local.get $b))
          (f32x4.add (v128.load (i32.add (local.get $b1) (local.get $b)))
            (f32x4.sub
              (f32x4.add
                (f32x4.add
                  (f32x4.mul (local.get $CL) (v128.load (i32.sub (local.get $p) (i32.const 4))))
                  (f32x4.mul (local.get $CU) (v128.load (i32.sub (local.get $p) (local.get $wb)))))
                (f32x4.mul (local.get $CR) (f32x4.add (v128.load offset=4 (local.get $p)) (v128.load (i32.add (local.get $p) (local.get $wb))))))
              (f32x4.mul (local.get $SW) (local.get $X)))))
        (local.set $p (i32.add (local.get $v) (local.get $b)))
        (local.set $X (v128.load (local.get $p)))
        (v128.store (i32.add (local.get $rv) (local.get $b))
          (f32x4.add (v128.load (i32.add (local.get $b2) (local.get $b)))
            (f32x4.sub
              (f32x4.add
                (f32x4.add
                  (f32x4.mul (local.get $CL) (v128.load (i32.sub (local.get $p) (i32.const 4))))
                  (f32x4.mul (local.get $CU) (v128.load (i32.sub (local.get $p) (local.get $wb)))))
                (f32x4.mul (local.get $CR) (f32x4.add (v128.load offset=4 (local.get $p)) (v128.load (i32.add (local.get $p) (local.get $wb))))))
              (f32x4.mul (local.get $SW) (local.get $X)))))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br $next))))
)

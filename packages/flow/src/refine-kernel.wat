;; The data terms (export "data"), smoothness weights ("smooth"), fixed right-hand sides ("rhs")
;; and red-black SOR sweeps ("sor") of the variational refinement (variational.ts) in WebAssembly
;; SIMD.
;;
;; data: per pixel, four at a time, from the image derivatives and the current increment (du, dv),
;; the robustly weighted normal equations of the colour and gradient constancy terms:
;;   a11, a12, a22, b1, b2 exactly as the TypeScript loop in variational.ts (in f32).
;;
;; sor: red-black SOR sweeps. All fields are f32, w × h, in this module's memory:
;;   du, dv      the increments solved for (updated in place)
;;   ru, rv      right-hand sides (data term plus the neighbours' flow), fixed during the sweeps
;;   i11, i22    omega / (a11 + sum of weights), omega / (a22 + sum of weights)
;;   a12         the data term's coupling
;;   sm          smoothness weight of the edge to the right and of the edge below each pixel
;; Per pixel (neighbours that exist only):
;;   su = ru + Σ sm_edge · du_nb;  sv = rv + Σ sm_edge · dv_nb
;;   du = (1 − ω)·du + (su − a12·dv)·i11;  dv = (1 − ω)·dv + (sv − a12·du)·i22
;; Pixels with (x + y) even are updated first, then the odd ones; a pixel's four neighbours are of
;; the other colour. As OpenCV's VariationalRefinement does, the fields are first split into one
;; plane per colour, so that four pixels of a colour are four consecutive floats and their
;; neighbours too (no shuffles in the sweeps), with zero weights where a neighbour is missing (no
;; edge cases). The TypeScript path in variational.ts runs the same order in doubles.
;;
;; smooth, rhs: the smoothness weights and the sweeps' fixed terms of the inner pixels (below).
(module
  (memory (export "memory") 1)

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

  ;; Split a w × h field (row-major at $src) into its two colours: pixels with x + y even go to
  ;; the plane at $red, the others to $black; pixel (x, y) lands in row y at index x >> 1 of its
  ;; plane (planes: rows −1 … h, $S floats apart, index −1 … S − 2). Eight pixels at a time.
  (func $split (param $src i32) (param $w i32) (param $h i32) (param $red i32) (param $black i32) (param $S i32)
    (local $y i32) (local $x i32) (local $p i32) (local $e i32) (local $o i32) (local $A v128) (local $B v128) (local $t i32)
    (block $done_y
      (loop $next_y
        (br_if $done_y (i32.ge_s (local.get $y) (local.get $h)))
        (local.set $t (i32.shl (i32.add (i32.mul (i32.add (local.get $y) (i32.const 1)) (local.get $S)) (i32.const 1)) (i32.const 2)))
        (local.set $e (i32.add (select (local.get $black) (local.get $red) (i32.and (local.get $y) (i32.const 1))) (local.get $t)))
        (local.set $o (i32.add (select (local.get $red) (local.get $black) (i32.and (local.get $y) (i32.const 1))) (local.get $t)))
        (local.set $p (i32.add (local.get $src) (i32.shl (i32.mul (local.get $y) (local.get $w)) (i32.const 2))))
        (local.set $x (i32.const 0))
        (block $done_v
          (loop $next_v
            (br_if $done_v (i32.gt_s (i32.add (local.get $x) (i32.const 8)) (local.get $w)))
            (local.set $A (v128.load (i32.add (local.get $p) (i32.shl (local.get $x) (i32.const 2)))))
            (local.set $B (v128.load offset=16 (i32.add (local.get $p) (i32.shl (local.get $x) (i32.const 2)))))
            (v128.store (i32.add (local.get $e) (i32.shl (local.get $x) (i32.const 1)))
              (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $A) (local.get $B)))
            (v128.store (i32.add (local.get $o) (i32.shl (local.get $x) (i32.const 1)))
              (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $A) (local.get $B)))
            (local.set $x (i32.add (local.get $x) (i32.const 8)))
            (br $next_v)))
        (block $done_s
          (loop $next_s
            (br_if $done_s (i32.ge_s (local.get $x) (local.get $w)))
            (f32.store
              (i32.add (select (local.get $o) (local.get $e) (i32.and (local.get $x) (i32.const 1)))
                (i32.shl (i32.shr_u (local.get $x) (i32.const 1)) (i32.const 2)))
              (f32.load (i32.add (local.get $p) (i32.shl (local.get $x) (i32.const 2)))))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))
            (br $next_s)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $next_y))))

  ;; The inverse of $split: the two colour planes back into the row-major field at $dst.
  (func $merge (param $dst i32) (param $w i32) (param $h i32) (param $red i32) (param $black i32) (param $S i32)
    (local $y i32) (local $x i32) (local $p i32) (local $e i32) (local $o i32) (local $A v128) (local $B v128) (local $t i32)
    (block $done_y
      (loop $next_y
        (br_if $done_y (i32.ge_s (local.get $y) (local.get $h)))
        (local.set $t (i32.shl (i32.add (i32.mul (i32.add (local.get $y) (i32.const 1)) (local.get $S)) (i32.const 1)) (i32.const 2)))
        (local.set $e (i32.add (select (local.get $black) (local.get $red) (i32.and (local.get $y) (i32.const 1))) (local.get $t)))
        (local.set $o (i32.add (select (local.get $red) (local.get $black) (i32.and (local.get $y) (i32.const 1))) (local.get $t)))
        (local.set $p (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $y) (local.get $w)) (i32.const 2))))
        (local.set $x (i32.const 0))
        (block $done_v
          (loop $next_v
            (br_if $done_v (i32.gt_s (i32.add (local.get $x) (i32.const 8)) (local.get $w)))
            (local.set $A (v128.load (i32.add (local.get $e) (i32.shl (local.get $x) (i32.const 1)))))
            (local.set $B (v128.load (i32.add (local.get $o) (i32.shl (local.get $x) (i32.const 1)))))
            (v128.store (i32.add (local.get $p) (i32.shl (local.get $x) (i32.const 2)))
              (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $A) (local.get $B)))
            (v128.store offset=16 (i32.add (local.get $p) (i32.shl (local.get $x) (i32.const 2)))
              (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $A) (local.get $B)))
            (local.set $x (i32.add (local.get $x) (i32.const 8)))
            (br $next_v)))
        (block $done_s
          (loop $next_s
            (br_if $done_s (i32.ge_s (local.get $x) (local.get $w)))
            (f32.store (i32.add (local.get $p) (i32.shl (local.get $x) (i32.const 2)))
              (f32.load
                (i32.add (select (local.get $o) (local.get $e) (i32.and (local.get $x) (i32.const 1)))
                  (i32.shl (i32.shr_u (local.get $x) (i32.const 1)) (i32.const 2)))))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))
            (br $next_s)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $next_y))))

  ;; Plane k of colour c: planes are laid out colour 0's eleven, then colour 1's (see "sor").
  (func $plane (param $base i32) (param $c i32) (param $k i32) (param $bytes i32) (result i32)
    (i32.add (local.get $base) (i32.mul (i32.add (i32.mul (local.get $c) (i32.const 11)) (local.get $k)) (local.get $bytes))))

  ;; A zero at index x >> 1 of row y of the plane of pixel (x, y)'s colour among (p0, p1).
  (func $zero_at (param $p0 i32) (param $p1 i32) (param $x i32) (param $y i32) (param $S i32)
    (f32.store
      (i32.add (select (local.get $p1) (local.get $p0) (i32.and (i32.add (local.get $x) (local.get $y)) (i32.const 1)))
        (i32.shl (i32.add (i32.mul (i32.add (local.get $y) (i32.const 1)) (local.get $S)) (i32.add (i32.shr_u (local.get $x) (i32.const 1)) (i32.const 1))) (i32.const 2)))
      (f32.const 0)))

  ;; One half-sweep: every pixel of colour $c, four at a time along its plane rows. Own planes:
  ;; du dv ru rv i11 i22 a12 and the edge weights cl cr cu cd (0 where a neighbour is missing);
  ;; the other colour's du, dv at $du_o, $dv_o. In row y the pixel at index j has its left and
  ;; right neighbours at j − 1 + par and j + par of the other colour's row (par = (y + c) & 1), its
  ;; upper and lower ones at j of the rows above and below. Lanes past a row's end and the pads
  ;; have zero coefficients and stay zero.
  (func $sweep
    (param $c i32) (param $w i32) (param $h i32) (param $S i32) (param $keep v128) (param $base i32) (param $bytes i32)
    (local $y i32) (local $j i32) (local $n i32) (local $par i32) (local $b i32) (local $row i32) (local $L i32) (local $R i32) (local $sb i32)
    (local $du i32) (local $dv i32) (local $ru i32) (local $rv i32) (local $i11 i32) (local $i22 i32) (local $a12 i32)
    (local $cl i32) (local $cr i32) (local $cu i32) (local $cd i32) (local $duo i32) (local $dvo i32)
    (local $CL v128) (local $CR v128) (local $CU v128) (local $CD v128) (local $SU v128) (local $SV v128)
    (local $A v128) (local $U v128) (local $V v128) (local $q i32)
    (local.set $du (call $plane (local.get $base) (local.get $c) (i32.const 0) (local.get $bytes)))
    (local.set $dv (call $plane (local.get $base) (local.get $c) (i32.const 1) (local.get $bytes)))
    (local.set $ru (call $plane (local.get $base) (local.get $c) (i32.const 2) (local.get $bytes)))
    (local.set $rv (call $plane (local.get $base) (local.get $c) (i32.const 3) (local.get $bytes)))
    (local.set $i11 (call $plane (local.get $base) (local.get $c) (i32.const 4) (local.get $bytes)))
    (local.set $i22 (call $plane (local.get $base) (local.get $c) (i32.const 5) (local.get $bytes)))
    (local.set $a12 (call $plane (local.get $base) (local.get $c) (i32.const 6) (local.get $bytes)))
    (local.set $cl (call $plane (local.get $base) (local.get $c) (i32.const 7) (local.get $bytes)))
    (local.set $cr (call $plane (local.get $base) (local.get $c) (i32.const 8) (local.get $bytes)))
    (local.set $cu (call $plane (local.get $base) (local.get $c) (i32.const 9) (local.get $bytes)))
    (local.set $cd (call $plane (local.get $base) (local.get $c) (i32.const 10) (local.get $bytes)))
    (local.set $duo (call $plane (local.get $base) (i32.sub (i32.const 1) (local.get $c)) (i32.const 0) (local.get $bytes)))
    (local.set $dvo (call $plane (local.get $base) (i32.sub (i32.const 1) (local.get $c)) (i32.const 1) (local.get $bytes)))
    (local.set $sb (i32.shl (local.get $S) (i32.const 2)))
    (block $done_y
      (loop $next_y
        (br_if $done_y (i32.ge_s (local.get $y) (local.get $h)))
        (local.set $par (i32.and (i32.add (local.get $y) (local.get $c)) (i32.const 1)))
        ;; pixels of this colour in the row: x = par, par + 2, … < w
        (local.set $n (i32.shl (i32.shr_u (i32.add (i32.sub (local.get $w) (local.get $par)) (i32.const 1)) (i32.const 1)) (i32.const 2)))
        (local.set $row (i32.shl (i32.add (i32.mul (i32.add (local.get $y) (i32.const 1)) (local.get $S)) (i32.const 1)) (i32.const 2)))
        (local.set $L (i32.shl (i32.sub (local.get $par) (i32.const 1)) (i32.const 2)))
        (local.set $R (i32.shl (local.get $par) (i32.const 2)))
        (local.set $j (i32.const 0))
        (block $done_j
          (loop $next_j
            (br_if $done_j (i32.ge_s (local.get $j) (local.get $n)))
            (local.set $b (i32.add (local.get $row) (local.get $j)))
            (local.set $CL (v128.load (i32.add (local.get $cl) (local.get $b))))
            (local.set $CR (v128.load (i32.add (local.get $cr) (local.get $b))))
            (local.set $CU (v128.load (i32.add (local.get $cu) (local.get $b))))
            (local.set $CD (v128.load (i32.add (local.get $cd) (local.get $b))))
            (local.set $q (i32.add (local.get $duo) (local.get $b)))
            (local.set $SU
              (f32x4.add
                (f32x4.add (v128.load (i32.add (local.get $ru) (local.get $b)))
                  (f32x4.add
                    (f32x4.mul (local.get $CL) (v128.load (i32.add (local.get $q) (local.get $L))))
                    (f32x4.mul (local.get $CR) (v128.load (i32.add (local.get $q) (local.get $R))))))
                (f32x4.add
                  (f32x4.mul (local.get $CU) (v128.load (i32.sub (local.get $q) (local.get $sb))))
                  (f32x4.mul (local.get $CD) (v128.load (i32.add (local.get $q) (local.get $sb)))))))
            (local.set $q (i32.add (local.get $dvo) (local.get $b)))
            (local.set $SV
              (f32x4.add
                (f32x4.add (v128.load (i32.add (local.get $rv) (local.get $b)))
                  (f32x4.add
                    (f32x4.mul (local.get $CL) (v128.load (i32.add (local.get $q) (local.get $L))))
                    (f32x4.mul (local.get $CR) (v128.load (i32.add (local.get $q) (local.get $R))))))
                (f32x4.add
                  (f32x4.mul (local.get $CU) (v128.load (i32.sub (local.get $q) (local.get $sb))))
                  (f32x4.mul (local.get $CD) (v128.load (i32.add (local.get $q) (local.get $sb)))))))
            (local.set $A (v128.load (i32.add (local.get $a12) (local.get $b))))
            (local.set $V (v128.load (i32.add (local.get $dv) (local.get $b))))
            (local.set $U
              (f32x4.add (f32x4.mul (local.get $keep) (v128.load (i32.add (local.get $du) (local.get $b))))
                (f32x4.mul (f32x4.sub (local.get $SU) (f32x4.mul (local.get $A) (local.get $V)))
                  (v128.load (i32.add (local.get $i11) (local.get $b))))))
            (v128.store (i32.add (local.get $du) (local.get $b)) (local.get $U))
            (v128.store (i32.add (local.get $dv) (local.get $b))
              (f32x4.add (f32x4.mul (local.get $keep) (local.get $V))
                (f32x4.mul (f32x4.sub (local.get $SV) (f32x4.mul (local.get $A) (local.get $U)))
                  (v128.load (i32.add (local.get $i22) (local.get $b))))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $next_j)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $next_y))))

  ;; $iterations red-black sweeps over a w × h field. $du is the first of seven fields du dv ru rv
  ;; i11 i22 a12, $stride bytes apart. They and the edge weights from $sm are split by colour into
  ;; planes at $planes (22 planes of (h + 2) × S floats, S ≥ ceil(w / 2) + 5, zero-initialized by
  ;; the caller and only ever written where a pixel lands), swept, and du, dv merged back.
  (func (export "sor")
    (param $w i32) (param $h i32) (param $iterations i32) (param $omega f32)
    (param $du i32) (param $stride i32) (param $sm i32) (param $planes i32) (param $S i32)
    (local $it i32) (local $bytes i32) (local $keep v128) (local $k i32) (local $src i32) (local $x i32) (local $y i32)
    (local.set $keep (f32x4.splat (f32.sub (f32.const 1) (local.get $omega))))
    (local.set $bytes (i32.shl (i32.mul (i32.add (local.get $h) (i32.const 2)) (local.get $S)) (i32.const 2)))
    ;; du dv ru rv i11 i22 a12, then the edge weights: left sm[o − 1], right sm[o], up sm[o − w], down sm[o]
    (loop $each
      (local.set $src
        (if (result i32) (i32.lt_s (local.get $k) (i32.const 7))
          (then
            (i32.add (local.get $du) (i32.mul (local.get $k) (local.get $stride))))
          (else
            (i32.sub (local.get $sm)
              (select (i32.const 4)
                (select (i32.shl (local.get $w) (i32.const 2)) (i32.const 0) (i32.eq (local.get $k) (i32.const 9)))
                (i32.eq (local.get $k) (i32.const 7)))))))
      (call $split (local.get $src) (local.get $w) (local.get $h)
        (call $plane (local.get $planes) (i32.const 0) (local.get $k) (local.get $bytes))
        (call $plane (local.get $planes) (i32.const 1) (local.get $k) (local.get $bytes))
        (local.get $S))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $each (i32.lt_s (local.get $k) (i32.const 11))))
    ;; No neighbour past the edges: weight 0.
    (local.set $y (i32.const 0))
    (loop $rows
      (call $zero_at
        (call $plane (local.get $planes) (i32.const 0) (i32.const 7) (local.get $bytes))
        (call $plane (local.get $planes) (i32.const 1) (i32.const 7) (local.get $bytes))
        (i32.const 0) (local.get $y) (local.get $S))
      (call $zero_at
        (call $plane (local.get $planes) (i32.const 0) (i32.const 8) (local.get $bytes))
        (call $plane (local.get $planes) (i32.const 1) (i32.const 8) (local.get $bytes))
        (i32.sub (local.get $w) (i32.const 1)) (local.get $y) (local.get $S))
      (local.set $y (i32.add (local.get $y) (i32.const 1)))
      (br_if $rows (i32.lt_s (local.get $y) (local.get $h))))
    (local.set $x (i32.const 0))
    (loop $cols
      (call $zero_at
        (call $plane (local.get $planes) (i32.const 0) (i32.const 9) (local.get $bytes))
        (call $plane (local.get $planes) (i32.const 1) (i32.const 9) (local.get $bytes))
        (local.get $x) (i32.const 0) (local.get $S))
      (call $zero_at
        (call $plane (local.get $planes) (i32.const 0) (i32.const 10) (local.get $bytes))
        (call $plane (local.get $planes) (i32.const 1) (i32.const 10) (local.get $bytes))
        (local.get $x) (i32.sub (local.get $h) (i32.const 1)) (local.get $S))
      (local.set $x (i32.add (local.get $x) (i32.const 1)))
      (br_if $cols (i32.lt_s (local.get $x) (local.get $w))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $it) (local.get $iterations)))
        (call $sweep (i32.const 0) (local.get $w) (local.get $h) (local.get $S) (local.get $keep) (local.get $planes) (local.get $bytes))
        (call $sweep (i32.const 1) (local.get $w) (local.get $h) (local.get $S) (local.get $keep) (local.get $planes) (local.get $bytes))
        (local.set $it (i32.add (local.get $it) (i32.const 1)))
        (br $next)))
    (call $merge (local.get $du) (local.get $w) (local.get $h)
      (call $plane (local.get $planes) (i32.const 0) (i32.const 0) (local.get $bytes))
      (call $plane (local.get $planes) (i32.const 1) (i32.const 0) (local.get $bytes))
      (local.get $S))
    (call $merge (i32.add (local.get $du) (local.get $stride)) (local.get $w) (local.get $h)
      (call $plane (local.get $planes) (i32.const 0) (i32.const 1) (local.get $bytes))
      (call $plane (local.get $planes) (i32.const 1) (i32.const 1) (local.get $bytes))
      (local.get $S)))

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

;; Motion-adaptive EMA over n samples, sixteen at a time (WebAssembly SIMD, i16x8 lanes).
;; acc holds value × 128 (i16); src and dst are bytes; w0 and k are Q15 weights. Per sample:
;;   d = (x << 7) − e;  m = min(|d| >> 7, t);  w = sat(w0 + k·m)
;;   v = e + q15(w, d)  (q15(a, b) = sat((a·b + 2^14) >> 15));  acc = v;  dst = sat_u8((v + 64) >> 7)
;; The TypeScript fallback in ema.ts computes exactly the same integers.
(module
  (memory (export "memory") 1)

  ;; One half: eight samples (already widened to i16) against eight accumulators at $a.
  (func $half (param $a i32) (param $x v128) (param $W0 v128) (param $K v128) (param $T v128) (result v128)
    (local $e v128) (local $d v128) (local $v v128)
    (local.set $e (v128.load (local.get $a)))
    (local.set $d (i16x8.sub (i16x8.shl (local.get $x) (i32.const 7)) (local.get $e)))
    (local.set $v
      (i16x8.add (local.get $e)
        (i16x8.q15mulr_sat_s
          (i16x8.add_sat_s (local.get $W0)
            (i16x8.mul (local.get $K)
              (i16x8.min_s (i16x8.shr_s (i16x8.abs (local.get $d)) (i32.const 7)) (local.get $T))))
          (local.get $d))))
    (v128.store (local.get $a) (local.get $v))
    (i16x8.shr_s (i16x8.add (local.get $v) (v128.const i16x8 64 64 64 64 64 64 64 64)) (i32.const 7)))

  (func (export "ema")
    (param $src i32) (param $dst i32) (param $acc i32) (param $n i32)
    (param $w0 i32) (param $k i32) (param $t i32)
    (local $i i32) (local $a i32) (local $x v128)
    (local $W0 v128) (local $K v128) (local $T v128)
    (local.set $W0 (i16x8.splat (local.get $w0)))
    (local.set $K (i16x8.splat (local.get $k)))
    (local.set $T (i16x8.splat (local.get $t)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $i) (i32.const 1))))
        (local.set $x (v128.load (i32.add (local.get $src) (local.get $i))))
        (v128.store (i32.add (local.get $dst) (local.get $i))
          (i8x16.narrow_i16x8_u
            (call $half (local.get $a) (i16x8.extend_low_i8x16_u (local.get $x))
              (local.get $W0) (local.get $K) (local.get $T))
            (call $half (i32.add (local.get $a) (i32.const 16)) (i16x8.extend_high_i8x16_u (local.get $x))
              (local.get $W0) (local.get $K) (local.get $T))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $loop)))))

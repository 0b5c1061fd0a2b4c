;; Motion-adaptive EMA over n samples, four at a time (WebAssembly SIMD, i32x4).
;; acc holds value × 256 (i32); src and dst are bytes. Per sample, with m = min(|d| >> 8, t):
;;   d = (x << 8) − e;  w = w0 + ((k · m) >> 8);  v = e + ((w · d) >> 8);  acc = v;  dst = (v + 128) >> 8
;; The TypeScript fallback in ema.ts computes exactly the same integers.
(module
  (memory (export "memory") 1)
  (func (export "ema")
    (param $src i32) (param $dst i32) (param $acc i32) (param $n i32)
    (param $w0 i32) (param $k i32) (param $t i32)
    (local $i i32) (local $a i32)
    (local $e v128) (local $d v128) (local $m v128) (local $w v128) (local $v v128)
    (local $W0 v128) (local $K v128) (local $T v128) (local $R v128) (local $Z v128)
    (local.set $W0 (i32x4.splat (local.get $w0)))
    (local.set $K (i32x4.splat (local.get $k)))
    (local.set $T (i32x4.splat (local.get $t)))
    (local.set $R (i32x4.splat (i32.const 128)))
    (local.set $Z (i32x4.splat (i32.const 0)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $e (v128.load (local.get $a)))
        (local.set $d
          (i32x4.sub
            (i32x4.shl
              (i32x4.extend_low_i16x8_u
                (i16x8.extend_low_i8x16_u (v128.load32_zero (i32.add (local.get $src) (local.get $i)))))
              (i32.const 8))
            (local.get $e)))
        (local.set $m (i32x4.min_s (i32x4.shr_s (i32x4.abs (local.get $d)) (i32.const 8)) (local.get $T)))
        (local.set $w (i32x4.add (local.get $W0) (i32x4.shr_s (i32x4.mul (local.get $K) (local.get $m)) (i32.const 8))))
        (local.set $v (i32x4.add (local.get $e) (i32x4.shr_s (i32x4.mul (local.get $w) (local.get $d)) (i32.const 8))))
        (v128.store (local.get $a) (local.get $v))
        (v128.store32_lane 0
          (i32.add (local.get $dst) (local.get $i))
          (i8x16.narrow_i16x8_u
            (i16x8.narrow_i32x4_s (i32x4.shr_s (i32x4.add (local.get $v) (local.get $R)) (i32.const 8)) (local.get $Z))
            (local.get $Z)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $loop)))))

;; The pencil's per-pixel blend: out = table[(gray << 8) | blurred], times paper / 256 when a
;; paper texture is given. A 65 536-entry table lookup per pixel is a gather, which WebAssembly
;; SIMD has no instruction for, so this is a plain loop, four pixels a step; the TypeScript
;; fallback in dodge.ts computes the same bytes.
;; Memory: table (65 536 bytes) at 0; the caller places the rows (tight, `width` bytes apart).
(module
  (memory (export "memory") 1)

  ;; $n pixels from $s (gray) and $b (blurred inverted gray) into $out, no paper.
  (func (export "dodge") (param $s i32) (param $b i32) (param $out i32) (param $n i32)
    (local $i i32) (local $end4 i32)
    (local.set $end4 (i32.and (local.get $n) (i32.const -4)))
    (block $done4
      (loop $four
        (br_if $done4 (i32.ge_u (local.get $i) (local.get $end4)))
        (i32.store8 (i32.add (local.get $out) (local.get $i))
          (i32.load8_u (i32.or (i32.shl (i32.load8_u (i32.add (local.get $s) (local.get $i))) (i32.const 8))
                               (i32.load8_u (i32.add (local.get $b) (local.get $i))))))
        (i32.store8 offset=1 (i32.add (local.get $out) (local.get $i))
          (i32.load8_u (i32.or (i32.shl (i32.load8_u offset=1 (i32.add (local.get $s) (local.get $i))) (i32.const 8))
                               (i32.load8_u offset=1 (i32.add (local.get $b) (local.get $i))))))
        (i32.store8 offset=2 (i32.add (local.get $out) (local.get $i))
          (i32.load8_u (i32.or (i32.shl (i32.load8_u offset=2 (i32.add (local.get $s) (local.get $i))) (i32.const 8))
                               (i32.load8_u offset=2 (i32.add (local.get $b) (local.get $i))))))
        (i32.store8 offset=3 (i32.add (local.get $out) (local.get $i))
          (i32.load8_u (i32.or (i32.shl (i32.load8_u offset=3 (i32.add (local.get $s) (local.get $i))) (i32.const 8))
                               (i32.load8_u offset=3 (i32.add (local.get $b) (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $four)))
    (block $done
      (loop $one
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store8 (i32.add (local.get $out) (local.get $i))
          (i32.load8_u (i32.or (i32.shl (i32.load8_u (i32.add (local.get $s) (local.get $i))) (i32.const 8))
                               (i32.load8_u (i32.add (local.get $b) (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $one))))

  ;; The same times paper[i] / 256 ($paper: u16 per pixel).
  (func (export "dodgePaper") (param $s i32) (param $b i32) (param $paper i32) (param $out i32) (param $n i32)
    (local $i i32) (local $end4 i32)
    (local.set $end4 (i32.and (local.get $n) (i32.const -4)))
    (block $done4
      (loop $four
        (br_if $done4 (i32.ge_u (local.get $i) (local.get $end4)))
        (i32.store8 (i32.add (local.get $out) (local.get $i))
          (i32.shr_u
            (i32.mul
              (i32.load8_u (i32.or (i32.shl (i32.load8_u (i32.add (local.get $s) (local.get $i))) (i32.const 8))
                                   (i32.load8_u (i32.add (local.get $b) (local.get $i)))))
              (i32.load16_u (i32.add (local.get $paper) (i32.shl (local.get $i) (i32.const 1)))))
            (i32.const 8)))
        (i32.store8 offset=1 (i32.add (local.get $out) (local.get $i))
          (i32.shr_u
            (i32.mul
              (i32.load8_u (i32.or (i32.shl (i32.load8_u offset=1 (i32.add (local.get $s) (local.get $i))) (i32.const 8))
                                   (i32.load8_u offset=1 (i32.add (local.get $b) (local.get $i)))))
              (i32.load16_u offset=2 (i32.add (local.get $paper) (i32.shl (local.get $i) (i32.const 1)))))
            (i32.const 8)))
        (i32.store8 offset=2 (i32.add (local.get $out) (local.get $i))
          (i32.shr_u
            (i32.mul
              (i32.load8_u (i32.or (i32.shl (i32.load8_u offset=2 (i32.add (local.get $s) (local.get $i))) (i32.const 8))
                                   (i32.load8_u offset=2 (i32.add (local.get $b) (local.get $i)))))
              (i32.load16_u offset=4 (i32.add (local.get $paper) (i32.shl (local.get $i) (i32.const 1)))))
            (i32.const 8)))
        (i32.store8 offset=3 (i32.add (local.get $out) (local.get $i))
          (i32.shr_u
            (i32.mul
              (i32.load8_u (i32.or (i32.shl (i32.load8_u offset=3 (i32.add (local.get $s) (local.get $i))) (i32.const 8))
                                   (i32.load8_u offset=3 (i32.add (local.get $b) (local.get $i)))))
              (i32.load16_u offset=6 (i32.add (local.get $paper) (i32.shl (local.get $i) (i32.const 1)))))
            (i32.const 8)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $four)))
    (block $done
      (loop $one
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store8 (i32.add (local.get $out) (local.get $i))
          (i32.shr_u
            (i32.mul
              (i32.load8_u (i32.or (i32.shl (i32.load8_u (i32.add (local.get $s) (local.get $i))) (i32.const 8))
                                   (i32.load8_u (i32.add (local.get $b) (local.get $i)))))
              (i32.load16_u (i32.add (local.get $paper) (i32.shl (local.get $i) (i32.const 1)))))
            (i32.const 8)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $one)))))

;; SSIM over 8×8 box windows on a 4-pixel grid (the algorithm of x264 and FFmpeg's `ssim` filter),
;; WebAssembly SIMD. Two 8-bit luma images a and b share a stride; bw × bh is the number of whole
;; 4×4 blocks. For each block row the kernel sums, per block, s1 = Σa, s2 = Σb, ss = Σa² + Σb²,
;; s12 = Σab (four blocks per 16 bytes), then scores every window of 2×2 blocks between this block
;; row and the previous one:
;;   vars = 64·ss − s1² − s2²;  covar = 64·s12 − s1·s2
;;   ssim = (2·s1·s2 + c1)(2·covar + c2) / ((s1² + s2² + c1)(vars + c2)),  c1 = 416, c2 = 235964
;; and returns the sum over all (bw − 1)(bh − 1) windows. The caller divides by that count.
;; The TypeScript fallback in ssim-box.ts computes the same sums.
;; sums: two block-row buffers, each four i32 arrays (s1, s2, ss, s12) of n4 entries.
;; The memory is imported and shared, so several threads can score parts of one image in it.
(module
  (import "env" "memory" (memory 1 4096 shared))

  ;; Block sums of block row $by into the buffer at $out (four arrays of $n4 i32).
  (func $blocks
    (param $a i32) (param $b i32) (param $stride i32) (param $bw i32) (param $out i32) (param $n4 i32)
    (local $j i32) (local $r i32) (local $p i32) (local $o i32)
    (local $va v128) (local $vb v128) (local $al v128) (local $ah v128) (local $bl v128) (local $bh v128)
    (local $s1 v128) (local $s2 v128) (local $ssl v128) (local $ssh v128) (local $abl v128) (local $abh v128)
    (block $done
      (loop $chunk
        (br_if $done (i32.ge_u (i32.shl (local.get $j) (i32.const 2)) (local.get $bw)))
        (local.set $s1 (v128.const i32x4 0 0 0 0))
        (local.set $s2 (v128.const i32x4 0 0 0 0))
        (local.set $ssl (v128.const i32x4 0 0 0 0))
        (local.set $ssh (v128.const i32x4 0 0 0 0))
        (local.set $abl (v128.const i32x4 0 0 0 0))
        (local.set $abh (v128.const i32x4 0 0 0 0))
        (local.set $r (i32.const 0))
        (local.set $p (i32.shl (local.get $j) (i32.const 4)))
        (loop $row
          (local.set $va (v128.load (i32.add (local.get $a) (local.get $p))))
          (local.set $vb (v128.load (i32.add (local.get $b) (local.get $p))))
          ;; Pair sums in 16 bits (at most 4 × 510): widened to block sums after the four rows.
          (local.set $s1 (i16x8.add (local.get $s1) (i16x8.extadd_pairwise_i8x16_u (local.get $va))))
          (local.set $s2 (i16x8.add (local.get $s2) (i16x8.extadd_pairwise_i8x16_u (local.get $vb))))
          (local.set $al (i16x8.extend_low_i8x16_u (local.get $va)))
          (local.set $ah (i16x8.extend_high_i8x16_u (local.get $va)))
          (local.set $bl (i16x8.extend_low_i8x16_u (local.get $vb)))
          (local.set $bh (i16x8.extend_high_i8x16_u (local.get $vb)))
          ;; Pair sums (pixels 0+1, 2+3, …): combined into block sums after the four rows.
          (local.set $ssl (i32x4.add (local.get $ssl)
            (i32x4.add (i32x4.dot_i16x8_s (local.get $al) (local.get $al))
                       (i32x4.dot_i16x8_s (local.get $bl) (local.get $bl)))))
          (local.set $ssh (i32x4.add (local.get $ssh)
            (i32x4.add (i32x4.dot_i16x8_s (local.get $ah) (local.get $ah))
                       (i32x4.dot_i16x8_s (local.get $bh) (local.get $bh)))))
          (local.set $abl (i32x4.add (local.get $abl) (i32x4.dot_i16x8_s (local.get $al) (local.get $bl))))
          (local.set $abh (i32x4.add (local.get $abh) (i32x4.dot_i16x8_s (local.get $ah) (local.get $bh))))
          (local.set $p (i32.add (local.get $p) (local.get $stride)))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br_if $row (i32.lt_u (local.get $r) (i32.const 4))))
        (local.set $o (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 4))))
        (v128.store (local.get $o) (i32x4.extadd_pairwise_i16x8_u (local.get $s1)))
        (v128.store (i32.add (local.get $o) (i32.shl (local.get $n4) (i32.const 2)))
          (i32x4.extadd_pairwise_i16x8_u (local.get $s2)))
        (v128.store (i32.add (local.get $o) (i32.shl (local.get $n4) (i32.const 3)))
          (i32x4.add
            (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $ssl) (local.get $ssh))
            (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $ssl) (local.get $ssh))))
        (v128.store (i32.add (local.get $o) (i32.mul (local.get $n4) (i32.const 12)))
          (i32x4.add
            (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $abl) (local.get $abh))
            (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $abl) (local.get $abh))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $chunk))))

  ;; Sum of the SSIM of the windows between block rows $prev and $cur ($nw windows).
  (func $row (param $prev i32) (param $cur i32) (param $nw i32) (param $n4 i32) (result f64)
    (local $x i32) (local $o i32) (local $off i32)
    (local $s1 v128) (local $s2 v128) (local $ss v128) (local $s12 v128)
    (local $q v128) (local $sq v128) (local $vars v128) (local $covar v128) (local $num v128) (local $den v128)
    (local $acc v128) (local $lane v128)
    (local.set $off (i32.shl (local.get $n4) (i32.const 2)))
    (local.set $lane (v128.const i32x4 0 1 2 3))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_s (local.get $x) (local.get $nw)))
        (local.set $o (i32.shl (local.get $x) (i32.const 2)))
        (local.set $s1 (i32x4.add
          (i32x4.add (v128.load (i32.add (local.get $prev) (local.get $o))) (v128.load offset=4 (i32.add (local.get $prev) (local.get $o))))
          (i32x4.add (v128.load (i32.add (local.get $cur) (local.get $o))) (v128.load offset=4 (i32.add (local.get $cur) (local.get $o))))))
        (local.set $o (i32.add (local.get $o) (local.get $off)))
        (local.set $s2 (i32x4.add
          (i32x4.add (v128.load (i32.add (local.get $prev) (local.get $o))) (v128.load offset=4 (i32.add (local.get $prev) (local.get $o))))
          (i32x4.add (v128.load (i32.add (local.get $cur) (local.get $o))) (v128.load offset=4 (i32.add (local.get $cur) (local.get $o))))))
        (local.set $o (i32.add (local.get $o) (local.get $off)))
        (local.set $ss (i32x4.add
          (i32x4.add (v128.load (i32.add (local.get $prev) (local.get $o))) (v128.load offset=4 (i32.add (local.get $prev) (local.get $o))))
          (i32x4.add (v128.load (i32.add (local.get $cur) (local.get $o))) (v128.load offset=4 (i32.add (local.get $cur) (local.get $o))))))
        (local.set $o (i32.add (local.get $o) (local.get $off)))
        (local.set $s12 (i32x4.add
          (i32x4.add (v128.load (i32.add (local.get $prev) (local.get $o))) (v128.load offset=4 (i32.add (local.get $prev) (local.get $o))))
          (i32x4.add (v128.load (i32.add (local.get $cur) (local.get $o))) (v128.load offset=4 (i32.add (local.get $cur) (local.get $o))))))
        (local.set $q (i32x4.mul (local.get $s1) (local.get $s2)))
        (local.set $sq (i32x4.add (i32x4.mul (local.get $s1) (local.get $s1)) (i32x4.mul (local.get $s2) (local.get $s2))))
        (local.set $vars (i32x4.sub (i32x4.shl (local.get $ss) (i32.const 6)) (local.get $sq)))
        (local.set $covar (i32x4.sub (i32x4.shl (local.get $s12) (i32.const 6)) (local.get $q)))
        (local.set $num (f32x4.mul
          (f32x4.convert_i32x4_s (i32x4.add (i32x4.shl (local.get $q) (i32.const 1)) (v128.const i32x4 416 416 416 416)))
          (f32x4.convert_i32x4_s (i32x4.add (i32x4.shl (local.get $covar) (i32.const 1))
            (v128.const i32x4 235964 235964 235964 235964)))))
        (local.set $den (f32x4.mul
          (f32x4.convert_i32x4_s (i32x4.add (local.get $sq) (v128.const i32x4 416 416 416 416)))
          (f32x4.convert_i32x4_s (i32x4.add (local.get $vars) (v128.const i32x4 235964 235964 235964 235964)))))
        ;; Lanes past the last window hold garbage: masked to 0.
        (local.set $acc (f32x4.add (local.get $acc)
          (v128.and (f32x4.div (local.get $num) (local.get $den))
            (i32x4.lt_s (i32x4.add (local.get $lane) (i32x4.splat (local.get $x))) (i32x4.splat (local.get $nw))))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (br $loop)))
    (f64.add
      (f64.add (f64.promote_f32 (f32x4.extract_lane 0 (local.get $acc)))
               (f64.promote_f32 (f32x4.extract_lane 1 (local.get $acc))))
      (f64.add (f64.promote_f32 (f32x4.extract_lane 2 (local.get $acc)))
               (f64.promote_f32 (f32x4.extract_lane 3 (local.get $acc))))))

  ;; Sum of the SSIM of the windows that end in block rows $by0 + 1 … $by1 − 1 (all windows for
  ;; $by0 = 0, $by1 = bh). Block row $by0 is summed but not scored, so threads that each take a
  ;; band of block rows start one row early and score disjoint windows. Block row y's sums go to
  ;; buffer y & 1 of $sums (room for 2 × 4 × $n4 i32). With $first = 0, block row $by0's sums are
  ;; already there (the previous call on the same band ended with it), so a band can be scored in
  ;; slabs as its rows arrive.
  (func (export "ssimBox")
    (param $a i32) (param $b i32) (param $stride i32) (param $bw i32) (param $by0 i32) (param $by1 i32)
    (param $sums i32) (param $n4 i32) (param $first i32) (result f64)
    (local $by i32) (local $cur i32) (local $prev i32) (local $rowBytes i32) (local $total f64)
    (local $half i32) (local $off i32)
    (local.set $half (i32.shl (local.get $n4) (i32.const 4)))
    (local.set $rowBytes (i32.shl (local.get $stride) (i32.const 2)))
    (local.set $by (local.get $by0))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $by) (local.get $by1)))
        (local.set $cur (i32.add (local.get $sums) (i32.mul (i32.and (local.get $by) (i32.const 1)) (local.get $half))))
        (local.set $prev (i32.add (local.get $sums)
          (i32.mul (i32.and (i32.add (local.get $by) (i32.const 1)) (i32.const 1)) (local.get $half))))
        (local.set $off (i32.mul (local.get $by) (local.get $rowBytes)))
        (if (i32.or (local.get $first) (i32.ne (local.get $by) (local.get $by0)))
          (then
            (call $blocks (i32.add (local.get $a) (local.get $off)) (i32.add (local.get $b) (local.get $off))
              (local.get $stride) (local.get $bw) (local.get $cur) (local.get $n4))))
        (if (i32.gt_u (local.get $by) (local.get $by0))
          (then
            (local.set $total (f64.add (local.get $total)
              (call $row (local.get $prev) (local.get $cur) (i32.sub (local.get $bw) (i32.const 1)) (local.get $n4))))))
        (local.set $by (i32.add (local.get $by) (i32.const 1)))
        (br $loop)))
    (local.get $total)))

import { invalidRangeError } from '@framecraft/core';
import { checkFlow, warpSamples } from './warp.ts';
import { maskKernel } from './warp-kernel.ts';

/** The forward flow sampled along the backward one, reused call after call. */
let sampled = new Float32Array(0);

/** Options of {@link consistencyMask}. */
export interface ConsistencyOptions {
  /**
   * Also mark motion boundaries (where the flow's gradient is large against its magnitude) as
   * unreliable: bilinear warps smear across them. On by default.
   */
  readonly motionBoundaries?: boolean;
}

/**
 * Forward–backward consistency (Sundaram, Brox and Keutzer 2010; the check of Ruder et al. 2016):
 * a pixel x of frame t is reliable when following the flow back to frame t−1 and forward again
 * lands where it started, |b(x) + f(x + b(x))|² ≤ 0.01 (|b|² + |f|²) + 0.5. Pixels that fail
 * were hidden in t−1 (disoccluded) or the flow is wrong there.
 *
 * @param backward - Flow from frame t to frame t−1 (width × height interleaved (dx, dy)).
 * @param forward - Flow from frame t−1 to frame t.
 * @param width - Frame width.
 * @param height - Frame height.
 * @param out - width × height bytes to write; a new array by default.
 * @param options - Motion boundaries on or off.
 * @returns 255 where frame t's pixel is reliably seen in frame t−1, 0 where not.
 * @throws {TypeError} When a flow is not a Float32Array.
 * @throws {RangeError} For a size below 1 or a flow or `out` too short.
 */
export function consistencyMask(
  backward: Float32Array,
  forward: Float32Array,
  width: number,
  height: number,
  out?: Uint8Array,
  options: ConsistencyOptions = {},
): Uint8Array {
  if (!Number.isInteger(width) || width < 1) throw invalidRangeError('a width >= 1', 'width', width);
  if (!Number.isInteger(height) || height < 1) throw invalidRangeError('a height >= 1', 'height', height);
  checkFlow(backward, width, height, 'backward');
  checkFlow(forward, width, height, 'forward');
  const n = width * height;
  const mask = out ?? new Uint8Array(n);
  if (mask.length < n) throw invalidRangeError(`at least ${n} bytes`, 'out', `${mask.length} bytes`);
  const boundaries = options.motionBoundaries !== false;
  // In the kernel where there is one (the same mask).
  if (maskKernel(backward, forward, width, height, mask, boundaries)) return mask;
  // The forward flow where each pixel's backward vector lands (bilinear).
  if (sampled.length < 2 * n) sampled = new Float32Array(2 * n);
  warpSamples(forward, 2 * width, width, height, 2, backward, sampled, 2 * width, null);
  const maxX = width - 1;
  const maxY = height - 1;
  for (let y = 0, o = 0; y < height; y++) {
    for (let x = 0; x < width; x++, o++) {
      const bx = backward[2 * o]!;
      const by = backward[2 * o + 1]!;
      const px = x + bx;
      const py = y + by;
      // Landing outside frame t−1: the content was not in it.
      if (!(px >= 0 && px <= maxX && py >= 0 && py <= maxY)) {
        mask[o] = 0;
        continue;
      }
      const fx = sampled[2 * o]!;
      const fy = sampled[2 * o + 1]!;
      const ex = bx + fx;
      const ey = by + fy;
      let ok = ex * ex + ey * ey <= 0.01 * (bx * bx + by * by + fx * fx + fy * fy) + 0.5;
      if (ok && boundaries) {
        const r = x < maxX ? 2 : 0;
        const d = y < maxY ? 2 * width : 0;
        const ux = backward[2 * o + r]! - bx;
        const vx = backward[2 * o + r + 1]! - by;
        const uy = backward[2 * o + d]! - bx;
        const vy = backward[2 * o + d + 1]! - by;
        ok = ux * ux + vx * vx + uy * uy + vy * vy <= 0.01 * (bx * bx + by * by) + 0.002;
      }
      mask[o] = ok ? 255 : 0;
    }
  }
  return mask;
}

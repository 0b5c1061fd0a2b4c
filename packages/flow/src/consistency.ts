import { invalidRangeError } from '@framecraft/core';
import { checkFlow } from './warp.ts';

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
  const maxX = width - 1;
  const maxY = height - 1;
  for (let y = 0, o = 0; y < height; y++) {
    for (let x = 0; x < width; x++, o++) {
      const bx = backward[2 * o]!;
      const by = backward[2 * o + 1]!;
      let px = x + bx;
      let py = y + by;
      // Landing outside frame t−1: the content was not in it.
      if (!(px >= 0 && px <= maxX && py >= 0 && py <= maxY)) {
        mask[o] = 0;
        continue;
      }
      px = px < maxX ? px : maxX;
      py = py < maxY ? py : maxY;
      const x0 = Math.floor(px);
      const y0 = Math.floor(py);
      const ax = px - x0;
      const ay = py - y0;
      const x1 = x0 < maxX ? x0 + 1 : x0;
      const y1 = y0 < maxY ? y0 + 1 : y0;
      const i00 = 2 * (y0 * width + x0);
      const i01 = 2 * (y0 * width + x1);
      const i10 = 2 * (y1 * width + x0);
      const i11 = 2 * (y1 * width + x1);
      const w00 = (1 - ax) * (1 - ay);
      const w01 = ax * (1 - ay);
      const w10 = (1 - ax) * ay;
      const w11 = ax * ay;
      const fx = w00 * forward[i00]! + w01 * forward[i01]! + w10 * forward[i10]! + w11 * forward[i11]!;
      const fy =
        w00 * forward[i00 + 1]! + w01 * forward[i01 + 1]! + w10 * forward[i10 + 1]! + w11 * forward[i11 + 1]!;
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

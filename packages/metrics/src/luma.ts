import { type Frame, invalidRangeError, invalidTypeError } from '@framecraft/core';

/** An 8-bit luma image: the Y plane of a YUV frame, a gray8 frame, or luma computed from RGB. */
export interface LumaView {
  readonly data: Uint8Array;
  readonly stride: number;
  readonly width: number;
  readonly height: number;
}

/**
 * View a frame's luma without copying (gray8 and 8-bit YUV), or compute it from rgb24 with
 * BT.601 weights into `scratch`.
 *
 * @param frame - gray8, yuv420p/422p/444p or rgb24.
 * @param scratch - Reused buffer for rgb24 input (width × height bytes).
 * @returns The luma view.
 * @throws {TypeError} For other formats.
 */
export function lumaOf(frame: Frame, scratch?: Uint8Array): LumaView {
  const f = frame.format;
  if (f === 'gray8' || f === 'yuv420p' || f === 'yuv422p' || f === 'yuv444p') {
    const p = frame.planes[0]!;
    return { data: p.data as Uint8Array, stride: p.stride, width: frame.width, height: frame.height };
  }
  if (f === 'rgb24') {
    const w = frame.width;
    const h = frame.height;
    const out = scratch !== undefined && scratch.length >= w * h ? scratch : new Uint8Array(w * h);
    const p = frame.planes[0]!;
    const s = p.data as Uint8Array;
    for (let y = 0; y < h; y++) {
      let si = y * p.stride;
      let di = y * w;
      for (let x = 0; x < w; x++, si += 3)
        out[di++] = (19595 * s[si]! + 38470 * s[si + 1]! + 7471 * s[si + 2]! + 32768) >> 16;
    }
    return { data: out, stride: w, width: w, height: h };
  }
  throw invalidTypeError('a gray8, 8-bit YUV or rgb24 frame', 'frame.format', f);
}

/**
 * Check that two luma views have the same size.
 *
 * @param a - First view.
 * @param b - Second view.
 * @throws {RangeError} When sizes differ.
 */
export function assertSameSize(a: LumaView, b: LumaView): void {
  if (a.width !== b.width || a.height !== b.height) {
    throw invalidRangeError(`a ${a.width}x${a.height} frame`, 'b', `${b.width}x${b.height}`);
  }
}

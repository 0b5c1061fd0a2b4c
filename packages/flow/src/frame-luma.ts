import { type Frame, invalidTypeError } from '@framecraft/core';
import type { LumaPlane } from './pyramid.ts';

/**
 * The 8-bit luma of a frame for flow: the Y plane of 8-bit YUV or a gray8 plane as it is (no
 * copy), BT.601 luma computed from rgb24 or rgba into `scratch`.
 *
 * @param frame - gray8, yuv420p/422p/444p, rgb24 or rgba.
 * @param scratch - width × height bytes reused for RGB input; allocated when missing or short.
 * @returns The luma plane.
 * @throws {TypeError} For 10-bit and float formats.
 */
export function frameLuma(frame: Frame, scratch?: Uint8Array): LumaPlane {
  const { width: w, height: h, format } = frame;
  const p = frame.planes[0]!;
  if (format === 'gray8' || format === 'yuv420p' || format === 'yuv422p' || format === 'yuv444p')
    return { data: p.data as Uint8Array, width: w, height: h, stride: p.stride };
  if (format !== 'rgb24' && format !== 'rgba')
    throw invalidTypeError('a gray8, 8-bit YUV, rgb24 or rgba frame', 'frame.format', format);
  const c = format === 'rgb24' ? 3 : 4;
  const out = scratch !== undefined && scratch.length >= w * h ? scratch : new Uint8Array(w * h);
  const s = p.data as Uint8Array;
  for (let y = 0; y < h; y++) {
    let si = y * p.stride;
    let di = y * w;
    for (let x = 0; x < w; x++, si += c)
      out[di++] = (19595 * s[si]! + 38470 * s[si + 1]! + 7471 * s[si + 2]! + 32768) >> 16;
  }
  return { data: out, width: w, height: h, stride: w };
}

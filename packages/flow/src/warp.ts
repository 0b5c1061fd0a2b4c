import {
  createFrame,
  type Frame,
  invalidRangeError,
  invalidTypeError,
  type PlaneData,
  pixelFormatInfo,
  planeGeometry,
  withTimingOf,
} from '@framecraft/core';
import { warp8 } from './warp-kernel.ts';

/**
 * Check that a flow field fits a width × height picture.
 *
 * @param flow - Interleaved (dx, dy) floats.
 * @param width - Picture width.
 * @param height - Picture height.
 * @param param - The flow's name in messages.
 */
export function checkFlow(flow: Float32Array, width: number, height: number, param: string): void {
  if (!(flow instanceof Float32Array))
    throw invalidTypeError('a Float32Array of (dx, dy) pairs', param, flow);
  const need = width * height * 2;
  if (flow.length < need)
    throw invalidRangeError(
      `at least ${need} floats (a ${width}x${height} flow)`,
      param,
      `${flow.length} floats`,
    );
}

/**
 * Warp one plane backwards along a flow at the plane's own resolution: out(x) = src(x + d(x)),
 * bilinear, edges clamped. Integer samples are rounded and limited to `max`.
 */
export function warpSamples(
  src: PlaneData,
  stride: number,
  w: number,
  h: number,
  comps: number,
  flow: Float32Array,
  dst: PlaneData | Float64Array,
  dstStride: number,
  max: number | null,
): void {
  // 8-bit planes in the kernel (the same results); other sample types here.
  if (
    max === 255 &&
    src instanceof Uint8Array &&
    dst instanceof Uint8Array &&
    warp8(src, stride, w, h, comps, flow, dst, dstStride)
  )
    return;
  const maxX = w - 1;
  const maxY = h - 1;
  for (let y = 0; y < h; y++) {
    let f = 2 * y * w;
    let o = y * dstStride;
    for (let x = 0; x < w; x++, f += 2) {
      let px = x + flow[f]!;
      let py = y + flow[f + 1]!;
      // NaN-safe clamps: a non-finite vector samples the nearest edge, never outside the plane.
      px = px > 0 ? (px < maxX ? px : maxX) : 0;
      py = py > 0 ? (py < maxY ? py : maxY) : 0;
      const x0 = Math.floor(px);
      const y0 = Math.floor(py);
      const ax = px - x0;
      const ay = py - y0;
      const x1 = x0 < maxX ? x0 + 1 : x0;
      const y1 = y0 < maxY ? y0 + 1 : y0;
      const r0 = y0 * stride;
      const r1 = y1 * stride;
      for (let c = 0; c < comps; c++, o++) {
        const a = src[r0 + x0 * comps + c]!;
        const b = src[r0 + x1 * comps + c]!;
        const d = src[r1 + x0 * comps + c]!;
        const e = src[r1 + x1 * comps + c]!;
        const top = a + ax * (b - a);
        const v = top + ay * (d + ax * (e - d) - top);
        dst[o] = max === null ? v : v <= 0 ? 0 : v >= max ? max : (v + 0.5) | 0;
      }
    }
  }
}

/** A flow field at a chroma plane's resolution: each vector the mean over its block, scaled. */
function subsampleFlow(
  flow: Float32Array,
  w: number,
  h: number,
  sx: number,
  sy: number,
  cw: number,
  ch: number,
  out: Float32Array,
): void {
  const bx = 1 << sx;
  const by = 1 << sy;
  for (let cy = 0; cy < ch; cy++) {
    for (let cx = 0; cx < cw; cx++) {
      let dx = 0;
      let dy = 0;
      let n = 0;
      for (let j = 0; j < by; j++) {
        const y = cy * by + j;
        if (y >= h) break;
        for (let i = 0; i < bx; i++) {
          const x = cx * bx + i;
          if (x >= w) break;
          const f = 2 * (y * w + x);
          dx += flow[f]!;
          dy += flow[f + 1]!;
          n++;
        }
      }
      const o = 2 * (cy * cw + cx);
      out[o] = dx / n / bx;
      out[o + 1] = dy / n / by;
    }
  }
}

let chromaScratch = new Float32Array(0);

/**
 * Warp one 8-bit plane backwards along a flow into floats, without rounding: `out(x) =
 * plane(x + flow(x))`, bilinear, edges clamped — for measuring how well a warp lines frames up.
 *
 * @param plane - An 8-bit plane (luma), `stride` samples per row (`width` by default).
 * @param flow - width × height interleaved (dx, dy) floats.
 * @param out - width × height floats, tight rows.
 * @returns `out`.
 * @throws {TypeError} When `flow` is not a Float32Array.
 * @throws {RangeError} When `flow` or `out` is too short.
 */
export function warpPlane(
  plane: {
    readonly data: Uint8Array;
    readonly width: number;
    readonly height: number;
    readonly stride?: number;
  },
  flow: Float32Array,
  out: Float32Array | Float64Array,
): Float32Array | Float64Array {
  const { width: w, height: h } = plane;
  checkFlow(flow, w, h, 'flow');
  if (out.length < w * h) throw invalidRangeError(`at least ${w * h} floats`, 'out', `${out.length} floats`);
  warpSamples(plane.data, plane.stride ?? w, w, h, 1, flow, out, w, null);
  return out;
}

/**
 * Warp a frame backwards along a flow field: `out(x) = frame(x + flow(x))`, bilinear, edges
 * clamped. With the flow from frame t to frame t−1, this moves frame t−1 (or anything drawn on
 * it, such as its stylized version) to where its content is in frame t. Subsampled chroma planes
 * use the mean vector of each block, scaled to their resolution.
 *
 * @param frame - Any Framecraft frame (8- and 10-bit YUV, gray8, rgb24, rgba, rgbf32).
 * @param flow - width × height interleaved (dx, dy) floats, as {@link DisFlow.calc} writes.
 * @param out - A frame of the same size and format to write into; a new one by default.
 * @returns The warped frame, with the input frame's timing.
 * @throws {TypeError} When `flow` is not a Float32Array or `out` differs in format.
 * @throws {RangeError} When `flow` is too short for the frame or `out` differs in size.
 * @example
 * ```ts
 * const back = dis.calc(prepared[t], prepared[t - 1])
 * const aligned = warpFrame(stylized[t - 1], back) // stylized t−1, moved onto frame t
 * ```
 */
export function warpFrame(frame: Frame, flow: Float32Array, out?: Frame): Frame {
  const { width: w, height: h, format } = frame;
  checkFlow(flow, w, h, 'flow');
  const info = pixelFormatInfo(format);
  if (out !== undefined) {
    if (out.format !== format) throw invalidTypeError(`a ${format} frame`, 'out.format', out.format);
    if (out.width !== w || out.height !== h)
      throw invalidRangeError(`a ${w}x${h} frame`, 'out', `${out.width}x${out.height}`);
  }
  const target = out ?? createFrame({ width: w, height: h, format });
  const max = info.sampleType === 'float32' ? null : (1 << info.bitDepth) - 1;
  const geometry = planeGeometry(format, w, h);
  for (let p = 0; p < geometry.length; p++) {
    const g = geometry[p]!;
    const src = frame.planes[p]!;
    const dst = target.planes[p]!;
    let f = flow;
    if (g.width !== w || g.height !== h) {
      const need = g.width * g.height * 2;
      if (chromaScratch.length < need) chromaScratch = new Float32Array(need);
      f = chromaScratch;
      subsampleFlow(flow, w, h, info.chromaShiftX, info.chromaShiftY, g.width, g.height, f);
    }
    warpSamples(src.data, src.stride, g.width, g.height, info.components, f, dst.data, dst.stride, max);
  }
  return withTimingOf(target, frame, true);
}

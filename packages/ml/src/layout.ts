import { createFrame, type Frame, invalidRangeError, invalidTypeError } from '@framecraft/core';

/** How a model wants its image tensor: memory layout, channel order and value range. */
export interface TensorLayout {
  /** `nchw` (planar, the zoo's) or `nhwc` (interleaved). */
  readonly layout: 'nchw' | 'nhwc';
  /** Channel order. */
  readonly channels: 'rgb' | 'bgr';
  /** Values in [0, 255] or [0, 1]. */
  readonly range: 255 | 1;
}

/** The ONNX model zoo's convention for style models: RGB, float32 NCHW, 0–255 (output clipped). */
export const ZOO_LAYOUT: TensorLayout = { layout: 'nchw', channels: 'rgb', range: 255 };

/** A rectangle of a frame, in pixels. */
export interface Region {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

function checkRegion(frame: Frame, r: Region): void {
  if (
    !Number.isInteger(r.x) ||
    !Number.isInteger(r.y) ||
    r.x < 0 ||
    r.y < 0 ||
    r.width < 1 ||
    r.height < 1 ||
    r.x + r.width > frame.width ||
    r.y + r.height > frame.height
  ) {
    throw invalidRangeError(`a region inside ${frame.width}x${frame.height}`, 'region', r);
  }
}

/**
 * Turn an rgb24 frame (or a region of it) into a float32 image tensor in the model's layout.
 *
 * @param frame - rgb24 frame.
 * @param layout - The model's layout.
 * @param region - Part of the frame; the whole frame by default.
 * @param out - Reused output (3 × width × height floats).
 * @returns The tensor data, shape [1, 3, h, w] (nchw) or [1, h, w, 3] (nhwc).
 * @throws {TypeError} For a frame that is not rgb24.
 */
export function frameToTensor(
  frame: Frame,
  layout: TensorLayout = ZOO_LAYOUT,
  region: Region = { x: 0, y: 0, width: frame.width, height: frame.height },
  out?: Float32Array,
): Float32Array {
  if (frame.format !== 'rgb24') throw invalidTypeError('an rgb24 frame', 'frame.format', frame.format);
  checkRegion(frame, region);
  const { width: w, height: h } = region;
  const n = w * h;
  const t = out !== undefined && out.length >= 3 * n ? out : new Float32Array(3 * n);
  const p = frame.planes[0]!;
  const d = p.data as Uint8Array;
  const scale = layout.range === 255 ? 1 : 1 / 255;
  const bgr = layout.channels === 'bgr';
  const c0 = bgr ? 2 : 0;
  const c2 = bgr ? 0 : 2;
  for (let y = 0; y < h; y++) {
    let si = (region.y + y) * p.stride + region.x * 3;
    const row = y * w;
    if (layout.layout === 'nchw') {
      for (let x = 0; x < w; x++, si += 3) {
        t[row + x] = d[si + c0]! * scale;
        t[n + row + x] = d[si + 1]! * scale;
        t[2 * n + row + x] = d[si + c2]! * scale;
      }
    } else {
      for (let x = 0; x < w; x++, si += 3) {
        const o = (row + x) * 3;
        t[o] = d[si + c0]! * scale;
        t[o + 1] = d[si + 1]! * scale;
        t[o + 2] = d[si + c2]! * scale;
      }
    }
  }
  return t;
}

/**
 * Turn a model's float32 image tensor back into rgb24 pixels, rounded and clipped to 0–255.
 *
 * @param data - Tensor data in `layout`, 3 × width × height values.
 * @param width - Tensor width.
 * @param height - Tensor height.
 * @param layout - The model's layout.
 * @param out - rgb24 frame to write into (its size must match); a new one by default.
 * @returns The frame.
 */
export function tensorToFrame(
  data: Float32Array,
  width: number,
  height: number,
  layout: TensorLayout = ZOO_LAYOUT,
  out?: Frame,
): Frame {
  const n = width * height;
  if (data.length < 3 * n) throw invalidRangeError(`at least ${3 * n} values`, 'data.length', data.length);
  const f = out ?? createFrame({ width, height, format: 'rgb24' });
  if (f.format !== 'rgb24' || f.width !== width || f.height !== height)
    throw invalidRangeError(`an rgb24 ${width}x${height} frame`, 'out', `${f.format} ${f.width}x${f.height}`);
  const p = f.planes[0]!;
  const d = p.data as Uint8Array;
  const scale = layout.range === 255 ? 1 : 255;
  const bgr = layout.channels === 'bgr';
  const clip = (v: number): number => {
    const s = Math.round(v * scale);
    return s < 0 ? 0 : s > 255 ? 255 : s;
  };
  for (let y = 0; y < height; y++) {
    let di = y * p.stride;
    const row = y * width;
    for (let x = 0; x < width; x++, di += 3) {
      let r: number;
      let g: number;
      let b: number;
      if (layout.layout === 'nchw') {
        r = data[row + x]!;
        g = data[n + row + x]!;
        b = data[2 * n + row + x]!;
      } else {
        const o = (row + x) * 3;
        r = data[o]!;
        g = data[o + 1]!;
        b = data[o + 2]!;
      }
      d[di] = clip(bgr ? b : r);
      d[di + 1] = clip(g);
      d[di + 2] = clip(bgr ? r : b);
    }
  }
  return f;
}

import { invalidRangeError, invalidTypeError } from '@framecraft/core';

/** Replicated border around each level's image, wide enough for any patch the search may try. */
export const BORDER = 16;

/** One pyramid level of a prepared frame. */
export interface PyramidLevel {
  readonly width: number;
  readonly height: number;
  /** The level's luma, tight rows (`width` samples each), 0–255 as floats. */
  readonly image: Float32Array;
  /** The same image with {@link BORDER} replicated samples on every side. */
  readonly bordered: Float32Array;
  /** Horizontal and vertical derivatives (3×3 Sobel / 8: code values per pixel). */
  readonly gx: Float32Array;
  readonly gy: Float32Array;
}

/** An 8-bit luma plane: a gray8 frame, the Y plane of a YUV frame, or luma made from RGB. */
export interface LumaPlane {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  /** Bytes from one row to the next; `width` by default. */
  readonly stride?: number;
}

/**
 * Check a luma plane's fields and return its stride.
 *
 * @param luma - The plane.
 * @param param - Its name in messages.
 * @returns The stride.
 */
export function checkLuma(luma: LumaPlane, param: string): number {
  if (!(luma.data instanceof Uint8Array))
    throw invalidTypeError('a Uint8Array of luma samples', `${param}.data`, luma.data);
  const { width, height } = luma;
  if (!Number.isInteger(width) || width < 1) throw invalidRangeError('a width >= 1', `${param}.width`, width);
  if (!Number.isInteger(height) || height < 1)
    throw invalidRangeError('a height >= 1', `${param}.height`, height);
  const stride = luma.stride ?? width;
  if (!Number.isInteger(stride) || stride < width)
    throw invalidRangeError(`a stride >= the width (${width})`, `${param}.stride`, stride);
  const need = stride * (height - 1) + width;
  if (luma.data.length < need)
    throw invalidRangeError(
      `at least ${need} samples for a ${width}x${height} plane with stride ${stride}`,
      `${param}.data`,
      `${luma.data.length} samples`,
    );
  return stride;
}

/** Sizes of the levels from `finest` to `coarsest`: level s is the frame shrunk 2^s times (floor). */
export function levelSizes(
  width: number,
  height: number,
  finest: number,
  coarsest: number,
): [number, number][] {
  const sizes: [number, number][] = [];
  let w = Math.floor(width / 2 ** finest);
  let h = Math.floor(height / 2 ** finest);
  for (let s = finest; s <= coarsest; s++) {
    sizes.push([w, h]);
    w = Math.floor(w / 2);
    h = Math.floor(h / 2);
  }
  return sizes;
}

/** Make an empty level of a size. */
export function createLevel(width: number, height: number): PyramidLevel {
  const n = width * height;
  return {
    width,
    height,
    image: new Float32Array(n),
    bordered: new Float32Array((width + 2 * BORDER) * (height + 2 * BORDER)),
    gx: new Float32Array(n),
    gy: new Float32Array(n),
  };
}

/**
 * Shrink a luma plane by an integer factor into `out` (box average of factor × factor blocks;
 * OpenCV's INTER_AREA for whole factors). A factor of 1 copies.
 */
export function shrinkLuma(
  src: Uint8Array,
  stride: number,
  factor: number,
  out: Float32Array,
  w: number,
  h: number,
): void {
  const inv = 1 / (factor * factor);
  if (factor === 4) {
    // The usual factor (the presets' quarter size), unrolled.
    for (let y = 0; y < h; y++) {
      const r0 = 4 * y * stride;
      const r1 = r0 + stride;
      const r2 = r1 + stride;
      const r3 = r2 + stride;
      for (let x = 0, c = 0, o = y * w; x < w; x++, c += 4, o++) {
        const s0 = src[r0 + c]! + src[r0 + c + 1]! + src[r0 + c + 2]! + src[r0 + c + 3]!;
        const s1 = src[r1 + c]! + src[r1 + c + 1]! + src[r1 + c + 2]! + src[r1 + c + 3]!;
        const s2 = src[r2 + c]! + src[r2 + c + 1]! + src[r2 + c + 2]! + src[r2 + c + 3]!;
        const s3 = src[r3 + c]! + src[r3 + c + 1]! + src[r3 + c + 2]! + src[r3 + c + 3]!;
        out[o] = (s0 + s1 + s2 + s3) * inv;
      }
    }
    return;
  }
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      let sum = 0;
      for (let dy = 0; dy < factor; dy++) {
        let i = (y * factor + dy) * stride + x * factor;
        for (let dx = 0; dx < factor; dx++) sum += src[i++]!;
      }
      out[row + x] = sum * inv;
    }
  }
}

/** Halve a level's image into the next one (2×2 box average). */
export function halve(src: Float32Array, sw: number, out: Float32Array, w: number, h: number): void {
  for (let y = 0; y < h; y++) {
    let i = 2 * y * sw;
    let o = y * w;
    for (let x = 0; x < w; x++, i += 2)
      out[o++] = (src[i]! + src[i + 1]! + src[i + sw]! + src[i + sw + 1]!) * 0.25;
  }
}

/** Fill a level's bordered copy and its derivatives from its image. */
export function finishLevel(level: PyramidLevel): void {
  const { width: w, height: h, image, bordered, gx, gy } = level;
  const we = w + 2 * BORDER;
  for (let y = -BORDER; y < h + BORDER; y++) {
    const sy = y < 0 ? 0 : y >= h ? h - 1 : y;
    const srow = sy * w;
    const drow = (y + BORDER) * we + BORDER;
    for (let x = -BORDER; x < 0; x++) bordered[drow + x] = image[srow]!;
    bordered.set(image.subarray(srow, srow + w), drow);
    for (let x = w; x < w + BORDER; x++) bordered[drow + x] = image[srow + w - 1]!;
  }
  // 3×3 Sobel on the bordered copy (replicated edges), divided by 8 so values are per pixel.
  for (let y = 0; y < h; y++) {
    let c = (y + BORDER) * we + BORDER;
    let o = y * w;
    for (let x = 0; x < w; x++, c++, o++) {
      const tl = bordered[c - we - 1]!;
      const t = bordered[c - we]!;
      const tr = bordered[c - we + 1]!;
      const l = bordered[c - 1]!;
      const r = bordered[c + 1]!;
      const bl = bordered[c + we - 1]!;
      const b = bordered[c + we]!;
      const br = bordered[c + we + 1]!;
      gx[o] = (tr - tl + 2 * (r - l) + br - bl) * 0.125;
      gy[o] = (bl - tl + 2 * (b - t) + br - tr) * 0.125;
    }
  }
}

import { assertSameSize, type LumaView } from './luma.ts';

/**
 * Mean squared error between two luma images.
 *
 * @param a - First image.
 * @param b - Second image.
 * @returns Mean of squared differences (0 for identical images).
 * @throws {RangeError} For different sizes.
 */
export function mse(a: LumaView, b: LumaView): number {
  assertSameSize(a, b);
  let sum = 0;
  for (let y = 0; y < a.height; y++) {
    const ai = y * a.stride;
    const bi = y * b.stride;
    for (let x = 0; x < a.width; x++) {
      const d = a.data[ai + x]! - b.data[bi + x]!;
      sum += d * d;
    }
  }
  return sum / (a.width * a.height);
}

/**
 * Peak signal-to-noise ratio of 8-bit images from their MSE.
 *
 * @param meanSquaredError - From {@link mse}.
 * @returns Decibels; `Infinity` for identical images.
 */
export function psnr(meanSquaredError: number): number {
  return meanSquaredError === 0 ? Infinity : 10 * Math.log10((255 * 255) / meanSquaredError);
}

/**
 * Sharpness as the variance of the Laplacian (4-neighbour kernel) over the interior of the image.
 *
 * @param img - Luma image of at least 3×3.
 * @returns Variance; higher is sharper (0 for a flat image).
 */
export function sharpness(img: LumaView): number {
  const { width, height, stride, data } = img;
  if (width < 3 || height < 3) return 0;
  let sum = 0;
  let sumSq = 0;
  for (let y = 1; y < height - 1; y++) {
    const row = y * stride;
    for (let x = 1; x < width - 1; x++) {
      const i = row + x;
      const l = data[i - stride]! + data[i + stride]! + data[i - 1]! + data[i + 1]! - 4 * data[i]!;
      sum += l;
      sumSq += l * l;
    }
  }
  const n = (width - 2) * (height - 2);
  const mean = sum / n;
  return sumSq / n - mean * mean;
}

/**
 * Mean luma of an image (0–255).
 *
 * @param img - Luma image.
 * @returns The mean.
 */
export function meanLuma(img: LumaView): number {
  let sum = 0;
  for (let y = 0; y < img.height; y++) {
    const row = y * img.stride;
    for (let x = 0; x < img.width; x++) sum += img.data[row + x]!;
  }
  return sum / (img.width * img.height);
}

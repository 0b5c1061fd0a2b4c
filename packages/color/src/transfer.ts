// The sRGB transfer function (IEC 61966-2-1), exact piecewise form, with 8-bit lookup tables.

/**
 * Convert one sRGB-encoded value to linear light.
 *
 * @param v - Encoded value in [0, 1].
 * @returns Linear value in [0, 1].
 */
export function srgbToLinear(v: number): number {
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

/**
 * Convert one linear-light value to sRGB encoding.
 *
 * @param v - Linear value in [0, 1].
 * @returns Encoded value in [0, 1].
 */
export function linearToSrgb(v: number): number {
  return v <= 0.0031308 ? v * 12.92 : 1.055 * v ** (1 / 2.4) - 0.055;
}

/** Linear value of every 8-bit sRGB code, exact to float32. */
export const SRGB8_TO_LINEAR: Float32Array = (() => {
  const t = new Float32Array(256);
  for (let i = 0; i < 256; i++) t[i] = srgbToLinear(i / 255);
  return t;
})();

const ENCODE_STEPS = 4096;
/** sRGB code for linear values sampled at 4097 points; {@link linearToSrgb8} interpolates between them. */
const LINEAR_TO_SRGB_TABLE: Float32Array = (() => {
  const t = new Float32Array(ENCODE_STEPS + 1);
  for (let i = 0; i <= ENCODE_STEPS; i++) t[i] = linearToSrgb(i / ENCODE_STEPS) * 255;
  return t;
})();

/**
 * Encode a linear value to an 8-bit sRGB code through a table (±0.5 code of the exact result).
 *
 * @param v - Linear value; clamped to [0, 1].
 * @returns Code in 0–255.
 */
export function linearToSrgb8(v: number): number {
  if (!(v > 0)) return 0;
  if (v >= 1) return 255;
  // The curve is steep near black, where the exact function is cheap enough.
  if (v < 0.0031308) return Math.round(v * 12.92 * 255);
  const x = v * ENCODE_STEPS;
  const i = x | 0;
  const f = x - i;
  return Math.round(LINEAR_TO_SRGB_TABLE[i]! + (LINEAR_TO_SRGB_TABLE[i + 1]! - LINEAR_TO_SRGB_TABLE[i]!) * f);
}

/**
 * Convert 8-bit sRGB codes to linear floats.
 *
 * @param src - Codes (any layout; converted element by element).
 * @param out - Destination of the same length, reused to avoid allocation.
 * @returns `out`, or a new array.
 */
export function srgb8ToLinearArray(
  src: Uint8Array,
  out: Float32Array = new Float32Array(src.length),
): Float32Array {
  for (let i = 0; i < src.length; i++) out[i] = SRGB8_TO_LINEAR[src[i]!]!;
  return out;
}

/**
 * Convert linear floats to 8-bit sRGB codes.
 *
 * @param src - Linear values (clamped to [0, 1]).
 * @param out - Destination of the same length, reused to avoid allocation.
 * @returns `out`, or a new array.
 */
export function linearToSrgb8Array(
  src: Float32Array,
  out: Uint8Array = new Uint8Array(src.length),
): Uint8Array {
  for (let i = 0; i < src.length; i++) out[i] = linearToSrgb8(src[i]!);
  return out;
}

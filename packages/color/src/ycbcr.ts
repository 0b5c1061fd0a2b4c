import {
  type ColorMatrix,
  type ColorRange,
  createFrame,
  type Frame,
  invalidRangeError,
  invalidTypeError,
  withTimingOf,
} from '@framecraft/core';

/** The Y'CbCr standards Framecraft converts. */
export type YcbcrStandard = 'bt601' | 'bt709' | 'bt2020';

/** Luma weights of red and blue (green is 1 − kr − kb). */
export interface LumaWeights {
  readonly kr: number;
  readonly kb: number;
}

/** Kr and Kb of each standard (ITU-R BT.601, BT.709, BT.2020 non-constant luminance). */
export const LUMA_WEIGHTS: Readonly<Record<YcbcrStandard, LumaWeights>> = {
  bt601: { kr: 0.299, kb: 0.114 },
  bt709: { kr: 0.2126, kb: 0.0722 },
  bt2020: { kr: 0.2627, kb: 0.0593 },
};

/**
 * Map FFmpeg's matrix names to a standard.
 *
 * @param matrix - `bt709`, `bt470bg`, `smpte170m`, `bt2020nc`, … (`unknown` → BT.709 at 720 lines and above, else BT.601).
 * @param height - Picture height, for untagged material.
 * @returns The standard.
 */
export function standardOf(matrix: ColorMatrix, height = 1080): YcbcrStandard {
  if (matrix === 'bt709') return 'bt709';
  if (matrix === 'bt470bg' || matrix === 'smpte170m' || matrix === 'fcc') return 'bt601';
  if (matrix === 'bt2020nc' || matrix === 'bt2020c') return 'bt2020';
  return height >= 720 ? 'bt709' : 'bt601';
}

/** Coefficients of a Y'CbCr ↔ R'G'B' conversion for integer codes of a given bit depth and range. */
export interface YcbcrCoefficients {
  /** Code of black luma (16 · 2^(n−8) for limited range, 0 for full). */
  readonly yOffset: number;
  /** Code of zero chroma (2^(n−1)). */
  readonly cOffset: number;
  /** Luma code span (219 · 2^(n−8) limited, 2^n − 1 full). */
  readonly yRange: number;
  /** Chroma code span (224 · 2^(n−8) limited, 2^n − 1 full). */
  readonly cRange: number;
  /** Largest code, 2^n − 1. */
  readonly max: number;
  readonly kr: number;
  readonly kb: number;
}

/**
 * Compute the coefficients for a standard, range and bit depth.
 *
 * @param standard - BT.601, BT.709 or BT.2020.
 * @param range - `limited` (TV) or `full` (PC); `unknown` means limited.
 * @param bitDepth - 8 or 10 (or any depth up to 16).
 * @returns The coefficients.
 * @throws {RangeError} For a bit depth outside 8–16.
 */
export function ycbcrCoefficients(
  standard: YcbcrStandard,
  range: ColorRange,
  bitDepth = 8,
): YcbcrCoefficients {
  if (!Number.isInteger(bitDepth) || bitDepth < 8 || bitDepth > 16) {
    throw invalidRangeError('an integer bit depth in [8, 16]', 'bitDepth', bitDepth);
  }
  const weights = LUMA_WEIGHTS[standard];
  if (weights === undefined) throw invalidTypeError('bt601, bt709 or bt2020', 'standard', standard);
  const scale = 2 ** (bitDepth - 8);
  const max = 2 ** bitDepth - 1;
  const full = range === 'full';
  return {
    yOffset: full ? 0 : 16 * scale,
    cOffset: 128 * scale,
    yRange: full ? max : 219 * scale,
    cRange: full ? max : 224 * scale,
    max,
    kr: weights.kr,
    kb: weights.kb,
  };
}

/**
 * Convert one Y'CbCr sample to R'G'B' in [0, 1] (not clamped).
 *
 * @param y - Luma code.
 * @param cb - Blue-difference code.
 * @param cr - Red-difference code.
 * @param c - Coefficients from {@link ycbcrCoefficients}.
 * @param out - Three-element destination, reused to avoid allocation.
 * @returns `out` as [R', G', B'].
 */
export function ycbcrToRgb(
  y: number,
  cb: number,
  cr: number,
  c: YcbcrCoefficients,
  out: Float64Array | number[] = [0, 0, 0],
): Float64Array | number[] {
  const yn = (y - c.yOffset) / c.yRange;
  const pb = (cb - c.cOffset) / c.cRange;
  const pr = (cr - c.cOffset) / c.cRange;
  const kg = 1 - c.kr - c.kb;
  const r = yn + 2 * (1 - c.kr) * pr;
  const b = yn + 2 * (1 - c.kb) * pb;
  out[0] = r;
  out[1] = (yn - c.kr * r - c.kb * b) / kg;
  out[2] = b;
  return out;
}

/**
 * Convert one R'G'B' triple in [0, 1] to Y'CbCr codes (rounded and clamped).
 *
 * @param r - Red.
 * @param g - Green.
 * @param b - Blue.
 * @param c - Coefficients from {@link ycbcrCoefficients}.
 * @param out - Three-element destination.
 * @returns `out` as [Y', Cb, Cr].
 */
export function rgbToYcbcr(
  r: number,
  g: number,
  b: number,
  c: YcbcrCoefficients,
  out: Float64Array | number[] = [0, 0, 0],
): Float64Array | number[] {
  const yn = c.kr * r + (1 - c.kr - c.kb) * g + c.kb * b;
  const pb = (b - yn) / (2 * (1 - c.kb));
  const pr = (r - yn) / (2 * (1 - c.kr));
  const clamp = (v: number): number => (v < 0 ? 0 : v > c.max ? c.max : Math.round(v));
  out[0] = clamp(c.yOffset + yn * c.yRange);
  out[1] = clamp(c.cOffset + pb * c.cRange);
  out[2] = clamp(c.cOffset + pr * c.cRange);
  return out;
}

/** Options of the frame conversions. */
export interface YcbcrFrameOptions {
  /** Matrix; the frame's own tag (or the BT.601/709 guess from its height) by default. */
  readonly standard?: YcbcrStandard;
  /** Range; the frame's own tag (limited when unknown) by default. */
  readonly range?: ColorRange;
}

const FIX = 16;
const ONE = 1 << FIX;
const HALF = 1 << (FIX - 1);

/**
 * Convert an 8-bit YUV 4:2:0, 4:2:2 or 4:4:4 frame to rgb24 (nearest chroma, fixed-point).
 *
 * @param frame - A `yuv420p`, `yuv422p` or `yuv444p` frame.
 * @param options - Matrix and range; taken from the frame's tags by default.
 * @param out - An rgb24 frame of the same size, reused to avoid allocation.
 * @returns The rgb24 frame, full range.
 * @throws {TypeError} For another pixel format.
 */
export function yuvToRgb24(frame: Frame, options: YcbcrFrameOptions = {}, out?: Frame): Frame {
  const fmt = frame.format;
  if (fmt !== 'yuv420p' && fmt !== 'yuv422p' && fmt !== 'yuv444p') {
    throw invalidTypeError('a yuv420p, yuv422p or yuv444p frame', 'frame.format', fmt);
  }
  const standard = options.standard ?? standardOf(frame.color.matrix, frame.height);
  const c = ycbcrCoefficients(standard, options.range ?? (frame.color.range === 'full' ? 'full' : 'limited'));
  const target =
    out ??
    createFrame({
      width: frame.width,
      height: frame.height,
      format: 'rgb24',
      pts: frame.pts,
      timeBase: frame.timeBase,
      duration: frame.duration,
      color: { ...frame.color, range: 'full', matrix: 'rgb' },
      sampleAspect: frame.sampleAspect,
    });
  // Fixed-point factors mapping codes straight to 0–255.
  const ys = Math.round((255 / c.yRange) * ONE);
  const crR = Math.round(((255 * 2 * (1 - c.kr)) / c.cRange) * ONE);
  const cbB = Math.round(((255 * 2 * (1 - c.kb)) / c.cRange) * ONE);
  const kg = 1 - c.kr - c.kb;
  const cbG = Math.round(((255 * 2 * (1 - c.kb) * c.kb) / (kg * c.cRange)) * ONE);
  const crG = Math.round(((255 * 2 * (1 - c.kr) * c.kr) / (kg * c.cRange)) * ONE);
  const [yp, up, vp] = frame.planes as [Frame['planes'][0], Frame['planes'][0], Frame['planes'][0]];
  const dst = target.planes[0]!;
  const d = dst.data as Uint8Array;
  const Y = yp.data as Uint8Array;
  const U = up.data as Uint8Array;
  const V = vp.data as Uint8Array;
  const sx = fmt === 'yuv444p' ? 0 : 1;
  const sy = fmt === 'yuv420p' ? 1 : 0;
  const w = frame.width;
  for (let row = 0; row < frame.height; row++) {
    const yRow = row * yp.stride;
    const cRow = (row >> sy) * up.stride;
    const vRow = (row >> sy) * vp.stride;
    let o = row * dst.stride;
    for (let x = 0; x < w; x++) {
      const yv = (Y[yRow + x]! - c.yOffset) * ys + HALF;
      const cb = U[cRow + (x >> sx)]! - 128;
      const cr = V[vRow + (x >> sx)]! - 128;
      const r = (yv + cr * crR) >> FIX;
      const g = (yv - cb * cbG - cr * crG) >> FIX;
      const b = (yv + cb * cbB) >> FIX;
      d[o++] = r < 0 ? 0 : r > 255 ? 255 : r;
      d[o++] = g < 0 ? 0 : g > 255 ? 255 : g;
      d[o++] = b < 0 ? 0 : b > 255 ? 255 : b;
    }
  }
  return out === undefined ? target : withTimingOf(target, frame);
}

/**
 * Tight RGB bytes (width × height × 3, no row padding) of a gray8, 8-bit YUV or rgb24 frame: what
 * image libraries such as sharp take as raw input. Gray is replicated to three channels; YUV goes
 * through {@link yuvToRgb24} with the frame's own tags.
 *
 * @param frame - A gray8, yuv420p/422p/444p or rgb24 frame.
 * @returns A new buffer.
 * @throws {TypeError} For another pixel format.
 */
export function rgbBytes(frame: Frame): Uint8Array {
  const f = frame.format === 'rgb24' || frame.format === 'gray8' ? frame : yuvToRgb24(frame);
  const p = f.planes[0]!;
  const src = p.data as Uint8Array;
  const out = new Uint8Array(f.width * f.height * 3);
  if (f.format === 'rgb24') {
    for (let y = 0; y < f.height; y++)
      out.set(src.subarray(y * p.stride, y * p.stride + f.width * 3), y * f.width * 3);
    return out;
  }
  for (let y = 0; y < f.height; y++)
    for (let x = 0, s = y * p.stride, d = y * f.width * 3; x < f.width; x++, s++, d += 3) {
      const v = src[s]!;
      out[d] = v;
      out[d + 1] = v;
      out[d + 2] = v;
    }
  return out;
}

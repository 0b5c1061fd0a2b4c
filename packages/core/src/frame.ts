import { assertInteger } from './assert.ts';
import { invalidRangeError } from './errors.ts';
import { type PixelFormat, pixelFormatInfo, planeGeometry } from './pixel-format.ts';

/** An exact fraction, as FFmpeg's AVRational. */
export interface Rational {
  readonly num: number;
  readonly den: number;
}

/** Quantization range of Y'CbCr or RGB samples. */
export type ColorRange = 'limited' | 'full' | 'unknown';
/** Color primaries (names as in FFmpeg). */
export type ColorPrimaries =
  | 'bt709'
  | 'bt470bg'
  | 'smpte170m'
  | 'bt2020'
  | 'smpte432'
  | 'unknown'
  | (string & {});
/** Transfer characteristics (names as in FFmpeg); `smpte2084` is PQ, `arib-std-b67` is HLG. */
export type ColorTransfer =
  | 'bt709'
  | 'smpte170m'
  | 'iec61966-2-1'
  | 'smpte2084'
  | 'arib-std-b67'
  | 'bt2020-10'
  | 'unknown'
  | (string & {});
/** Y'CbCr matrix coefficients (names as in FFmpeg). */
export type ColorMatrix = 'bt709' | 'bt470bg' | 'smpte170m' | 'bt2020nc' | 'rgb' | 'unknown' | (string & {});

/** Color metadata carried with every frame so encoders can tag the output like the source. */
export interface ColorInfo {
  readonly range: ColorRange;
  readonly primaries: ColorPrimaries;
  readonly transfer: ColorTransfer;
  readonly matrix: ColorMatrix;
}

/** Color metadata for untagged material. */
export const UNKNOWN_COLOR: ColorInfo = Object.freeze({
  range: 'unknown',
  primaries: 'unknown',
  transfer: 'unknown',
  matrix: 'unknown',
});

/** Samples of one plane. */
export type PlaneData = Uint8Array | Uint16Array | Float32Array;

/** One image plane: samples row by row, `stride` samples apart (stride ≥ width × components). */
export interface Plane {
  readonly data: PlaneData;
  /** Distance between the starts of two rows, in samples (not bytes). */
  readonly stride: number;
}

/**
 * A decoded picture with its timing and color metadata.
 *
 * Planes may be views into a decoder's memory: a stage that keeps a frame beyond the next one
 * it receives must copy it ({@link cloneFrame}).
 */
export interface Frame {
  readonly width: number;
  readonly height: number;
  readonly format: PixelFormat;
  readonly planes: readonly Plane[];
  /** Presentation timestamp in `timeBase` units. */
  readonly pts: number;
  readonly timeBase: Rational;
  /** Display duration in `timeBase` units, 0 when unknown. */
  readonly duration: number;
  readonly color: ColorInfo;
  /** Sample (pixel) aspect ratio; 1:1 when square or unknown. */
  readonly sampleAspect: Rational;
}

/** Options of {@link createFrame}. */
export interface CreateFrameOptions {
  readonly width: number;
  readonly height: number;
  readonly format: PixelFormat;
  readonly pts?: number;
  readonly timeBase?: Rational;
  readonly duration?: number;
  readonly color?: ColorInfo;
  readonly sampleAspect?: Rational;
  /** Row alignment in samples; 1 (tight rows) by default. */
  readonly align?: number;
}

function allocPlane(type: 'uint8' | 'uint16' | 'float32', length: number): PlaneData {
  if (type === 'uint16') return new Uint16Array(length);
  if (type === 'float32') return new Float32Array(length);
  return new Uint8Array(length);
}

/**
 * Allocate a zeroed frame.
 *
 * @param options - Size, format and timing.
 * @returns A frame that owns its planes.
 * @throws {TypeError} When a dimension is not an integer or the format is unknown.
 * @throws {RangeError} When a dimension is not positive.
 * @example
 * ```ts
 * const f = createFrame({ width: 64, height: 32, format: 'gray8' })
 * f.planes[0].data.length // 2048
 * ```
 */
export function createFrame(options: CreateFrameOptions): Frame {
  const width = assertInteger(options.width, 'options.width', 1, 1 << 16);
  const height = assertInteger(options.height, 'options.height', 1, 1 << 16);
  const align = assertInteger(options.align ?? 1, 'options.align', 1, 4096);
  const info = pixelFormatInfo(options.format);
  const planes = planeGeometry(options.format, width, height).map((g) => {
    const stride = Math.ceil(g.rowSamples / align) * align;
    return { data: allocPlane(info.sampleType, stride * g.height), stride };
  });
  return {
    width,
    height,
    format: options.format,
    planes,
    pts: options.pts ?? 0,
    timeBase: options.timeBase ?? { num: 1, den: 90000 },
    duration: options.duration ?? 0,
    color: options.color ?? UNKNOWN_COLOR,
    sampleAspect: options.sampleAspect ?? { num: 1, den: 1 },
  };
}

/**
 * Check that a frame's planes are large enough for its size and format.
 *
 * @param frame - The frame to check.
 * @param param - Name used in the error message.
 * @throws {RangeError} When a plane is missing, its stride is too small, or its data too short.
 */
export function validateFrame(frame: Frame, param = 'frame'): void {
  const geometry = planeGeometry(frame.format, frame.width, frame.height);
  if (frame.planes.length < geometry.length) {
    throw invalidRangeError(`${geometry.length} planes for ${frame.format}`, `${param}.planes`, frame.planes);
  }
  geometry.forEach((g, i) => {
    const plane = frame.planes[i]!;
    if (plane.stride < g.rowSamples) {
      throw invalidRangeError(`a stride >= ${g.rowSamples}`, `${param}.planes[${i}].stride`, plane.stride);
    }
    const need = plane.stride * (g.height - 1) + g.rowSamples;
    if (plane.data.length < need) {
      throw invalidRangeError(`at least ${need} samples`, `${param}.planes[${i}].data`, plane.data);
    }
  });
}

/**
 * Copy a frame into memory it owns, with tight rows.
 *
 * @param frame - The source, possibly a view into decoder memory.
 * @param out - A frame of the same size and format to copy into, reused to avoid allocation.
 * @returns A new frame; when `out` is given, the result shares `out`'s planes and carries the source's timing.
 * @throws {RangeError} When `out` does not match the source's size and format.
 */
export function cloneFrame(frame: Frame, out?: Frame): Frame {
  const target =
    out ??
    createFrame({
      width: frame.width,
      height: frame.height,
      format: frame.format,
      pts: frame.pts,
      timeBase: frame.timeBase,
      duration: frame.duration,
      color: frame.color,
      sampleAspect: frame.sampleAspect,
    });
  if (target.width !== frame.width || target.height !== frame.height || target.format !== frame.format) {
    throw invalidRangeError(`a ${frame.width}x${frame.height} ${frame.format} frame`, 'out', target);
  }
  planeGeometry(frame.format, frame.width, frame.height).forEach((g, i) => {
    const src = frame.planes[i]!;
    const dst = target.planes[i]!;
    if (src.stride === dst.stride) {
      dst.data.set(src.data.subarray(0, src.stride * (g.height - 1) + g.rowSamples));
      return;
    }
    for (let y = 0; y < g.height; y++) {
      dst.data.set(src.data.subarray(y * src.stride, y * src.stride + g.rowSamples), y * dst.stride);
    }
  });
  return out === undefined ? target : withTimingOf(target, frame, true);
}

/**
 * Copy a frame into a larger one of the same format, repeating its last column and row into the
 * margin (what an encoder that needs even sizes, or a filter that needs a minimum size, is given
 * instead of the frame; crop the result back where it matters).
 *
 * @param frame - The frame.
 * @param out - A frame of the same format, at least as large; its timing and color are set from `frame`.
 * @returns `out`, with `frame`'s pixels in its top-left corner and the margins filled.
 * @throws {RangeError} When `out` is of another format or smaller.
 */
export function padFrame(frame: Frame, out: Frame): Frame {
  if (out.format !== frame.format || out.width < frame.width || out.height < frame.height)
    throw invalidRangeError(
      `a ${frame.format} frame of at least ${frame.width}x${frame.height}`,
      'out',
      `${out.format} ${out.width}x${out.height}`,
    );
  const pixel = pixelFormatInfo(frame.format).components;
  const to = planeGeometry(out.format, out.width, out.height);
  planeGeometry(frame.format, frame.width, frame.height).forEach((g, i) => {
    const src = frame.planes[i]!;
    const dst = out.planes[i]!;
    const t = to[i]!;
    for (let y = 0; y < t.height; y++) {
      const row = Math.min(y, g.height - 1) * src.stride;
      const at = y * dst.stride;
      dst.data.set(src.data.subarray(row, row + g.rowSamples), at);
      // The last pixel (all its components) repeated to the right.
      for (let x = g.rowSamples; x < t.rowSamples; x++) dst.data[at + x] = dst.data[at + x - pixel]!;
    }
  });
  return withTimingOf(out, frame, true);
}

/**
 * Give a frame another frame's timing (pts, time base, duration), for filters that write into
 * reused output buffers.
 *
 * @param frame - The frame whose pixels to keep.
 * @param source - The frame whose timing to take.
 * @param withColor - Take `source`'s color metadata too.
 * @returns A new frame object sharing `frame`'s planes.
 */
export function withTimingOf(frame: Frame, source: Frame, withColor = false): Frame {
  const timed = { ...frame, pts: source.pts, timeBase: source.timeBase, duration: source.duration };
  return withColor ? { ...timed, color: source.color } : timed;
}

/**
 * Convert a timestamp to seconds.
 *
 * @param ts - Timestamp in `timeBase` units.
 * @param timeBase - The unit.
 * @returns Seconds.
 */
export function toSeconds(ts: number, timeBase: Rational): number {
  return (ts * timeBase.num) / timeBase.den;
}

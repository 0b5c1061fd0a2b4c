import { invalidTypeError } from './errors.ts';

/**
 * Pixel formats Framecraft moves between stages.
 *
 * - `yuv420p`, `yuv420p10`: planar Y, U, V with 2×2 chroma subsampling (10-bit in 16-bit words).
 * - `yuv422p`, `yuv444p` (and 10-bit forms): other subsampling, kept when the source uses them.
 * - `gray8`: one luma plane.
 * - `rgb24`, `rgba`: packed 8-bit.
 * - `rgbf32`: planar float32 R, G, B (the ML layout; values in [0, 255] unless a model says otherwise).
 */
export type PixelFormat =
  | 'yuv420p'
  | 'yuv420p10'
  | 'yuv422p'
  | 'yuv422p10'
  | 'yuv444p'
  | 'yuv444p10'
  | 'gray8'
  | 'rgb24'
  | 'rgba'
  | 'rgbf32';

/** The typed array a plane's samples live in. */
export type SampleType = 'uint8' | 'uint16' | 'float32';

/** Static facts about a pixel format. */
export interface PixelFormatInfo {
  readonly name: PixelFormat;
  /** Number of planes. */
  readonly planes: number;
  /** Samples per pixel in plane 0 (3 for rgb24, 1 for planar formats). */
  readonly components: number;
  /** Bits used per sample. */
  readonly bitDepth: number;
  readonly sampleType: SampleType;
  /** log2 of horizontal chroma subsampling (1 for 4:2:0 and 4:2:2). */
  readonly chromaShiftX: number;
  /** log2 of vertical chroma subsampling (1 for 4:2:0). */
  readonly chromaShiftY: number;
  /** True for Y'CbCr formats. */
  readonly yuv: boolean;
}

function yuv(name: PixelFormat, bitDepth: number, sx: number, sy: number): PixelFormatInfo {
  const sampleType = bitDepth > 8 ? 'uint16' : 'uint8';
  return {
    name,
    planes: 3,
    components: 1,
    bitDepth,
    sampleType,
    chromaShiftX: sx,
    chromaShiftY: sy,
    yuv: true,
  };
}

function single(
  name: PixelFormat,
  planes: number,
  components: number,
  sampleType: SampleType,
  bitDepth: number,
): PixelFormatInfo {
  return { name, planes, components, bitDepth, sampleType, chromaShiftX: 0, chromaShiftY: 0, yuv: false };
}

/** Facts about every supported pixel format. */
export const PIXEL_FORMATS: Readonly<Record<PixelFormat, PixelFormatInfo>> = {
  yuv420p: yuv('yuv420p', 8, 1, 1),
  yuv420p10: yuv('yuv420p10', 10, 1, 1),
  yuv422p: yuv('yuv422p', 8, 1, 0),
  yuv422p10: yuv('yuv422p10', 10, 1, 0),
  yuv444p: yuv('yuv444p', 8, 0, 0),
  yuv444p10: yuv('yuv444p10', 10, 0, 0),
  gray8: single('gray8', 1, 1, 'uint8', 8),
  rgb24: single('rgb24', 1, 3, 'uint8', 8),
  rgba: single('rgba', 1, 4, 'uint8', 8),
  rgbf32: single('rgbf32', 3, 1, 'float32', 32),
};

/**
 * Tell whether a string names a supported pixel format.
 *
 * @param value - Any value.
 * @returns True for a {@link PixelFormat}.
 */
export function isPixelFormat(value: unknown): value is PixelFormat {
  return typeof value === 'string' && Object.hasOwn(PIXEL_FORMATS, value);
}

/**
 * Look up the facts of a pixel format.
 *
 * @param format - A pixel format name.
 * @returns Its {@link PixelFormatInfo}.
 * @throws {TypeError} When `format` is not a supported pixel format.
 */
export function pixelFormatInfo(format: PixelFormat): PixelFormatInfo {
  if (!isPixelFormat(format)) {
    throw invalidTypeError(`one of ${Object.keys(PIXEL_FORMATS).join(', ')}`, 'format', format);
  }
  return PIXEL_FORMATS[format];
}

/** Width and height of one plane, in pixels, and samples per row without padding. */
export interface PlaneGeometry {
  readonly width: number;
  readonly height: number;
  /** Samples in one row (width × components). */
  readonly rowSamples: number;
}

/**
 * Compute the size of every plane of a picture.
 *
 * @param format - The pixel format.
 * @param width - Picture width in pixels.
 * @param height - Picture height in pixels.
 * @returns One geometry per plane.
 */
export function planeGeometry(format: PixelFormat, width: number, height: number): PlaneGeometry[] {
  const info = pixelFormatInfo(format);
  const out: PlaneGeometry[] = [];
  for (let p = 0; p < info.planes; p++) {
    const chroma = info.yuv && p > 0;
    const w = chroma ? -(-width >> info.chromaShiftX) : width;
    const h = chroma ? -(-height >> info.chromaShiftY) : height;
    out.push({ width: w, height: h, rowSamples: w * info.components });
  }
  return out;
}

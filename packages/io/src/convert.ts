import type {
  ColorInfo,
  ColorMatrix,
  ColorPrimaries,
  ColorRange,
  ColorTransfer,
  Frame,
  PixelFormat,
  PlaneData,
  Rational,
} from '@framecraft/core';
import { pixelFormatInfo } from '@framecraft/core';
import type {
  AVColorPrimaries,
  AVColorRange,
  AVColorSpace,
  AVColorTransferCharacteristic,
  AVPixelFormat,
  AVSampleFormat,
  Frame as AvFrame,
  Codec,
  FFEncoderCodec,
} from 'node-av';
import { nodeAvSync } from './binding.ts';
import { check } from './ffmpeg-error.ts';

// FFmpeg's enum values for color metadata are fixed by ITU-T H.273; names as FFmpeg prints them.
const PRIMARIES: Record<number, string> = {
  1: 'bt709',
  2: 'unknown',
  4: 'bt470m',
  5: 'bt470bg',
  6: 'smpte170m',
  7: 'smpte240m',
  8: 'film',
  9: 'bt2020',
  10: 'smpte428',
  11: 'smpte431',
  12: 'smpte432',
  22: 'ebu3213',
};
const TRANSFERS: Record<number, string> = {
  1: 'bt709',
  2: 'unknown',
  4: 'gamma22',
  5: 'gamma28',
  6: 'smpte170m',
  7: 'smpte240m',
  8: 'linear',
  9: 'log100',
  10: 'log316',
  11: 'iec61966-2-4',
  12: 'bt1361e',
  13: 'iec61966-2-1',
  14: 'bt2020-10',
  15: 'bt2020-12',
  16: 'smpte2084',
  17: 'smpte428',
  18: 'arib-std-b67',
};
const MATRICES: Record<number, string> = {
  0: 'rgb',
  1: 'bt709',
  2: 'unknown',
  4: 'fcc',
  5: 'bt470bg',
  6: 'smpte170m',
  7: 'smpte240m',
  8: 'ycgco',
  9: 'bt2020nc',
  10: 'bt2020c',
  11: 'smpte2085',
  12: 'chroma-derived-nc',
  13: 'chroma-derived-c',
  14: 'ictcp',
};

function lookup(table: Record<number, string>, value: number): string {
  return table[value] ?? 'unknown';
}

function reverse(table: Record<number, string>, name: string): number {
  for (const [k, v] of Object.entries(table)) if (v === name) return Number(k);
  return 2;
}

/**
 * Convert FFmpeg's color enums into {@link ColorInfo}.
 *
 * @param range - AVColorRange.
 * @param primaries - AVColorPrimaries.
 * @param transfer - AVColorTransferCharacteristic.
 * @param matrix - AVColorSpace.
 * @returns The color metadata by name.
 */
export function colorFromAv(range: number, primaries: number, transfer: number, matrix: number): ColorInfo {
  return {
    range: (range === 1 ? 'limited' : range === 2 ? 'full' : 'unknown') as ColorRange,
    primaries: lookup(PRIMARIES, primaries) as ColorPrimaries,
    transfer: lookup(TRANSFERS, transfer) as ColorTransfer,
    matrix: lookup(MATRICES, matrix) as ColorMatrix,
  };
}

/** FFmpeg's numbers for a {@link ColorInfo}. */
export interface AvColor {
  readonly range: AVColorRange;
  readonly primaries: AVColorPrimaries;
  readonly transfer: AVColorTransferCharacteristic;
  readonly matrix: AVColorSpace;
}

/**
 * Convert {@link ColorInfo} into FFmpeg's enums.
 *
 * @param color - Color metadata by name.
 * @returns The numbers FFmpeg stores.
 */
export function colorToAv(color: ColorInfo): AvColor {
  // H.273 code points are FFmpeg's enum values; node-av brands them as distinct number types.
  return {
    range: (color.range === 'limited' ? 1 : color.range === 'full' ? 2 : 0) as AVColorRange,
    primaries: reverse(PRIMARIES, color.primaries) as AVColorPrimaries,
    transfer: reverse(TRANSFERS, color.transfer) as AVColorTransferCharacteristic,
    matrix: (color.matrix === 'rgb' ? 0 : reverse(MATRICES, color.matrix)) as AVColorSpace,
  };
}

/** What carries colour tags in FFmpeg: a frame or a codec context. */
export interface AvColorTagged {
  colorRange: AVColorRange;
  colorPrimaries: AVColorPrimaries;
  colorTrc: AVColorTransferCharacteristic;
  colorSpace: AVColorSpace;
}

/**
 * Tag a frame or an encoder with colour metadata.
 *
 * @param target - The frame or codec context.
 * @param color - The tags, by name.
 */
export function setAvColor(target: AvColorTagged, color: ColorInfo): void {
  const tags = colorToAv(color);
  target.colorRange = tags.range;
  target.colorPrimaries = tags.primaries;
  target.colorTrc = tags.transfer;
  target.colorSpace = tags.matrix;
}

/**
 * FFmpeg's encoder of this name, or null when this build has none.
 *
 * @param av - The loaded binding.
 * @param name - Encoder name (`libx264`, `aac`, …).
 */
export function findEncoder(av: { Codec: typeof Codec }, name: string): Codec | null {
  // node-av types the name as a union of the encoders it knows; any FFmpeg name is looked up.
  return av.Codec.findEncoderByName(name as FFEncoderCodec);
}

/** FFmpeg pixel format names for each Framecraft format (little-endian for >8 bits). */
const AV_NAMES: Record<PixelFormat, string> = {
  yuv420p: 'yuv420p',
  yuv420p10: 'yuv420p10le',
  yuv422p: 'yuv422p',
  yuv422p10: 'yuv422p10le',
  yuv444p: 'yuv444p',
  yuv444p10: 'yuv444p10le',
  gray8: 'gray',
  rgb24: 'rgb24',
  rgba: 'rgba',
  rgbf32: 'gbrpf32le',
};

/** FFmpeg formats that are a Framecraft format with full range implied (the deprecated "J" formats). */
const AV_ALIASES: Record<string, PixelFormat> = {
  yuvj420p: 'yuv420p',
  yuvj422p: 'yuv422p',
  yuvj444p: 'yuv444p',
};

/**
 * Find FFmpeg's pixel format number for a Framecraft format.
 *
 * @param format - A Framecraft pixel format.
 * @returns AVPixelFormat.
 */
export function pixelFormatToAv(format: PixelFormat): AVPixelFormat {
  return nodeAvSync().avGetPixFmtFromName(AV_NAMES[format]);
}

/**
 * Find the Framecraft format matching an FFmpeg pixel format, if there is one.
 *
 * @param avFormat - AVPixelFormat.
 * @returns The matching format, or undefined when Framecraft has no direct equivalent.
 */
export function pixelFormatFromAv(avFormat: number): PixelFormat | undefined {
  const name = nodeAvSync().avGetPixFmtName(avFormat as AVPixelFormat);
  if (name === null) return undefined;
  if (name in AV_ALIASES) return AV_ALIASES[name];
  for (const [ours, theirs] of Object.entries(AV_NAMES)) if (theirs === name) return ours as PixelFormat;
  return undefined;
}

/**
 * Get FFmpeg's name of a sample format number.
 *
 * @param avFormat - AVSampleFormat.
 * @returns Its name, or `"none"`.
 */
export function avSampleFormatName(avFormat: number): string {
  return nodeAvSync().avGetSampleFmtName(avFormat as AVSampleFormat) ?? 'none';
}

/**
 * Get FFmpeg's name of a pixel format number.
 *
 * @param avFormat - AVPixelFormat.
 * @returns Its name, or `"none"`.
 */
export function avPixelFormatName(avFormat: number): string {
  return nodeAvSync().avGetPixFmtName(avFormat as AVPixelFormat) ?? 'none';
}

function view(buf: Buffer, type: 'uint8' | 'uint16' | 'float32'): PlaneData {
  if (type === 'uint8') return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const size = type === 'uint16' ? 2 : 4;
  if (buf.byteOffset % size !== 0) {
    const copy = new Uint8Array(buf.byteLength);
    copy.set(buf);
    return type === 'uint16' ? new Uint16Array(copy.buffer) : new Float32Array(copy.buffer);
  }
  const len = Math.floor(buf.byteLength / size);
  return type === 'uint16'
    ? new Uint16Array(buf.buffer, buf.byteOffset, len)
    : new Float32Array(buf.buffer, buf.byteOffset, len);
}

/** Where a wrapped frame's pixels live, while they are still there. */
export interface FrameOrigin {
  readonly avFrame: AvFrame;
  /** False once the owner has moved the FFmpeg frame on to another picture. */
  readonly isCurrent: () => boolean;
}

const origins = new WeakMap<Frame, FrameOrigin>();

/**
 * Find the FFmpeg frame a Framecraft frame views, if it still holds the same picture, so an
 * encoder can take it without a copy.
 *
 * @param frame - A frame from {@link wrapAvFrame}.
 * @returns The origin, or undefined for frames with their own memory or a stale view.
 */
export function originOf(frame: Frame): AvFrame | undefined {
  const origin = origins.get(frame);
  return origin?.isCurrent() ? origin.avFrame : undefined;
}

/** Options of {@link wrapAvFrame}. */
export interface WrapOptions {
  /** The Framecraft format to present; `gray8` over a YUV frame views its Y plane alone. */
  readonly format: PixelFormat;
  /** The unit of the frame's timestamps. */
  readonly timeBase: Rational;
  /** Color metadata to attach. */
  readonly color: ColorInfo;
  /** The timestamp to report; the FFmpeg frame's own pts by default. */
  readonly pts?: number;
  /** Tells whether `src` still holds this picture; lets encoders take it without a copy. */
  readonly isCurrent?: () => boolean;
}

const SQUARE: Rational = Object.freeze({ num: 1, den: 1 });

/**
 * Wrap a decoded FFmpeg frame as a Framecraft {@link Frame} without copying pixels.
 *
 * The planes are views of the FFmpeg frame's memory and stay valid while it is alive. Called once
 * per decoded frame, so it touches as few native properties as it can.
 *
 * @param src - A software frame whose layout matches `options.format` (or YUV for `gray8`).
 * @param options - Format, timing and color.
 * @returns A frame whose planes view `src`.
 */
export function wrapAvFrame(src: AvFrame, options: WrapOptions): Frame {
  const { format } = options;
  const info = pixelFormatInfo(format);
  const data = src.data ?? [];
  const linesize = src.linesize;
  const bytes = info.sampleType === 'uint8' ? 1 : info.sampleType === 'uint16' ? 2 : 4;
  let planes = [];
  for (let p = 0; p < info.planes; p++) {
    planes.push({ data: view(data[p]!, info.sampleType), stride: (linesize[p] ?? 0) / bytes });
  }
  // FFmpeg keeps planar float RGB as G, B, R.
  if (format === 'rgbf32') planes = [planes[2]!, planes[0]!, planes[1]!];
  let pts = options.pts;
  if (pts === undefined) {
    const own = src.pts;
    pts = own === nodeAvSync().AV_NOPTS_VALUE ? 0 : Number(own);
  }
  const sar = src.sampleAspectRatio;
  const frame: Frame = {
    width: src.width,
    height: src.height,
    format,
    planes,
    pts,
    timeBase: options.timeBase,
    duration: Number(src.duration),
    color: options.color,
    sampleAspect: sar.num > 0 && sar.den > 0 && sar.num !== sar.den ? { num: sar.num, den: sar.den } : SQUARE,
  };
  if (options.isCurrent !== undefined) origins.set(frame, { avFrame: src, isCurrent: options.isCurrent });
  return frame;
}

/**
 * Copy a Framecraft frame's pixels into an allocated FFmpeg frame of the same size and format.
 *
 * @param src - The source frame.
 * @param dst - A writable FFmpeg frame with buffers of `src`'s size and format.
 */
export function copyIntoAvFrame(src: Frame, dst: AvFrame): void {
  const info = pixelFormatInfo(src.format);
  const data = dst.data ?? [];
  const bytes = info.sampleType === 'uint8' ? 1 : info.sampleType === 'uint16' ? 2 : 4;
  const order = src.format === 'rgbf32' ? [1, 2, 0] : [0, 1, 2, 3];
  for (let p = 0; p < info.planes; p++) {
    const plane = src.planes[order[p]!]!;
    const chroma = info.yuv && p > 0;
    const h = chroma ? -(-src.height >> info.chromaShiftY) : src.height;
    const w = (chroma ? -(-src.width >> info.chromaShiftX) : src.width) * info.components;
    const buf = data[p]!;
    const target = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    const srcBytes = new Uint8Array(plane.data.buffer, plane.data.byteOffset, plane.data.byteLength);
    const dstStride = dst.linesize[p]!;
    const srcStride = plane.stride * bytes;
    const rowBytes = w * bytes;
    if (dstStride === srcStride) {
      target.set(srcBytes.subarray(0, srcStride * (h - 1) + rowBytes));
      continue;
    }
    for (let y = 0; y < h; y++) {
      target.set(srcBytes.subarray(y * srcStride, y * srcStride + rowBytes), y * dstStride);
    }
  }
}

/**
 * Return `current` when it already has the size and format asked for, or free it and allocate a
 * new FFmpeg frame that has; either way make its buffers writable (an encoder or filter may still
 * hold the previous picture).
 *
 * @param current - The frame kept from the previous call, if any.
 * @param width - Width wanted.
 * @param height - Height wanted.
 * @param avFormat - AVPixelFormat wanted.
 * @param file - File or graph name for errors.
 * @returns A writable frame.
 */
export function reusableAvFrame(
  current: AvFrame | undefined,
  width: number,
  height: number,
  avFormat: number,
  file: string,
): AvFrame {
  let f = current;
  if (f === undefined || f.width !== width || f.height !== height || f.format !== avFormat) {
    f?.free();
    f = new (nodeAvSync().Frame)();
    f.alloc();
    f.width = width;
    f.height = height;
    f.format = avFormat as AVPixelFormat;
    check(f.getBuffer(32), file, 'allocate frame');
  }
  check(f.makeWritable(), file, 'allocate frame');
  return f;
}

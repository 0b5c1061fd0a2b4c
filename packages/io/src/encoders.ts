import { type PixelFormat, pixelFormatInfo } from '@framecraft/core';
import { FrameSizeError } from './errors.ts';

/**
 * The encoders Framecraft knows the settings of: the presets and quality options below, the size
 * limits, and NVENC's software twins. Any other FFmpeg encoder name may still be given to a
 * writer; it gets only `encoderOptions`.
 */
export type EncoderName =
  | 'libx264'
  | 'libx265'
  | 'h264_nvenc'
  | 'hevc_nvenc'
  | 'av1_nvenc'
  | 'libsvtav1'
  | 'libvpx-vp9'
  | 'libvpx'
  | 'libaom-av1'
  | 'ffv1';

/** What a writer's `codec` takes: a known encoder, `auto` (NVENC when it works here, else libx264), or another FFmpeg encoder's name. */
export type EncoderChoice = EncoderName | 'auto' | (string & {});

/** The quality settings an encoder is opened with. */
export interface EncoderSettings {
  /** Constant rate factor (CQ for NVENC); 20 by default. */
  readonly crf?: number;
  /** Encoder preset in x264 terms (`ultrafast` … `veryslow`; NVENC maps them to p1–p7). */
  readonly preset?: string;
  /** Lossless encoding (x264/x265 qp 0; FFV1 is always lossless). */
  readonly lossless?: boolean;
  /** Extra private encoder options, passed as-is. */
  readonly encoderOptions?: Readonly<Record<string, string>>;
}

/** Whether an encoder is NVIDIA's (its use is proven by a probe encode first). */
export function isNvenc(name: string): boolean {
  return name.endsWith('_nvenc');
}

/** x264 preset names → NVENC's p1 (fastest) … p7. */
const NVENC_PRESETS: Readonly<Record<string, string>> = {
  ultrafast: 'p1',
  superfast: 'p1',
  veryfast: 'p2',
  faster: 'p3',
  fast: 'p4',
  medium: 'p5',
  slow: 'p6',
  slower: 'p7',
  veryslow: 'p7',
};

/** The software encoder an NVENC encoder falls back to. */
export const SOFTWARE_TWIN: ReadonlyMap<string, EncoderName> = new Map<EncoderName, EncoderName>([
  ['h264_nvenc', 'libx264'],
  ['hevc_nvenc', 'libx265'],
  ['av1_nvenc', 'libsvtav1'],
]);

/** An encoder's name and the private options it is opened with. */
export interface EncoderSetup {
  readonly name: string;
  readonly options: Record<string, string>;
}

/**
 * The options an encoder is opened with for these settings: the x264 preset and CRF mapped onto
 * each encoder's own (NVENC's p1–p7 and CQ, SVT-AV1's numeric presets, libvpx's deadline and
 * cpu-used), then `encoderOptions` over them.
 */
export function encoderSetup(name: string, o: EncoderSettings): EncoderSetup {
  const crf = o.crf ?? 20;
  const preset = o.preset ?? 'medium';
  const options: Record<string, string> = {};
  if (isNvenc(name)) {
    options.preset = NVENC_PRESETS[preset] ?? preset;
    if (o.lossless) options.tune = 'lossless';
    else {
      options.rc = 'vbr';
      options.cq = String(crf);
    }
  } else if (name === 'libx264' || name === 'libx265') {
    options.preset = preset;
    if (o.lossless)
      options[name === 'libx264' ? 'qp' : 'x265-params'] = name === 'libx264' ? '0' : 'lossless=1';
    else options.crf = String(crf);
  } else if (name === 'libsvtav1') {
    options.crf = String(crf);
    options.preset = String({ ultrafast: 12, superfast: 11, veryfast: 10, faster: 9, fast: 8 }[preset] ?? 6);
  } else if (name === 'libvpx-vp9') {
    options.crf = String(crf);
    options.b = '0';
    if (o.lossless) options.lossless = '1';
    // libvpx's own default (good, cpu-used 1) is many times slower than x264's medium; these keep
    // the x264 preset names meaning about the same trade-off. Row threading as FFmpeg recommends.
    // (flower.mp4 at 960x540, 4 threads: cpu-used 2 took 6.9 s, 4 took 3.9 s, x264 medium 1.9 s.)
    const speed: Record<string, [string, string]> = {
      ultrafast: ['realtime', '8'],
      superfast: ['realtime', '7'],
      veryfast: ['good', '5'],
      faster: ['good', '5'],
      fast: ['good', '4'],
      medium: ['good', '4'],
      slow: ['good', '2'],
      slower: ['good', '1'],
    };
    const [deadline, cpuUsed] = speed[preset] ?? ['good', '0'];
    options.deadline = deadline;
    options['cpu-used'] = cpuUsed;
    options['row-mt'] = '1';
  }
  return { name, options: { ...options, ...o.encoderOptions } };
}

/** Encoders that take odd frame sizes in subsampled formats (the others, FFV1 too, need whole chroma samples). */
const ODD_SIZES_OK: ReadonlySet<string> = new Set<EncoderName>(['libvpx-vp9', 'libvpx', 'libaom-av1']);

/** The largest side each encoder takes (x264 refuses 16386x16 as "invalid width x height"). */
const MAX_SIDE: ReadonlyMap<string, number> = new Map<EncoderName, number>([
  ['libx264', 16384],
  ['h264_nvenc', 4096],
  ['hevc_nvenc', 8192],
]);

/** The size an encoder is given for frames of another size (see {@link encodedSize}). */
export interface EncodedSize {
  readonly width: number;
  readonly height: number;
  /** True when frames are padded (last column and row repeated) to reach it. */
  readonly padded: boolean;
}

/**
 * The frame size an encoder is given for frames of `width` x `height`: odd sizes in a subsampled
 * format (4:2:0 needs whole chroma samples, which libx264, libx265, SVT-AV1 and NVENC insist on) are
 * padded up by one column or row, repeating the last one, as a VideoWriter does.
 *
 * @param encoder - Encoder name (`libx264`, …; `auto` counts as NVENC with its libx264 fallback).
 * @param pixelFormat - The encoded pixel format.
 * @param width - Frame width.
 * @param height - Frame height.
 * @param file - The file the frames come from or go to, for the error.
 * @returns The encoded size.
 * @throws {FrameSizeError} `ERR_FRAME_SIZE` when the encoder cannot take frames that large.
 */
export function encodedSize(
  encoder: EncoderChoice,
  pixelFormat: PixelFormat,
  width: number,
  height: number,
  file: string,
): EncodedSize {
  const name = encoder === 'auto' ? 'libx264' : encoder;
  const info = pixelFormatInfo(pixelFormat);
  const stepX = ODD_SIZES_OK.has(name) ? 1 : 1 << info.chromaShiftX;
  const stepY = ODD_SIZES_OK.has(name) ? 1 : 1 << info.chromaShiftY;
  const w = Math.ceil(width / stepX) * stepX;
  const h = Math.ceil(height / stepY) * stepY;
  const max = MAX_SIDE.get(name);
  if (max !== undefined && (w > max || h > max))
    throw new FrameSizeError(file, width, height, `${name} encodes at most ${max} pixels on a side`);
  return { width: w, height: h, padded: w !== width || h !== height };
}

/**
 * The line that tells a user their odd-sized video is encoded one column or row larger.
 *
 * @param file - The source.
 * @param width - Its frame width.
 * @param height - Its frame height.
 * @param size - The encoded size ({@link encodedSize}).
 * @param encoder - The encoder.
 * @returns One sentence.
 */
export function paddedSizeNote(
  file: string,
  width: number,
  height: number,
  size: EncodedSize,
  encoder: string,
): string {
  return (
    `${file} is ${width}x${height}; the output is ${size.width}x${size.height} ` +
    `(${encoder} needs even sizes in 4:2:0; the last column or row is repeated)`
  );
}

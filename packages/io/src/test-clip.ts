import { type ColorInfo, createFrame, type Frame, type PixelFormat, type Rational } from '@framecraft/core';
import { VideoWriter } from './video-writer.ts';

/** Options of {@link writeTestClip}. */
export interface TestClipOptions {
  /** 320 by default. */
  readonly width?: number;
  /** 240 by default. */
  readonly height?: number;
  /** 30/1 by default. */
  readonly frameRate?: Rational;
  /** Number of frames; 60 by default. */
  readonly frames?: number;
  /**
   * Explicit timestamps (in `timeBase` units), one per frame, for variable frame rate clips.
   * Overrides `frames` and `frameRate`.
   */
  readonly timestamps?: readonly number[];
  /** Unit of `timestamps`; 1/1000 by default when timestamps are given, else 1/frameRate. */
  readonly timeBase?: Rational;
  /** Frame indices that are pure white flashes, each with a 1 kHz beep starting at the same instant. */
  readonly flashes?: readonly number[];
  /** Add a stereo 48 kHz AAC track (silence with beeps); true by default. */
  readonly audio?: boolean;
  /** Encoder; libx264 by default. */
  readonly codec?: string;
  readonly crf?: number;
  readonly lossless?: boolean;
  /** Encoded pixel format; yuv420p by default. */
  readonly pixelFormat?: PixelFormat;
  /** Color tags and conversion; BT.709 limited range by default. */
  readonly color?: ColorInfo;
  /** Varies the picture; 1 by default. */
  readonly seed?: number;
  /** Clockwise display rotation in degrees (as phones record portrait video). */
  readonly rotation?: number;
  /** Container metadata, for example `{ title: 'Sample' }`. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** What {@link writeTestClip} wrote. */
export interface TestClip {
  readonly path: string;
  readonly frames: number;
  readonly timeBase: Rational;
  /** Timestamps of each frame, in `timeBase` units. */
  readonly timestamps: readonly number[];
  /** Start of each flash (and its beep), in seconds. */
  readonly flashTimes: readonly number[];
  /** The RGB pictures encoded, frame by frame (kept only for clips of up to 120 frames). */
  readonly pictures: readonly Frame[];
}

const BEEP_HZ = 1000;
const BEEP_SECONDS = 0.1;

/**
 * Draw frame `i` of the test pattern: a diagonal gradient that drifts, a bright square that
 * moves, and colour bars, so motion, edges and every channel are exercised.
 *
 * @param i - Frame index.
 * @param width - Picture width.
 * @param height - Picture height.
 * @param seed - Pattern variation.
 * @param flash - Draw a pure white frame instead.
 * @returns An rgb24 frame.
 */
export function drawTestPattern(i: number, width: number, height: number, seed = 1, flash = false): Frame {
  const f = createFrame({ width, height, format: 'rgb24' });
  const d = f.planes[0]!.data as Uint8Array;
  if (flash) {
    d.fill(255);
    return f;
  }
  const box = Math.max(4, Math.floor(Math.min(width, height) / 5));
  const bx = Math.floor(((i * 3 * seed) % Math.max(1, width - box)) + 0);
  const by = Math.floor((height - box) / 2 + Math.sin(i / 7) * (height - box) * 0.3);
  const bars = [
    [235, 235, 16],
    [16, 235, 235],
    [16, 235, 16],
    [235, 16, 235],
    [235, 16, 16],
    [16, 16, 235],
  ] as const;
  const barTop = Math.floor(height * 0.8);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      if (y >= barTop) {
        const bar = bars[Math.min(bars.length - 1, Math.floor((x * bars.length) / width))]!;
        d[o] = bar[0];
        d[o + 1] = bar[1];
        d[o + 2] = bar[2];
        continue;
      }
      const inBox = x >= bx && x < bx + box && y >= by && y < by + box;
      const g = ((x + y + i * 2 * seed) * 255) / (width + height);
      d[o] = inBox ? 250 : (g + 40 * seed) & 255;
      d[o + 1] = inBox ? 200 : Math.floor((y * 200) / height) + 20;
      d[o + 2] = inBox ? 30 : Math.floor((x * 180) / width) + 40;
    }
  }
  return f;
}

/**
 * Write a synthetic clip (moving test pattern, optional white flashes with simultaneous beeps,
 * optional variable frame rate) through {@link VideoWriter}. Tests and `framecraft demo` use it
 * so nothing outside the repository is needed.
 *
 * @param path - Output file.
 * @param options - Size, timing, flashes, audio, encoder and color.
 * @returns What was written, including the source pictures for comparisons.
 * @example
 * ```ts
 * const clip = await writeTestClip('sample.mp4', { frames: 90, flashes: [30, 60] })
 * ```
 */
export async function writeTestClip(path: string, options: TestClipOptions = {}): Promise<TestClip> {
  const width = options.width ?? 320;
  const height = options.height ?? 240;
  const rate = options.frameRate ?? { num: 30, den: 1 };
  const timeBase =
    options.timeBase ?? (options.timestamps ? { num: 1, den: 1000 } : { num: rate.den, den: rate.num });
  const count = options.timestamps?.length ?? options.frames ?? 60;
  const timestamps = options.timestamps ?? Array.from({ length: count }, (_, i) => i);
  const flashes = new Set(options.flashes ?? []);
  const seed = options.seed ?? 1;
  const color: ColorInfo = options.color ?? {
    range: 'limited',
    primaries: 'bt709',
    transfer: 'bt709',
    matrix: 'bt709',
  };
  const toSec = (ts: number): number => (ts * timeBase.num) / timeBase.den;
  const withAudio = options.audio ?? true;
  const sampleRate = 48_000;
  const writer = await VideoWriter.create(path, {
    width,
    height,
    timeBase,
    frameRate: rate,
    codec: options.codec ?? 'libx264',
    crf: options.crf ?? 18,
    preset: 'veryfast',
    ...(options.lossless !== undefined && { lossless: options.lossless }),
    pixelFormat: options.pixelFormat ?? 'yuv420p',
    color,
    ...(withAudio && { audio: { sampleRate, channels: 2 } }),
    ...(options.metadata && { metadata: options.metadata }),
    ...(options.rotation !== undefined && { rotation: options.rotation }),
  });
  const flashTimes = [...flashes].sort((a, b) => a - b).map((i) => toSec(timestamps[i] ?? 0));
  const pictures: Frame[] = [];
  try {
    let audioWritten = 0;
    for (let i = 0; i < count; i++) {
      const ts = timestamps[i]!;
      const next =
        timestamps[i + 1] ?? ts + (timestamps[1] !== undefined ? timestamps[1] - timestamps[0]! : 1);
      const pic = drawTestPattern(i, width, height, seed, flashes.has(i));
      const frame: Frame = {
        ...pic,
        pts: ts,
        timeBase,
        duration: next - ts,
        color: { ...color, range: 'full', matrix: 'rgb' },
      };
      if (count <= 120) pictures.push(frame);
      await writer.write(frame);
      if (withAudio) {
        const until = Math.round(toSec(next) * sampleRate);
        const n = until - audioWritten;
        if (n > 0) {
          const left = new Float32Array(n);
          for (let k = 0; k < n; k++) {
            const t = (audioWritten + k) / sampleRate;
            if (flashTimes.some((f) => t >= f && t < f + BEEP_SECONDS))
              left[k] = 0.5 * Math.sin(2 * Math.PI * BEEP_HZ * t);
          }
          await writer.writeAudio([left, left.slice()]);
          audioWritten = until;
        }
      }
    }
    await writer.close();
  } catch (err) {
    await writer.abort();
    throw err;
  }
  return { path, frames: count, timeBase, timestamps, flashTimes, pictures };
}

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
  /**
   * `bars` (default): {@link drawTestPattern}'s drifting gradient, moving square and colour bars.
   * `scene`: {@link drawScenePattern}'s still life, for checks that need footage-like pictures.
   */
  readonly pattern?: 'bars' | 'scene';
  /** Display rotation in degrees, as `VideoWriterOptions.rotation` (phones record portrait video so). */
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

/** A small integer hash of three values, 0..255 (deterministic texture and sensor noise). */
function hash3(x: number, y: number, z: number): number {
  let h = (x * 374761393 + y * 668265263 + z * 2147483647) | 0;
  h = Math.imul(h ^ (h >>> 13), 1274126177);
  return (h ^ (h >>> 16)) & 255;
}

/**
 * Draw frame `i` of a footage-like still life: a sky with a soft vertical gradient over textured
 * grass, a shaded red ball rolling across, a yellow box and a small blue ball bobbing, all with
 * a little sensor noise. Unlike {@link drawTestPattern}'s full-frame gradient its colours stay
 * put from frame to frame, as a real shot's do, so a style that picks a palette per frame
 * (cartoon) keeps it.
 *
 * @param i - Frame index.
 * @param width - Picture width.
 * @param height - Picture height.
 * @param seed - Noise variation.
 * @returns An rgb24 frame.
 */
export function drawScenePattern(i: number, width: number, height: number, seed = 1): Frame {
  const f = createFrame({ width, height, format: 'rgb24' });
  const d = f.planes[0]!.data as Uint8Array;
  const horizon = Math.floor(height * 0.55);
  const r1 = Math.max(3, height / 5);
  const c1x = width * 0.2 + ((i * 0.8) % (width * 0.6));
  const c1y = horizon + r1 * 0.2;
  const r2 = Math.max(2, height / 10);
  const c2x = width * 0.78;
  const c2y = height * 0.3 + Math.sin(i / 9) * height * 0.08;
  const bx0 = Math.floor(width * 0.55);
  const bx1 = Math.floor(width * 0.7);
  const by0 = Math.floor(height * 0.5);
  const by1 = Math.floor(height * 0.8);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r: number;
      let g: number;
      let b: number;
      const d1 = Math.hypot(x - c1x, y - c1y);
      const d2 = Math.hypot(x - c2x, y - c2y);
      if (d1 < r1) {
        // Lit from the top left: brighter towards the highlight.
        const shade = 1 - 0.45 * (Math.hypot(x - (c1x - r1 * 0.35), y - (c1y - r1 * 0.35)) / (r1 * 1.4));
        r = 215 * shade + 20;
        g = 40 * shade + 10;
        b = 35 * shade + 10;
      } else if (d2 < r2) {
        const shade = 1 - 0.3 * (d2 / r2);
        r = 30 * shade;
        g = 60 * shade + 10;
        b = 190 * shade + 20;
      } else if (x >= bx0 && x < bx1 && y >= by0 && y < by1) {
        const shade = 1 - (0.25 * (x - bx0)) / (bx1 - bx0);
        r = 235 * shade;
        g = 200 * shade;
        b = 40 * shade;
      } else if (y < horizon) {
        const t = y / horizon;
        r = 110 + 40 * t;
        g = 160 + 30 * t;
        b = 225 - 10 * t;
      } else {
        // Grass: coarse texture fixed to the ground plus a finer one.
        const tex = (hash3(x >> 2, y >> 2, 7) - 128) / 10 + (hash3(x, y, 11) - 128) / 24;
        r = 60 + tex;
        g = 135 + tex * 1.5;
        b = 50 + tex * 0.5;
      }
      const noise = (hash3(x, y, i * 31 + seed) - 128) / 64;
      const o = (y * width + x) * 3;
      d[o] = Math.max(0, Math.min(255, Math.round(r + noise)));
      d[o + 1] = Math.max(0, Math.min(255, Math.round(g + noise)));
      d[o + 2] = Math.max(0, Math.min(255, Math.round(b + noise)));
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
      const pic =
        options.pattern === 'scene' && !flashes.has(i)
          ? drawScenePattern(i, width, height, seed)
          : drawTestPattern(i, width, height, seed, flashes.has(i));
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

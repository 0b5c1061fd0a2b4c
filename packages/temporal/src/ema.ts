import {
  createFrame,
  type Frame,
  invalidRangeError,
  invalidTypeError,
  planeGeometry,
} from '@framecraft/core';
import { SceneCutDetector, type SceneCutOptions, type SceneCutState } from './scene-cut.ts';

/** Options of {@link EmaStabilizer.create}. */
export interface EmaOptions {
  /** Weight of the history, 0 (off) to 0.95; 0.6 by default. */
  readonly strength?: number;
  /**
   * Difference (code values) at which a pixel counts as moving and is no longer smoothed; the
   * history weight falls linearly from `strength` at 0 to 0 at this difference. 0 turns motion
   * adaptation off. 24 by default.
   */
  readonly motionThreshold?: number;
  /** Scene-cut reset; on by default. `false` turns it off. */
  readonly sceneCut?: SceneCutOptions | false;
}

/** Exported stabilizer state (structured-clone friendly: typed arrays and plain data). */
export interface EmaState {
  readonly width: number;
  readonly height: number;
  readonly format: Frame['format'];
  /** Per plane, the running average × 256 (fixed point). */
  readonly planes: readonly Int32Array[];
  readonly sceneCut: SceneCutState | null;
}

const SUPPORTED = new Set(['gray8', 'yuv420p', 'yuv422p', 'yuv444p', 'rgb24', 'rgba']);

/**
 * One plane of the EMA, kept as a standalone function so the JIT compiles one tight loop.
 * The accumulator holds value × 256 (fixed point); `w` holds new-frame weights in 1/256 steps.
 */
function emaPlane(
  sd: Uint8Array,
  sStride: number,
  dd: Uint8Array,
  dStride: number,
  acc: Int32Array,
  rowSamples: number,
  height: number,
  w: Int32Array,
  fresh: boolean,
): void {
  for (let y = 0; y < height; y++) {
    let si = y * sStride;
    let di = y * dStride;
    let ai = y * rowSamples;
    const end = ai + rowSamples;
    if (fresh) {
      for (; ai < end; ai++, si++, di++) {
        const x = sd[si]!;
        acc[ai] = x << 8;
        dd[di] = x;
      }
      continue;
    }
    for (; ai < end; ai++, si++, di++) {
      const e = acc[ai]!;
      const diff = (sd[si]! << 8) - e;
      const ad = diff < 0 ? -diff : diff;
      const v = e + ((w[ad >> 8]! * diff) >> 8);
      acc[ai] = v;
      dd[di] = (v + 128) >> 8;
    }
  }
}

/**
 * Exponential moving average over frames that smooths style noise on static areas without ghost
 * trails on moving ones (the history weight drops where a pixel changes a lot), and starts over
 * at scene cuts so one shot never bleeds into the next.
 *
 * @example
 * ```ts
 * const ema = EmaStabilizer.create({ strength: 0.7 })
 * for await (const frame of ema.transform(stylizedFrames)) await writer.write(frame)
 * ```
 */
export class EmaStabilizer {
  readonly strength: number;
  readonly motionThreshold: number;
  readonly #weights: Int32Array;
  readonly #cuts: SceneCutDetector | null;
  #state: EmaState | null = null;
  #out: Frame | null = null;
  /** True when the last processed frame was a scene cut (or the first frame). */
  lastWasReset = false;

  private constructor(strength: number, motionThreshold: number, cuts: SceneCutDetector | null) {
    this.strength = strength;
    this.motionThreshold = motionThreshold;
    this.#cuts = cuts;
    // Weight of the new frame (in 1/256 steps) for each absolute difference 0–255.
    this.#weights = new Int32Array(256);
    for (let d = 0; d < 256; d++) {
      const keep = motionThreshold > 0 ? strength * Math.max(0, 1 - d / motionThreshold) : strength;
      this.#weights[d] = Math.round((1 - keep) * 256);
    }
  }

  /**
   * Create a stabilizer.
   *
   * @param options - Strength, motion threshold, scene-cut settings.
   * @returns The stabilizer.
   * @throws {RangeError} For a strength outside [0, 0.95] or a negative motion threshold.
   */
  static create(options: EmaOptions = {}): EmaStabilizer {
    const strength = options.strength ?? 0.6;
    if (!(strength >= 0 && strength <= 0.95))
      throw invalidRangeError('a number in [0, 0.95]', 'options.strength', strength);
    const motion = options.motionThreshold ?? 24;
    if (!(motion >= 0)) throw invalidRangeError('a number >= 0', 'options.motionThreshold', motion);
    const cuts = options.sceneCut === false ? null : SceneCutDetector.create(options.sceneCut ?? {});
    return new EmaStabilizer(strength, motion, cuts);
  }

  /**
   * Smooth one frame.
   *
   * @param frame - gray8, 8-bit YUV, rgb24 or rgba.
   * @param out - A frame of the same size and format to write into; an internal one (valid
   *   until the next call) by default.
   * @returns The stabilized frame, with the input's timing.
   * @throws {TypeError} For unsupported formats.
   */
  process(frame: Frame, out?: Frame): Frame {
    if (!SUPPORTED.has(frame.format))
      throw invalidTypeError('a gray8, 8-bit YUV, rgb24 or rgba frame', 'frame.format', frame.format);
    const cut = this.#cuts?.process(frame) ?? false;
    const s = this.#state;
    const fresh =
      cut || s === null || s.width !== frame.width || s.height !== frame.height || s.format !== frame.format;
    let target = out;
    if (target === undefined) {
      const o = this.#out;
      if (o === null || o.width !== frame.width || o.height !== frame.height || o.format !== frame.format) {
        this.#out = createFrame({ width: frame.width, height: frame.height, format: frame.format });
      }
      target = this.#out!;
    }
    const geometry = planeGeometry(frame.format, frame.width, frame.height);
    if (fresh) {
      this.#state = {
        width: frame.width,
        height: frame.height,
        format: frame.format,
        planes: geometry.map((g) => new Int32Array(g.rowSamples * g.height)),
        sceneCut: null,
      };
    }
    const state = this.#state!;
    const w = this.#weights;
    for (let p = 0; p < geometry.length; p++) {
      const g = geometry[p]!;
      const src = frame.planes[p]!;
      const dst = target.planes[p]!;
      emaPlane(
        src.data as Uint8Array,
        src.stride,
        dst.data as Uint8Array,
        dst.stride,
        state.planes[p]!,
        g.rowSamples,
        g.height,
        w,
        fresh,
      );
    }
    this.lastWasReset = fresh;
    return {
      ...target,
      pts: frame.pts,
      timeBase: frame.timeBase,
      duration: frame.duration,
      color: frame.color,
    };
  }

  /**
   * Smooth a stream of frames; each output frame is valid until the next is requested.
   *
   * @param frames - The input frames.
   * @returns The stabilized frames.
   */
  async *transform(frames: AsyncIterable<Frame>): AsyncGenerator<Frame, void, undefined> {
    for await (const f of frames) yield this.process(f);
  }

  /** Start over (the next frame passes through unchanged). */
  reset(): void {
    this.#state = null;
    this.#cuts?.reset();
  }

  /**
   * Export the state, for a render that resumes or a chunk that starts from pre-rolled frames.
   *
   * @returns A copy of the state (null before the first frame).
   */
  exportState(): EmaState | null {
    const s = this.#state;
    if (s === null) return null;
    return { ...s, planes: s.planes.map((p) => p.slice()), sceneCut: this.#cuts?.exportState() ?? null };
  }

  /**
   * Continue from an exported state.
   *
   * @param state - From {@link EmaStabilizer.exportState}.
   */
  restoreState(state: EmaState | null): void {
    this.#state = state === null ? null : { ...state, planes: state.planes.map((p) => p.slice()) };
    if (state?.sceneCut && this.#cuts) this.#cuts.restoreState(state.sceneCut);
  }
}

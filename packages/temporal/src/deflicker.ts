import { createFrame, type Frame, invalidRangeError, invalidTypeError, withTimingOf } from '@framecraft/core';

/** Options of {@link Deflicker.create}. */
export interface DeflickerOptions {
  /** Frames in the moving mean of brightness (the idea of FFmpeg's `deflicker`); 5 by default. */
  readonly window?: number;
  /** Largest correction factor either way (1.2 = ±20 %), so real fades survive; 1.25 by default. */
  readonly maxGain?: number;
}

/** Exported deflicker state. */
export interface DeflickerState {
  readonly means: readonly number[];
}

/**
 * Global brightness correction: scales each frame's luma so its mean follows the moving mean of
 * the last N frames, removing frame-to-frame brightness pumping.
 */
export class Deflicker {
  readonly window: number;
  readonly maxGain: number;
  #means: number[] = [];
  #table = new Uint8Array(256);
  #out: Frame | null = null;
  /** Gain applied to the last frame. */
  lastGain = 1;

  private constructor(window: number, maxGain: number) {
    this.window = window;
    this.maxGain = maxGain;
  }

  /**
   * Create a deflicker filter.
   *
   * @param options - Window and gain limit.
   * @returns The filter.
   * @throws {RangeError} For a window below 2 or a gain limit below 1.
   */
  static create(options: DeflickerOptions = {}): Deflicker {
    const window = options.window ?? 5;
    if (!Number.isInteger(window) || window < 2 || window > 129)
      throw invalidRangeError('an integer in [2, 129]', 'options.window', window);
    const maxGain = options.maxGain ?? 1.25;
    if (!(maxGain >= 1)) throw invalidRangeError('a number >= 1', 'options.maxGain', maxGain);
    return new Deflicker(window, maxGain);
  }

  /**
   * Correct one frame.
   *
   * @param frame - gray8, 8-bit YUV (the Y plane is corrected, chroma copied) or rgb24 (all channels).
   * @param out - A frame of the same size and format (may be `frame`).
   * @returns The corrected frame.
   * @throws {TypeError} For other formats.
   */
  process(frame: Frame, out?: Frame): Frame {
    const f = frame.format;
    const yuv = f === 'yuv420p' || f === 'yuv422p' || f === 'yuv444p';
    if (!yuv && f !== 'gray8' && f !== 'rgb24')
      throw invalidTypeError('a gray8, 8-bit YUV or rgb24 frame', 'frame.format', f);
    const p = frame.planes[0]!;
    const d = p.data as Uint8Array;
    const cols = f === 'rgb24' ? frame.width * 3 : frame.width;
    // Mean over every second row is exact enough for a global gain and halves the cost.
    let sum = 0;
    let n = 0;
    for (let y = 0; y < frame.height; y += 2) {
      const row = y * p.stride;
      for (let x = 0; x < cols; x++) sum += d[row + x]!;
      n += cols;
    }
    const mean = sum / n;
    this.#means.push(mean);
    if (this.#means.length > this.window) this.#means.shift();
    const target = this.#means.reduce((s, v) => s + v, 0) / this.#means.length;
    let gain = mean > 0.5 ? target / mean : 1;
    gain = Math.min(this.maxGain, Math.max(1 / this.maxGain, gain));
    this.lastGain = gain;
    const t = this.#table;
    for (let v = 0; v < 256; v++) {
      const g = v * gain + 0.5;
      t[v] = g > 255 ? 255 : g;
    }
    let dst = out;
    if (dst === undefined) {
      const o = this.#out;
      if (o === null || o.width !== frame.width || o.height !== frame.height || o.format !== f) {
        this.#out = createFrame({ width: frame.width, height: frame.height, format: f });
      }
      dst = this.#out!;
    }
    const q = dst.planes[0]!;
    const dd = q.data as Uint8Array;
    for (let y = 0; y < frame.height; y++) {
      const si = y * p.stride;
      const di = y * q.stride;
      for (let x = 0; x < cols; x++) dd[di + x] = t[d[si + x]!]!;
    }
    if (yuv && dst !== frame) {
      for (let k = 1; k < 3; k++)
        dst.planes[k]!.data.set(frame.planes[k]!.data.subarray(0, dst.planes[k]!.data.length));
    }
    return withTimingOf(dst, frame, true);
  }

  /**
   * Correct a stream of frames; each output is valid until the next is requested.
   *
   * @param frames - Input frames.
   * @returns Corrected frames.
   */
  async *transform(frames: AsyncIterable<Frame>): AsyncGenerator<Frame, void, undefined> {
    for await (const f of frames) yield this.process(f);
  }

  /** Forget the brightness history. */
  reset(): void {
    this.#means = [];
  }

  /** @returns The brightness history. */
  exportState(): DeflickerState {
    return { means: [...this.#means] };
  }

  /** @param state - From {@link Deflicker.exportState}. */
  restoreState(state: DeflickerState): void {
    this.#means = [...state.means].slice(-this.window);
  }
}

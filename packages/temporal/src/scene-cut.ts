import { type Frame, invalidRangeError } from '@framecraft/core';

/** Options of {@link SceneCutDetector.create}. */
export interface SceneCutOptions {
  /**
   * Histogram distance (0–1, half the L1 distance of normalised 64-bin luma histograms) above
   * which two consecutive frames belong to different shots; 0.35 by default.
   */
  readonly threshold?: number;
  /** Frames after a cut during which no new cut is reported (flashes, fades); 4 by default. */
  readonly minGap?: number;
}

/** Exported detector state. */
export interface SceneCutState {
  readonly histogram: readonly number[] | null;
  readonly sinceCut: number;
}

const BINS = 64;

/**
 * Sampling step for a frame's luma histogram: a grid of at least 64k points is plenty — every 4th
 * row and column from 1080p up, every 2nd below, every pixel in small frames.
 *
 * @param width - Frame width.
 * @param height - Frame height.
 * @returns 4, 2 or 1.
 */
export function histogramStep(width: number, height: number): number {
  return (width >> 2) * (height >> 2) >= 65536 ? 4 : (width >> 1) * (height >> 1) >= 16384 ? 2 : 1;
}

/**
 * Normalised 64-bin histogram of a frame's luma (gray8 or the Y plane of YUV; rgb24 via BT.601).
 *
 * @param frame - The frame.
 * @param out - 64 entries to reuse.
 * @returns The histogram, summing to 1.
 */
export function lumaHistogram(frame: Frame, out: Float64Array = new Float64Array(BINS)): Float64Array {
  out.fill(0);
  const p = frame.planes[0]!;
  const d = p.data as Uint8Array;
  const { width, height } = frame;
  const step = histogramStep(width, height);
  let n = 0;
  if (frame.format === 'rgb24') {
    for (let y = 0; y < height; y += step) {
      for (let x = 0, i = y * p.stride; x < width; x += step, i += 3 * step) {
        const l = (19595 * d[i]! + 38470 * d[i + 1]! + 7471 * d[i + 2]!) >> 16;
        out[l >> 2]! += 1;
        n++;
      }
    }
  } else {
    for (let y = 0; y < height; y += step) {
      for (let x = 0, i = y * p.stride; x < width; x += step, i += step) {
        out[d[i]! >> 2]! += 1;
        n++;
      }
    }
  }
  for (let k = 0; k < BINS; k++) out[k]! /= n;
  return out;
}

/**
 * Detects shot changes from luma histograms so temporal filters can reset instead of blending
 * one shot into the next.
 */
export class SceneCutDetector {
  readonly threshold: number;
  readonly minGap: number;
  #prev: Float64Array<ArrayBufferLike> | null = null;
  #cur: Float64Array<ArrayBufferLike> = new Float64Array(BINS);
  #sinceCut = Number.MAX_SAFE_INTEGER;
  /** Histogram distance of the last frame to its predecessor (0 for the first frame). */
  lastDistance = 0;

  /**
   * The last processed frame's 64-bin luma histogram (null before the first frame); valid until the
   * next `process`, which reuses the buffer.
   */
  get lastHistogram(): Float64Array | null {
    return this.#prev as Float64Array | null;
  }

  private constructor(threshold: number, minGap: number) {
    this.threshold = threshold;
    this.minGap = minGap;
  }

  /**
   * Create a detector.
   *
   * @param options - Threshold and minimum gap.
   * @returns The detector.
   * @throws {RangeError} For a threshold outside (0, 1] or a negative gap.
   */
  static create(options: SceneCutOptions = {}): SceneCutDetector {
    const threshold = options.threshold ?? 0.35;
    if (!(threshold > 0 && threshold <= 1))
      throw invalidRangeError('a number in (0, 1]', 'options.threshold', threshold);
    const minGap = options.minGap ?? 4;
    if (!Number.isInteger(minGap) || minGap < 0)
      throw invalidRangeError('an integer >= 0', 'options.minGap', minGap);
    return new SceneCutDetector(threshold, minGap);
  }

  /**
   * Look at the next frame.
   *
   * @param frame - gray8, 8-bit YUV or rgb24.
   * @returns True when this frame starts a new shot (never for the first frame).
   */
  process(frame: Frame): boolean {
    const h = lumaHistogram(frame, this.#cur);
    let cut = false;
    if (this.#prev !== null) {
      let dist = 0;
      for (let k = 0; k < BINS; k++) dist += Math.abs(h[k]! - this.#prev[k]!);
      this.lastDistance = dist / 2;
      cut = this.lastDistance > this.threshold && this.#sinceCut >= this.minGap;
    }
    this.#sinceCut = cut ? 0 : this.#sinceCut + 1;
    // Swap buffers: the current histogram becomes the previous one.
    const prev = this.#prev ?? new Float64Array(BINS);
    this.#prev = h;
    this.#cur = prev;
    return cut;
  }

  /** Forget the previous frame. */
  reset(): void {
    this.#prev = null;
    this.#sinceCut = Number.MAX_SAFE_INTEGER;
    this.lastDistance = 0;
  }

  /** @returns State to restore later (plain data). */
  exportState(): SceneCutState {
    return { histogram: this.#prev ? Array.from(this.#prev) : null, sinceCut: this.#sinceCut };
  }

  /** @param state - From {@link SceneCutDetector.exportState}. */
  restoreState(state: SceneCutState): void {
    this.#prev = state.histogram ? Float64Array.from(state.histogram) : null;
    this.#sinceCut = state.sinceCut;
  }
}

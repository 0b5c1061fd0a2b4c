import { createFrame, type Frame, invalidRangeError, invalidTypeError, withTimingOf } from '@framecraft/core';

/** Options of {@link EdgeStabilizer.create}. */
export interface EdgeStabilizerOptions {
  /** History weight of the running edge strength, 0–0.95; 0.5 by default. */
  readonly strength?: number;
  /** A pixel becomes an edge when its running strength rises above this (0–255); 160 by default. */
  readonly high?: number;
  /** An edge pixel stays an edge until its running strength falls below this; 80 by default. */
  readonly low?: number;
  /** Output soft maps (the running strength) instead of binary 0/255 maps; false by default. */
  readonly soft?: boolean;
}

/** Exported state. */
export interface EdgeStabilizerState {
  readonly width: number;
  readonly height: number;
  readonly strength: Float32Array;
  readonly on: Uint8Array;
}

/**
 * Smooths binary or soft edge maps (gray8, 0 = none, 255 = edge) over time with hysteresis, so
 * outlines that flicker on and off between frames hold steady while real changes still come
 * through after a frame or two.
 */
export class EdgeStabilizer {
  readonly strength: number;
  readonly high: number;
  readonly low: number;
  readonly soft: boolean;
  #state: EdgeStabilizerState | null = null;
  #out: Frame | null = null;

  private constructor(o: Required<EdgeStabilizerOptions>) {
    this.strength = o.strength;
    this.high = o.high;
    this.low = o.low;
    this.soft = o.soft;
  }

  /**
   * Create a stabilizer.
   *
   * @param options - History weight, hysteresis thresholds, soft output.
   * @returns The stabilizer.
   * @throws {RangeError} For `low` above `high` or values out of range.
   */
  static create(options: EdgeStabilizerOptions = {}): EdgeStabilizer {
    const o = { strength: 0.5, high: 160, low: 80, soft: false, ...options };
    if (!(o.strength >= 0 && o.strength <= 0.95))
      throw invalidRangeError('a number in [0, 0.95]', 'options.strength', o.strength);
    if (!(o.low >= 0 && o.high <= 255 && o.low <= o.high)) {
      throw invalidRangeError('0 <= low <= high <= 255', 'options.low/high', `${o.low}/${o.high}`);
    }
    return new EdgeStabilizer(o);
  }

  /**
   * Stabilize one edge map.
   *
   * @param frame - A gray8 edge map.
   * @param out - A gray8 frame of the same size.
   * @returns The stabilized map.
   * @throws {TypeError} For a frame that is not gray8.
   */
  process(frame: Frame, out?: Frame): Frame {
    if (frame.format !== 'gray8') throw invalidTypeError('a gray8 edge map', 'frame.format', frame.format);
    const { width, height } = frame;
    let s = this.#state;
    const fresh = s === null || s.width !== width || s.height !== height;
    if (fresh) {
      s = { width, height, strength: new Float32Array(width * height), on: new Uint8Array(width * height) };
      this.#state = s;
    }
    let dst = out;
    if (dst === undefined) {
      if (this.#out?.width !== width || this.#out.height !== height)
        this.#out = createFrame({ width, height, format: 'gray8' });
      dst = this.#out;
    }
    const src = frame.planes[0]!;
    const q = dst.planes[0]!;
    const sd = src.data as Uint8Array;
    const dd = q.data as Uint8Array;
    const acc = s!.strength;
    const on = s!.on;
    const keep = fresh ? 0 : this.strength;
    for (let y = 0; y < height; y++) {
      let si = y * src.stride;
      let di = y * q.stride;
      let i = y * width;
      for (let x = 0; x < width; x++, si++, di++, i++) {
        const v = acc[i]! * keep + sd[si]! * (1 - keep);
        acc[i] = v;
        const isOn = on[i] === 1 ? v >= this.low : v > this.high;
        on[i] = isOn ? 1 : 0;
        dd[di] = this.soft ? (isOn ? v + 0.5 : 0) : isOn ? 255 : 0;
      }
    }
    return withTimingOf(dst, frame);
  }

  /**
   * Stabilize a stream of edge maps.
   *
   * @param frames - gray8 edge maps.
   * @returns Stabilized maps, each valid until the next is requested.
   */
  async *transform(frames: AsyncIterable<Frame>): AsyncGenerator<Frame, void, undefined> {
    for await (const f of frames) yield this.process(f);
  }

  /** @returns A copy of the state, or null before the first frame. */
  exportState(): EdgeStabilizerState | null {
    const s = this.#state;
    return s === null ? null : { ...s, strength: s.strength.slice(), on: s.on.slice() };
  }

  /** @param state - From {@link EdgeStabilizer.exportState}. */
  restoreState(state: EdgeStabilizerState | null): void {
    this.#state =
      state === null ? null : { ...state, strength: state.strength.slice(), on: state.on.slice() };
  }
}

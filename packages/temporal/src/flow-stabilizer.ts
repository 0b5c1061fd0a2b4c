import {
  cloneFrame,
  createFrame,
  type Frame,
  invalidRangeError,
  invalidTypeError,
  pixelFormatInfo,
  planeGeometry,
  withTimingOf,
} from '@framecraft/core';
import {
  consistencyMask,
  DisFlow,
  type DisPreset,
  type FlowImage,
  frameLuma,
  warpFrame,
  warpPlane,
} from '@framecraft/flow';
import { SceneCutDetector, type SceneCutOptions, type SceneCutState } from './scene-cut.ts';

/** Options of {@link FlowStabilizer.create}. */
export interface FlowStabilizerOptions {
  /** Weight of the motion-compensated history where the warp is reliable, 0 to 0.98; 0.85 by default. */
  readonly strength?: number;
  /**
   * Luma difference (code values) between the input frame and the previous input warped onto it
   * at which a pixel takes the new stylized frame only: the history weight falls linearly from
   * `strength` at 0 to 0 here, so lighting and content changes come through. 20 by default.
   */
  readonly errorThreshold?: number;
  /**
   * Frames any output depends on at most (an even number, 4–240; 24 by default). Two histories
   * restart in turn every `history / 2` frames at fixed frame numbers and are cross-faded, so a
   * render that starts `history` frames early (chunk pre-roll) gives exactly the frames of one
   * that ran from the start.
   */
  readonly history?: number;
  /**
   * Mean difference (code values, over a 9×9 neighbourhood, largest channel per pixel) between the
   * warped history and the new stylized frame at which a reliable region keeps its history whole
   * instead of blending (the weight rises from half of it): the network painted a different
   * texture there, and averaging two textures washes both out (measured on car-detection, neural:
   * the variance of the Laplacian fell to 0.52× of the per-frame style with blending alone; 0.94×
   * with this and the dissolve between histories). 32 by default; 255 turns it off.
   */
  readonly persistence?: number;
  /** Optical flow preset (`fast` by default). */
  readonly preset?: DisPreset;
  /**
   * Scene-cut reset; on by default, with `minGap` 0 (each cut decided from its two frames alone,
   * which keeps pre-roll exact). `false` turns it off.
   */
  readonly sceneCut?: SceneCutOptions | false;
}

/** Exported state (structured-clone friendly). */
export interface FlowStabilizerState {
  readonly index: number;
  readonly input: { readonly width: number; readonly height: number; readonly luma: Uint8Array };
  readonly chains: readonly [Frame, Frame];
  readonly sceneCut: SceneCutState | null;
}

/** Radius (pixels) of the box filter that feathers the history weights. */
const FEATHER = 1;
/** Radius (pixels) of the neighbourhood whose mean difference decides whether history persists. */
const REGION = 4;

const STYLED_FORMATS = new Set(['gray8', 'yuv420p', 'yuv422p', 'yuv444p', 'rgb24', 'rgba']);

/** Copy a frame's samples into another of the same geometry. */
function copyInto(src: Frame, dst: Frame): void {
  for (const [p, plane] of src.planes.entries()) {
    const d = dst.planes[p]!;
    if (plane.stride === d.stride) d.data.set(plane.data.subarray(0, d.data.length));
    else {
      const g = planeGeometry(src.format, src.width, src.height)[p]!;
      for (let y = 0; y < g.height; y++)
        d.data.set(plane.data.subarray(y * plane.stride, y * plane.stride + g.rowSamples), y * d.stride);
    }
  }
}

/** Sample offsets of a luma pixel's samples: per plane, the first sample index for pixel (x, y). */
function sampleAt(
  info: ReturnType<typeof pixelFormatInfo>,
  p: number,
  x: number,
  y: number,
  stride: number,
): number {
  const sx = info.yuv && p > 0 ? info.chromaShiftX : 0;
  const sy = info.yuv && p > 0 ? info.chromaShiftY : 0;
  return (y >> sy) * stride + (x >> sx) * info.components;
}

/**
 * Largest difference between two frames over a luma pixel's samples (every channel, and for YUV
 * the chroma of the pixel's block), written per luma pixel into `out`.
 */
function pixelDifference(a: Frame, b: Frame, out: Float32Array): void {
  const info = pixelFormatInfo(a.format);
  const c = info.components;
  const { width: w, height: h } = a;
  out.fill(0);
  for (let p = 0; p < a.planes.length; p++) {
    const A = a.planes[p]!;
    const B = b.planes[p]!;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = sampleAt(info, p, x, y, A.stride);
        const k = sampleAt(info, p, x, y, B.stride);
        let m = out[y * w + x]!;
        for (let j = 0; j < c; j++) {
          const d = A.data[i + j]! - B.data[k + j]!;
          const ad = d < 0 ? -d : d;
          if (ad > m) m = ad;
        }
        out[y * w + x] = m;
      }
    }
  }
}

/** Separable box blur of radius `r` (edges clamped), in place, with `tmp` of the same length. */
function boxBlur(data: Float32Array, w: number, h: number, r: number, tmp: Float32Array): void {
  const inv = 1 / (2 * r + 1);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let sum = 0;
    for (let k = -r; k <= r; k++) sum += data[row + Math.min(w - 1, Math.max(0, k))]!;
    for (let x = 0; x < w; x++) {
      tmp[row + x] = sum * inv;
      sum += data[row + Math.min(w - 1, x + r + 1)]! - data[row + Math.max(0, x - r)]!;
    }
  }
  for (let x = 0; x < w; x++) {
    let sum = 0;
    for (let k = -r; k <= r; k++) sum += tmp[Math.min(h - 1, Math.max(0, k)) * w + x]!;
    for (let y = 0; y < h; y++) {
      data[y * w + x] = sum * inv;
      sum += tmp[Math.min(h - 1, y + r + 1) * w + x]! - tmp[Math.max(0, y - r) * w + x]!;
    }
  }
}

/** Cell size (pixels) of the dissolve's noise field. */
const DISSOLVE_CELL = 24;

/**
 * A smooth fixed noise field in [0.125, 0.875] (value noise on a DISSOLVE_CELL grid, ranked so its
 * values are spread evenly): where each pixel's cross-fade happens.
 */
function dissolveField(w: number, h: number): Float32Array<ArrayBuffer> {
  const gw = Math.ceil(w / DISSOLVE_CELL) + 2;
  const gh = Math.ceil(h / DISSOLVE_CELL) + 2;
  const grid = new Float32Array(gw * gh);
  for (let i = 0; i < grid.length; i++) {
    let x = Math.imul(i + 1, 0x9e3779b1) >>> 0;
    x = Math.imul(x ^ (x >>> 15), 0x85ebca6b) >>> 0;
    x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
    grid[i] = ((x ^ (x >>> 16)) >>> 0) / 4294967296;
  }
  const field = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const gy = y / DISSOLVE_CELL;
    const iy = Math.floor(gy);
    const ty = gy - iy;
    const sy = ty * ty * (3 - 2 * ty);
    for (let x = 0; x < w; x++) {
      const gx = x / DISSOLVE_CELL;
      const ix = Math.floor(gx);
      const tx = gx - ix;
      const sx = tx * tx * (3 - 2 * tx);
      const a = grid[iy * gw + ix]! + sx * (grid[iy * gw + ix + 1]! - grid[iy * gw + ix]!);
      const b = grid[(iy + 1) * gw + ix]! + sx * (grid[(iy + 1) * gw + ix + 1]! - grid[(iy + 1) * gw + ix]!);
      field[y * w + x] = a + sy * (b - a);
    }
  }
  // Equalize the values (a 4096-bin histogram) so that every part of the fade moves the same
  // share of the frame.
  const bins = new Uint32Array(4096);
  for (const v of field) bins[Math.min(4095, Math.floor(v * 4096))]!++;
  for (let b = 1; b < 4096; b++) bins[b]! += bins[b - 1]!;
  for (let i = 0; i < field.length; i++)
    field[i] = 0.125 + (0.75 * bins[Math.min(4095, Math.floor(field[i]! * 4096))]!) / field.length;
  return field;
}

/**
 * out = w·a + (1 − w)·b per sample, with w per luma pixel from `weights` (a subsampled chroma
 * sample takes the weight of its block's first pixel) or, when `weights` is null, the constant `k`.
 */
function blend(a: Frame, b: Frame, weights: Float32Array | null, k: number, out: Frame): void {
  const info = pixelFormatInfo(a.format);
  const geometry = planeGeometry(a.format, a.width, a.height);
  const c = info.components;
  for (let p = 0; p < geometry.length; p++) {
    const g = geometry[p]!;
    const sx = info.yuv && p > 0 ? info.chromaShiftX : 0;
    const sy = info.yuv && p > 0 ? info.chromaShiftY : 0;
    const A = a.planes[p]!;
    const B = b.planes[p]!;
    const O = out.planes[p]!;
    for (let y = 0; y < g.height; y++) {
      const wrow = (y << sy) * a.width;
      for (let x = 0; x < g.width; x++) {
        const w = weights === null ? k : weights[wrow + (x << sx)]!;
        for (let j = 0; j < c; j++) {
          const i = x * c + j;
          const vb = B.data[y * B.stride + i]!;
          O.data[y * O.stride + i] = Math.round(vb + w * (A.data[y * A.stride + i]! - vb));
        }
      }
    }
  }
}

/**
 * Temporal coherence that follows motion (after Ruder et al. 2016 and Lai et al. 2018): the
 * previous output is warped along the optical flow of the *input* frames onto the current one and
 * kept where the warp is reliable — out_t = w·warp(out_t−1) + (1 − w)·styled_t — while occluded
 * and disoccluded pixels (forward–backward check) and pixels whose input really changed (the
 * warped previous input does not match) take the new stylized frame. Unlike a plain EMA, textures
 * move with the content instead of being averaged with what was there before (no double
 * exposure). Memory is finite (see {@link FlowStabilizerOptions.history}) and scene cuts start over.
 *
 * @example
 * ```ts
 * const stab = FlowStabilizer.create({ strength: 0.85 })
 * let i = 0
 * for await (const frame of reader.frames()) {
 *   const styled = await style.process(frame)
 *   await writer.write(stab.process(frame, styled, i++))
 * }
 * ```
 */
export class FlowStabilizer {
  readonly strength: number;
  readonly errorThreshold: number;
  readonly history: number;
  readonly persistence: number;
  readonly #dis: DisFlow;
  readonly #cuts: SceneCutDetector | null;
  #index = -2;
  #prev: FlowImage | null = null;
  #spare: FlowImage | undefined = undefined;
  #prevLuma: Uint8Array | null = null;
  #lumaScratch: Uint8Array | undefined = undefined;
  #chains: [Frame, Frame] | null = null;
  #warped: Frame | null = null;
  #out: Frame | null = null;
  #back = new Float32Array(0);
  #fwd = new Float32Array(0);
  #mask = new Uint8Array(0);
  #snap = new Float32Array(0);
  #weights = new Float32Array(0);
  #effective = new Float32Array(0);
  #tau = new Float32Array(0);
  #scratch = new Float32Array(0);
  #warpedLuma = new Float64Array(0);
  /** True when the last frame started over (first frame, scene cut, a gap in frame numbers). */
  lastWasReset = false;
  /** Share of the last frame's pixels that kept history (0–1), for logs and tests. */
  lastReliable = 0;

  private constructor(
    o: Required<Omit<FlowStabilizerOptions, 'sceneCut' | 'preset'>>,
    dis: DisFlow,
    cuts: SceneCutDetector | null,
  ) {
    this.strength = o.strength;
    this.errorThreshold = o.errorThreshold;
    this.history = o.history;
    this.persistence = o.persistence;
    this.#dis = dis;
    this.#cuts = cuts;
  }

  /**
   * Create a stabilizer.
   *
   * @param options - Strength, error threshold, history length, flow preset, scene cuts.
   * @returns The stabilizer.
   * @throws {RangeError} For options out of range.
   */
  static create(options: FlowStabilizerOptions = {}): FlowStabilizer {
    const strength = options.strength ?? 0.85;
    if (!(strength >= 0 && strength <= 0.98))
      throw invalidRangeError('a number in [0, 0.98]', 'options.strength', strength);
    const errorThreshold = options.errorThreshold ?? 20;
    if (!(errorThreshold > 0 && errorThreshold <= 255))
      throw invalidRangeError('a number in (0, 255]', 'options.errorThreshold', errorThreshold);
    const history = options.history ?? 24;
    if (!Number.isInteger(history) || history < 4 || history > 240 || history % 2 !== 0)
      throw invalidRangeError('an even whole number in [4, 240]', 'options.history', history);
    const persistence = options.persistence ?? 32;
    if (!(persistence >= 0 && persistence <= 255))
      throw invalidRangeError('a number in [0, 255]', 'options.persistence', persistence);
    const dis = DisFlow.create({ preset: options.preset ?? 'fast' });
    // Cuts are decided from each pair of frames alone (minGap 0 unless asked): a minimum gap makes
    // a decision depend on earlier cuts, without bound, and pre-roll could then not be exact.
    const cuts =
      options.sceneCut === false ? null : SceneCutDetector.create({ minGap: 0, ...options.sceneCut });
    return new FlowStabilizer({ strength, errorThreshold, history, persistence }, dis, cuts);
  }

  /**
   * Stabilize one stylized frame.
   *
   * @param input - The source frame it was stylized from (gray8, 8-bit YUV, rgb24 or rgba).
   * @param styled - The stylized frame (gray8, 8-bit YUV, rgb24 or rgba), same size.
   * @param index - The frame's number in the video: the histories restart at fixed numbers, and a
   *   number that does not follow the previous one starts over.
   * @param out - A frame of the styled frame's size and format to write into; an internal one
   *   (valid until the next call) by default.
   * @returns The stabilized frame, with the styled frame's timing.
   * @throws {TypeError} For unsupported formats.
   * @throws {RangeError} When input and styled frame differ in size, or for a negative index.
   */
  process(input: Frame, styled: Frame, index: number, out?: Frame): Frame {
    if (!STYLED_FORMATS.has(styled.format))
      throw invalidTypeError('a gray8, 8-bit YUV, rgb24 or rgba frame', 'styled.format', styled.format);
    if (input.width !== styled.width || input.height !== styled.height)
      throw invalidRangeError(
        `a ${input.width}x${input.height} stylized frame (the input's size)`,
        'styled',
        `${styled.width}x${styled.height}`,
      );
    if (!Number.isInteger(index) || index < 0) throw invalidRangeError('a whole number >= 0', 'index', index);
    const { width: w, height: h } = input;
    const n = w * h;
    const luma = frameLuma(input, this.#lumaScratch);
    if (luma.data !== input.planes[0]!.data) this.#lumaScratch = luma.data;
    const cut = this.#cuts?.process(input) ?? false;
    const cur = this.#dis.prepare(luma, this.#spare);
    const chains = this.#chains;
    const sameGeometry =
      chains !== null &&
      chains[0].width === w &&
      chains[0].height === h &&
      chains[0].format === styled.format;
    const fresh = cut || this.#prev === null || !sameGeometry || index !== this.#index + 1;
    let target = out;
    if (target === undefined) {
      const o = this.#out;
      if (o === null || o.width !== w || o.height !== h || o.format !== styled.format)
        this.#out = createFrame({ width: w, height: h, format: styled.format });
      target = this.#out!;
    }
    if (fresh) {
      // A scene cut in a video of one size reuses the histories' frames.
      if (sameGeometry) for (const chain of chains!) copyInto(styled, chain);
      else {
        this.#chains = [cloneFrame(styled), cloneFrame(styled)];
        this.#warped = createFrame({ width: w, height: h, format: styled.format });
      }
      copyInto(styled, target);
      this.lastReliable = 0;
    } else {
      if (this.#back.length !== 2 * n) {
        this.#back = new Float32Array(2 * n);
        this.#fwd = new Float32Array(2 * n);
        this.#mask = new Uint8Array(n);
        this.#weights = new Float32Array(n);
        this.#effective = new Float32Array(n);
        this.#scratch = new Float32Array(n);
      }
      const prev = this.#prev!;
      this.#dis.calc(cur, prev, this.#back);
      this.#dis.calc(prev, cur, this.#fwd);
      consistencyMask(this.#back, this.#fwd, w, h, this.#mask);
      this.lastReliable = this.#historyWeights(luma.data, luma.stride ?? w, w, h);
      const half = this.history / 2;
      // The history moves by whole pixels: bilinear resampling every frame would blur it a little
      // more each time (on car-detection, with bilinear history the variance of the Laplacian
      // was 0.36× the per-frame style's; whole pixels: 0.52×, and 0.94× with `persistence`).
      if (this.#snap.length !== 2 * n) this.#snap = new Float32Array(2 * n);
      const snap = this.#snap;
      for (let i = 0; i < 2 * n; i++) snap[i] = Math.round(this.#back[i]!);
      for (let c = 0; c < 2; c++) {
        const chain = chains![c]!;
        // Chain c restarts at frames c·half, c·half + history, …: fixed numbers, wherever a chunk starts.
        if ((index - c * half) % this.history === 0) copyInto(styled, chain);
        else {
          warpFrame(chain, snap, this.#warped!);
          const effective = this.#chainWeights(this.#warped!, styled);
          blend(this.#warped!, styled, effective, 0, chain);
        }
      }
      // Cross-fade: each chain weighs min(age, history − age) / half, so the two weights sum to 1
      // and a chain is faded out before it restarts and faded in as it matures.
      const age = index % this.history;
      const kA = Math.min(age, this.history - age) / half;
      blend(chains![0], chains![1], this.#dissolve(kA, w, h), 0, target);
    }
    this.#spare = this.#prev ?? undefined;
    this.#prev = cur;
    if (this.#prevLuma === null || this.#prevLuma.length !== n) this.#prevLuma = new Uint8Array(n);
    const stride = luma.stride ?? w;
    for (let y = 0; y < h; y++) this.#prevLuma.set(luma.data.subarray(y * stride, y * stride + w), y * w);
    this.#index = index;
    this.lastWasReset = fresh;
    return withTimingOf(target, styled, true);
  }

  /**
   * Per-pixel history weight: `strength` where the forward–backward check passes, falling to 0 as
   * the current luma departs from the previous luma warped onto it. Returns the share kept.
   */
  #historyWeights(cur: Uint8Array, stride: number, w: number, h: number): number {
    if (this.#warpedLuma.length !== w * h) this.#warpedLuma = new Float64Array(w * h);
    const warped = warpPlane({ data: this.#prevLuma!, width: w, height: h }, this.#back, this.#warpedLuma);
    const mask = this.#mask;
    const weights = this.#weights;
    const inv = 1 / this.errorThreshold;
    const s = this.strength;
    let kept = 0;
    for (let y = 0, o = 0; y < h; y++) {
      for (let x = 0; x < w; x++, o++) {
        const d = cur[y * stride + x]! - warped[o]!;
        const f = 1 - (d < 0 ? -d : d) * inv;
        const wt = mask[o] !== 0 && f > 0 ? s * f : 0;
        weights[o] = wt;
        if (wt > 0) kept++;
      }
    }
    return kept / (w * h);
  }

  /**
   * The cross-fade as a dissolve: each region of the frame passes from one history to the other
   * over about a quarter of the fade, at a moment set by a smooth fixed noise field, instead of the
   * whole frame being a blend of two textures half-way through (a double exposure on every frame
   * of the fade). The weights depend only on `k` and the position, so pre-roll stays exact.
   */
  #dissolve(k: number, w: number, h: number): Float32Array {
    if (this.#tau.length !== w * h) this.#tau = dissolveField(w, h);
    const tau = this.#tau;
    const out = this.#effective;
    for (let i = 0; i < w * h; i++) {
      const v = (k - tau[i]!) * 4 + 0.5;
      out[i] = v <= 0 ? 0 : v >= 1 ? 1 : v;
    }
    return out;
  }

  /**
   * One history's weight per pixel: the frame's history weight, raised towards 1 where the warped
   * history and the new style disagree by more than half of `persistence` (reaching 1 at
   * `persistence`: two different textures, which a blend would show as a double exposure), then
   * feathered so that where history ends and new style begins has no hard edge. The decision is
   * per pixel over all its channels: deciding per channel mixes the colours of two textures.
   */
  #chainWeights(warped: Frame, styled: Frame): Float32Array {
    const { width: w, height: h } = warped;
    const weights = this.#weights;
    const eff = this.#effective;
    const persist = this.persistence;
    if (persist >= 255) eff.set(weights);
    else {
      pixelDifference(warped, styled, eff);
      boxBlur(eff, w, h, REGION, this.#scratch);
      const lo = persist / 2;
      const span = persist - lo;
      for (let i = 0; i < w * h; i++) {
        const wt = weights[i]!;
        if (wt === 0) {
          eff[i] = 0;
          continue;
        }
        const t = span > 0 ? (eff[i]! - lo) / span : eff[i]! > lo ? 1 : 0;
        const p = t <= 0 ? 0 : t >= 1 ? 1 : t * t * (3 - 2 * t);
        eff[i] = wt + (1 - wt) * p;
      }
    }
    boxBlur(eff, w, h, FEATHER, this.#scratch);
    return eff;
  }

  /**
   * Stabilize a stream of (input, stylized) pairs numbered from `first`; each output frame is
   * valid until the next is requested.
   *
   * @param pairs - The source frames with their stylized versions.
   * @param first - The number of the first frame.
   * @returns The stabilized frames.
   */
  async *transform(
    pairs: AsyncIterable<readonly [Frame, Frame]>,
    first = 0,
  ): AsyncGenerator<Frame, void, undefined> {
    let i = first;
    for await (const [input, styled] of pairs) yield this.process(input, styled, i++);
  }

  /** Start over (the next frame passes through unchanged). */
  reset(): void {
    this.#prev = null;
    this.#chains = null;
    this.#index = -2;
    this.#cuts?.reset();
  }

  /**
   * Export the state, for a render that resumes mid-chunk.
   *
   * @returns A copy of the state (null before the first frame).
   */
  exportState(): FlowStabilizerState | null {
    if (this.#chains === null || this.#prevLuma === null || this.#prev === null) return null;
    return {
      index: this.#index,
      input: { width: this.#prev.width, height: this.#prev.height, luma: this.#prevLuma.slice() },
      chains: [cloneFrame(this.#chains[0]), cloneFrame(this.#chains[1])],
      sceneCut: this.#cuts?.exportState() ?? null,
    };
  }

  /**
   * Continue from an exported state: the next frame must be number `state.index + 1`.
   *
   * @param state - From {@link FlowStabilizer.exportState}.
   */
  restoreState(state: FlowStabilizerState | null): void {
    this.reset();
    if (state === null) return;
    const { width, height, luma } = state.input;
    this.#prevLuma = luma.slice();
    this.#prev = this.#dis.prepare({ data: this.#prevLuma, width, height });
    this.#chains = [cloneFrame(state.chains[0]), cloneFrame(state.chains[1])];
    this.#warped = createFrame({ width, height, format: state.chains[0].format });
    this.#index = state.index;
    if (state.sceneCut && this.#cuts) this.#cuts.restoreState(state.sceneCut);
  }
}

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

/** Where each pixel of a history comes from. */
export interface HistorySource {
  readonly frameNo: Int32Array;
  readonly coord: Float32Array;
}

/** A history: its sources and the frame drawn from them (blended with the new style). */
interface Chain extends HistorySource {
  readonly frameNo: Int32Array;
  readonly coord: Float32Array;
  readonly view: Frame;
}

function restartChain(chain: HistorySource, index: number, w: number, h: number): void {
  chain.frameNo.fill(index);
  for (let y = 0, i = 0; y < h; y++) {
    for (let x = 0; x < w; x++, i++) {
      chain.coord[2 * i] = x;
      chain.coord[2 * i + 1] = y;
    }
  }
}

/** Exported state (structured-clone friendly). */
export interface FlowStabilizerState {
  readonly index: number;
  readonly input: { readonly width: number; readonly height: number };
  /** The input luma of the frames in `ring`, tight rows. */
  readonly ringLuma: readonly Uint8Array[];
  /** The stylized frames the histories draw from, frame number n in slot n mod history. */
  readonly ring: readonly Frame[];
  /** Per history, each pixel's source frame number and position in it (interleaved x, y). */
  readonly chains: readonly [HistorySource, HistorySource];
  readonly sceneCut: SceneCutState | null;
}

/** Radius (pixels) of the box filter that feathers the history weights. */
const FEATHER = 1;
/** Radius (pixels) of the box filter over the flow the histories follow. */
const FLOW_SMOOTHING = 4;
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
 * Follow the backward flow one frame: each pixel x takes the source (stored frame number and
 * position in it) of the history pixel nearest to x + flow(x), moved by the remaining fraction.
 * Positions stay sub-pixel exact, and the history is resampled once, from the stylized frame it
 * came from, when it is drawn — never resampled again and again (repeated bicubic resampling
 * over 30 frames of a slow pan, rotation and zoom: the variance of the Laplacian fell to 0.31× of
 * the per-frame style; rounding the flow to whole pixels instead kept edges but let textures
 * slide 0.5 px a frame over the content, and tracking the remainder per pixel left jagged lines).
 */
function followFlow(
  frameNo: Int32Array,
  coord: Float32Array,
  flow: Float32Array,
  w: number,
  h: number,
  outFrameNo: Int32Array,
  outCoord: Float32Array,
): void {
  for (let y = 0, i = 0; y < h; y++) {
    for (let x = 0; x < w; x++, i++) {
      let px = x + flow[2 * i]!;
      let py = y + flow[2 * i + 1]!;
      px = px > 0 ? (px < w - 1 ? px : w - 1) : 0;
      py = py > 0 ? (py < h - 1 ? py : h - 1) : 0;
      const qx = Math.round(px);
      const qy = Math.round(py);
      const q = qy * w + qx;
      outFrameNo[i] = frameNo[q]!;
      outCoord[2 * i] = coord[2 * q]! + (px - qx);
      outCoord[2 * i + 1] = coord[2 * q + 1]! + (py - qy);
    }
  }
}

/** Catmull–Rom weights of the four taps around fraction t. */
function cubic(t: number, out: Float64Array): void {
  const t2 = t * t;
  const t3 = t2 * t;
  out[0] = 0.5 * (-t3 + 2 * t2 - t);
  out[1] = 0.5 * (3 * t3 - 5 * t2 + 2);
  out[2] = 0.5 * (-3 * t3 + 4 * t2 + t);
  out[3] = 0.5 * (t3 - t2);
}

const tapsX = new Float64Array(4);
const tapsY = new Float64Array(4);
const colsX = new Int32Array(4);

/**
 * Draw a history: each pixel sampled (Catmull–Rom bicubic, edges clamped) from the stored
 * stylized frame `ring[frameNo % ring.length]` at its position; chroma planes at their own scale.
 */
function drawHistory(ring: readonly Frame[], frameNo: Int32Array, coord: Float32Array, out: Frame): void {
  const info = pixelFormatInfo(out.format);
  const c = info.components;
  const w = out.width;
  const H = ring.length;
  for (const [p, g] of planeGeometry(out.format, out.width, out.height).entries()) {
    const sx = info.yuv && p > 0 ? info.chromaShiftX : 0;
    const sy = info.yuv && p > 0 ? info.chromaShiftY : 0;
    const O = out.planes[p]!;
    const maxX = g.width - 1;
    const maxY = g.height - 1;
    for (let y = 0; y < g.height; y++) {
      for (let x = 0; x < g.width; x++) {
        const i = (y << sy) * w + (x << sx);
        const S = ring[frameNo[i]! % H]!.planes[p]!;
        // The block's first luma pixel's position, at this plane's scale.
        let u = (coord[2 * i]! + 0.5) / (1 << sx) - 0.5;
        let v = (coord[2 * i + 1]! + 0.5) / (1 << sy) - 0.5;
        u = u > 0 ? (u < maxX ? u : maxX) : 0;
        v = v > 0 ? (v < maxY ? v : maxY) : 0;
        const x0 = Math.floor(u);
        const y0 = Math.floor(v);
        const fu = u - x0;
        const fv = v - y0;
        const o = y * O.stride + x * c;
        if (fu === 0 && fv === 0) {
          const si = y0 * S.stride + x0 * c;
          for (let j = 0; j < c; j++) O.data[o + j] = S.data[si + j]!;
          continue;
        }
        cubic(fu, tapsX);
        cubic(fv, tapsY);
        for (let k = 0; k < 4; k++) {
          const xi = x0 - 1 + k;
          colsX[k] = (xi < 0 ? 0 : xi > maxX ? maxX : xi) * c;
        }
        for (let j = 0; j < c; j++) {
          let acc = 0;
          for (let r = 0; r < 4; r++) {
            const yr = y0 - 1 + r;
            const row = (yr < 0 ? 0 : yr > maxY ? maxY : yr) * S.stride + j;
            acc +=
              tapsY[r]! *
              (tapsX[0]! * S.data[row + colsX[0]!]! +
                tapsX[1]! * S.data[row + colsX[1]!]! +
                tapsX[2]! * S.data[row + colsX[2]!]! +
                tapsX[3]! * S.data[row + colsX[3]!]!);
          }
          O.data[o + j] = acc <= 0 ? 0 : acc >= 255 ? 255 : (acc + 0.5) | 0;
        }
      }
    }
  }
}

/**
 * A flow averaged over a (2·FLOW_SMOOTHING + 1)² box, into `out` (may be `flow`). DIS's patch flow
 * is noisy in blocks on flat, noisy areas (a road under codec noise): followed frame after frame
 * that noise walked the history about, and its forward–backward check failed in blocks, so
 * rectangles of new style appeared in the old.
 */
function smoothFlow(
  flow: Float32Array,
  w: number,
  h: number,
  out: Float32Array,
  plane: Float32Array,
  scratch: Float32Array,
): Float32Array {
  const n = w * h;
  for (let k = 0; k < 2; k++) {
    for (let i = 0; i < n; i++) plane[i] = flow[2 * i + k]!;
    boxBlur(plane, w, h, FLOW_SMOOTHING, scratch);
    for (let i = 0; i < n; i++) out[2 * i + k] = plane[i]!;
  }
  return out;
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
  #lumaScratch: Uint8Array | undefined = undefined;
  #chains: [Chain, Chain] | null = null;
  #ring: Frame[] = [];
  #follow = new Float32Array(0);
  #flowPlane = new Float32Array(0);
  #ringLuma: Uint8Array[] = [];
  #nextFrameNo = new Int32Array(0);
  #nextCoord = new Float32Array(0);
  #warped: Frame | null = null;
  #out: Frame | null = null;
  #back = new Float32Array(0);
  #fwd = new Float32Array(0);
  #mask = new Uint8Array(0);
  #weights = new Float32Array(0);
  #effective = new Float32Array(0);
  #tau = new Float32Array(0);
  #scratch = new Float32Array(0);
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
      chains[0].view.width === w &&
      chains[0].view.height === h &&
      chains[0].view.format === styled.format;
    const fresh = cut || this.#prev === null || !sameGeometry || index !== this.#index + 1;
    let target = out;
    if (target === undefined) {
      const o = this.#out;
      if (o === null || o.width !== w || o.height !== h || o.format !== styled.format)
        this.#out = createFrame({ width: w, height: h, format: styled.format });
      target = this.#out!;
    }
    const H = this.history;
    if (!sameGeometry && fresh) this.#allocate(styled);
    // Slot index mod H held frame index − H, which no history reaches any more (each restarts
    // within H frames).
    copyInto(styled, this.#ring[index % H]!);
    const stride = luma.stride ?? w;
    const slot = this.#ringLuma[index % H]!;
    for (let y = 0; y < h; y++) slot.set(luma.data.subarray(y * stride, y * stride + w), y * w);
    if (fresh) {
      for (const chain of this.#chains!) {
        restartChain(chain, index, w, h);
        copyInto(styled, chain.view);
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
        this.#follow = new Float32Array(2 * n);
        this.#flowPlane = new Float32Array(n);
      }
      const prev = this.#prev!;
      this.#dis.calc(cur, prev, this.#back);
      this.#dis.calc(prev, cur, this.#fwd);
      const follow = smoothFlow(this.#back, w, h, this.#follow, this.#flowPlane, this.#scratch);
      smoothFlow(this.#fwd, w, h, this.#fwd, this.#flowPlane, this.#scratch);
      consistencyMask(follow, this.#fwd, w, h, this.#mask);
      const half = H / 2;
      const keepAt = 0.5 * this.strength;
      for (let c = 0; c < 2; c++) {
        const chain = chains![c]!;
        // Chain c restarts at frames c·half, c·half + history, …: fixed numbers, wherever a chunk starts.
        if ((index - c * half) % H === 0) {
          restartChain(chain, index, w, h);
          copyInto(styled, chain.view);
          continue;
        }
        followFlow(chain.frameNo, chain.coord, follow, w, h, this.#nextFrameNo, this.#nextCoord);
        this.lastReliable = this.#historyWeights(slot, w, h);
        drawHistory(this.#ring, this.#nextFrameNo, this.#nextCoord, this.#warped!);
        const effective = this.#chainWeights(this.#warped!, styled);
        blend(this.#warped!, styled, effective, 0, chain.view);
        // A pixel mostly kept follows its source; the rest start from this frame.
        for (let y = 0, i = 0; y < h; y++) {
          for (let x = 0; x < w; x++, i++) {
            const e = effective[i]!;
            if (e > 0 && e >= keepAt) {
              chain.frameNo[i] = this.#nextFrameNo[i]!;
              chain.coord[2 * i] = this.#nextCoord[2 * i]!;
              chain.coord[2 * i + 1] = this.#nextCoord[2 * i + 1]!;
            } else {
              chain.frameNo[i] = index;
              chain.coord[2 * i] = x;
              chain.coord[2 * i + 1] = y;
            }
          }
        }
      }
      // Cross-fade: each chain weighs min(age, history − age) / half, so the two weights sum to 1
      // and a chain is faded out before it restarts and faded in as it matures.
      const age = index % H;
      const kA = Math.min(age, H - age) / half;
      blend(chains![0].view, chains![1].view, this.#dissolve(kA, w, h), 0, target);
    }
    this.#spare = this.#prev ?? undefined;
    this.#prev = cur;
    this.#index = index;
    this.lastWasReset = fresh;
    return withTimingOf(target, styled, true);
  }

  /** Buffers for frames of the styled frame's geometry: the ring of stored frames, two histories. */
  #allocate(styled: Frame): void {
    const { width: w, height: h, format } = styled;
    const n = w * h;
    const frame = () => createFrame({ width: w, height: h, format });
    this.#ring = Array.from({ length: this.history }, frame);
    this.#ringLuma = Array.from({ length: this.history }, () => new Uint8Array(n));
    const chain = (): Chain => ({
      frameNo: new Int32Array(n),
      coord: new Float32Array(2 * n),
      view: frame(),
    });
    this.#chains = [chain(), chain()];
    this.#nextFrameNo = new Int32Array(n);
    this.#nextCoord = new Float32Array(2 * n);
    this.#warped = frame();
  }

  /**
   * Per-pixel weight of a history about to be drawn from `#nextFrameNo` / `#nextCoord`: `strength`
   * where the forward–backward check passes, falling to 0 as the current luma departs from the
   * input luma at the history's source (bilinear). Comparing with the source, not only with the
   * previous frame, catches flow errors that add up over frames (a grating whose motion is
   * ambiguous along its lines drifted 5 px in 16 frames with a one-frame check, by 0.5 px a frame
   * error each), as well as occlusions and lighting changes. Returns the share kept.
   */
  #historyWeights(cur: Uint8Array, w: number, h: number): number {
    const mask = this.#mask;
    const weights = this.#weights;
    const frameNo = this.#nextFrameNo;
    const coord = this.#nextCoord;
    const ring = this.#ringLuma;
    const H = ring.length;
    const inv = 1 / this.errorThreshold;
    const s = this.strength;
    let kept = 0;
    for (let i = 0; i < w * h; i++) {
      if (mask[i] === 0) {
        weights[i] = 0;
        continue;
      }
      const src = ring[frameNo[i]! % H]!;
      const u = coord[2 * i]!;
      const v = coord[2 * i + 1]!;
      const x0 = Math.floor(u);
      const y0 = Math.floor(v);
      const x1 = x0 < w - 1 ? x0 + 1 : x0;
      const y1 = y0 < h - 1 ? y0 + 1 : y0;
      const fu = u - x0;
      const fv = v - y0;
      const top = src[y0 * w + x0]! + fu * (src[y0 * w + x1]! - src[y0 * w + x0]!);
      const bot = src[y1 * w + x0]! + fu * (src[y1 * w + x1]! - src[y1 * w + x0]!);
      const d = cur[i]! - (top + fv * (bot - top));
      const f = 1 - (d < 0 ? -d : d) * inv;
      const wt = f > 0 ? s * f : 0;
      weights[i] = wt;
      if (wt > 0) kept++;
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
    if (this.#chains === null || this.#prev === null) return null;
    return {
      index: this.#index,
      input: { width: this.#prev.width, height: this.#prev.height },
      ringLuma: this.#ringLuma.map((l) => l.slice()),
      ring: this.#ring.map((f) => cloneFrame(f)),
      chains: [
        { frameNo: this.#chains[0].frameNo.slice(), coord: this.#chains[0].coord.slice() },
        { frameNo: this.#chains[1].frameNo.slice(), coord: this.#chains[1].coord.slice() },
      ],
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
    const { width, height } = state.input;
    if (state.ring.length !== this.history)
      throw invalidRangeError(
        `a state of a history of ${this.history}`,
        'state.ring',
        `${state.ring.length} frames`,
      );
    this.#allocate(state.ring[0]!);
    for (const [k, f] of state.ring.entries()) copyInto(f, this.#ring[k]!);
    for (const [k, l] of state.ringLuma.entries()) this.#ringLuma[k]!.set(l);
    this.#prev = this.#dis.prepare({ data: this.#ringLuma[state.index % this.history]!, width, height });
    for (const [c, src] of state.chains.entries()) {
      this.#chains![c]!.frameNo.set(src.frameNo);
      this.#chains![c]!.coord.set(src.coord);
    }
    // The views are redrawn from the sources: the next frame blends the drawn history.
    this.#index = state.index;
    if (state.sceneCut && this.#cuts) this.#cuts.restoreState(state.sceneCut);
  }
}

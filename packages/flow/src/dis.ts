import { invalidRangeError, invalidTypeError } from '@framecraft/core';
import {
  densify,
  inverseSearch,
  type PatchTensor,
  patchGrid,
  patchTensor,
  type SearchParams,
} from './patch-search.ts';
import {
  checkLuma,
  createLevel,
  finishLevel,
  halve,
  type LumaPlane,
  levelSizes,
  type PyramidLevel,
  shrinkLuma,
} from './pyramid.ts';
import { refineKernelAvailable } from './refine-kernel.ts';
import { SearchKernel } from './search-kernel.ts';
import { RefineScratch, refine } from './variational.ts';

/** Speed/accuracy presets, the same settings as OpenCV's `DISOpticalFlow` presets of that name. */
export type DisPreset = 'ultrafast' | 'fast' | 'medium';

/** Options of {@link DisFlow.create}; a preset fills in whatever is not given. */
export interface DisOptions {
  /** `ultrafast`, `fast` (default) or `medium`. */
  readonly preset?: DisPreset;
  /** Finest pyramid level computed (0 = full resolution); the flow is upsampled from there. */
  readonly finestScale?: number;
  /** Patch side in pixels, 4–16. */
  readonly patchSize?: number;
  /** Distance between patches, 1 to the patch size. */
  readonly patchStride?: number;
  /** Gradient-descent iterations per patch. */
  readonly iterations?: number;
  /** Variational refinement fixed-point iterations per level (0: none). */
  readonly refinementIterations?: number;
  /** Refinement smoothness weight (20). */
  readonly alpha?: number;
  /** Refinement colour-constancy weight (5). */
  readonly delta?: number;
  /** Refinement gradient-constancy weight (10). */
  readonly gamma?: number;
  /** Compare patches after removing their mean brightness (robust to lighting changes); on by default. */
  readonly meanNormalization?: boolean;
  /** Let patches try their neighbours' vectors; on by default. */
  readonly spatialPropagation?: boolean;
  /**
   * `auto` (default): the patch search, densification and refinement sweeps in WebAssembly SIMD
   * where available; `typescript` forces the portable path (the same loops in doubles; flows agree
   * within 1e-4 px on average where content stays in the frame, see the tests).
   */
  readonly kernel?: 'auto' | 'typescript';
}

/** Per-size working buffers of an estimator, reused frame after frame. */
interface DisBuffers {
  readonly key: string;
  readonly Ux: Float32Array[];
  readonly Uy: Float32Array[];
  readonly Sx: Float32Array;
  readonly Sy: Float32Array;
  readonly sumW: Float32Array;
  readonly tensor: PatchTensor;
  readonly refine: RefineScratch[];
  /** The patch search's SIMD loops, or null (TypeScript asked for, or no WebAssembly SIMD). */
  readonly search: SearchKernel | null;
}

interface Settings {
  readonly finestScale: number;
  readonly search: SearchParams;
  readonly refine: { iterations: number; alpha: number; delta: number; gamma: number };
  readonly portable: boolean;
}

const PRESETS: Record<DisPreset, Omit<Required<DisOptions>, 'preset' | 'kernel'>> = {
  ultrafast: {
    finestScale: 2,
    patchSize: 8,
    patchStride: 4,
    iterations: 12,
    refinementIterations: 0,
    alpha: 20,
    delta: 5,
    gamma: 10,
    meanNormalization: true,
    spatialPropagation: true,
  },
  fast: {
    finestScale: 2,
    patchSize: 8,
    patchStride: 4,
    iterations: 16,
    refinementIterations: 5,
    alpha: 20,
    delta: 5,
    gamma: 10,
    meanNormalization: true,
    spatialPropagation: true,
  },
  medium: {
    finestScale: 1,
    patchSize: 8,
    patchStride: 3,
    iterations: 25,
    refinementIterations: 5,
    alpha: 20,
    delta: 5,
    gamma: 10,
    meanNormalization: true,
    spatialPropagation: true,
  },
};

/**
 * A frame prepared for flow: its pyramid, bordered levels and derivatives, computed once and used
 * by both pairs the frame belongs to (as the second frame of one and the first of the next).
 */
export class FlowImage {
  readonly width: number;
  readonly height: number;
  /** Level `finestScale + k` of the pyramid at index k. */
  readonly levels: readonly PyramidLevel[];
  /** The settings key it was prepared for (pyramid depth and finest scale). */
  readonly key: string;

  /** @internal */
  constructor(width: number, height: number, levels: PyramidLevel[], key: string) {
    this.width = width;
    this.height = height;
    this.levels = levels;
    this.key = key;
  }
}

/**
 * Dense inverse search optical flow (Kroeger, Timofte, Dai and Van Gool, ECCV 2016), the
 * algorithm behind OpenCV's `DISOpticalFlow`: on each level of an image pyramid, from coarse to
 * fine, patches find their match in the next frame by inverse-compositional gradient descent,
 * starting from the coarser level's answer and their neighbours' vectors; the patch vectors are
 * blended into a dense field weighted by how well each explains a pixel, and a variational step
 * (colour and gradient constancy, robust smoothness) refines it.
 *
 * @example
 * ```ts
 * const dis = DisFlow.create({ preset: 'fast' })
 * const a = dis.prepare({ data: y0, width: 640, height: 360 })
 * const b = dis.prepare({ data: y1, width: 640, height: 360 })
 * const flow = dis.calc(a, b) // Float32Array [dx, dy, dx, dy, …]: a(x, y) ≈ b(x + dx, y + dy)
 * ```
 */
export class DisFlow {
  /** The preset the settings started from. */
  readonly preset: DisPreset;
  readonly #settings: Settings;
  #buffers: DisBuffers | null = null;

  private constructor(preset: DisPreset, settings: Settings) {
    this.preset = preset;
    this.#settings = settings;
  }

  /** Which inner loops run: `wasm-simd`, or `typescript` (asked for, or no WebAssembly SIMD). */
  get kernel(): 'wasm-simd' | 'typescript' {
    return !this.#settings.portable && refineKernelAvailable() ? 'wasm-simd' : 'typescript';
  }

  /** The finest pyramid level computed (0 = full resolution). */
  get finestScale(): number {
    return this.#settings.finestScale;
  }

  /**
   * Create a flow estimator.
   *
   * @param options - A preset and any settings to override.
   * @returns The estimator.
   * @throws {RangeError} For an unknown preset or settings out of range.
   */
  static create(options: DisOptions = {}): DisFlow {
    const preset = options.preset ?? 'fast';
    const base = PRESETS[preset];
    if (base === undefined)
      throw invalidRangeError('"ultrafast", "fast" or "medium"', 'options.preset', options.preset);
    const o = { ...base, ...stripUndefined(options) };
    const intIn = (v: number, lo: number, hi: number, name: string): void => {
      if (!Number.isInteger(v) || v < lo || v > hi)
        throw invalidRangeError(`a whole number in [${lo}, ${hi}]`, `options.${name}`, v);
    };
    if (options.kernel !== undefined && options.kernel !== 'auto' && options.kernel !== 'typescript')
      throw invalidRangeError("'auto' or 'typescript'", 'options.kernel', options.kernel);
    intIn(o.finestScale, 0, 8, 'finestScale');
    intIn(o.patchSize, 4, 16, 'patchSize');
    intIn(o.patchStride, 1, o.patchSize, 'patchStride');
    intIn(o.iterations, 1, 1000, 'iterations');
    intIn(o.refinementIterations, 0, 100, 'refinementIterations');
    for (const k of ['alpha', 'delta', 'gamma'] as const) {
      if (!(o[k] >= 0 && Number.isFinite(o[k])))
        throw invalidRangeError('a number >= 0', `options.${k}`, o[k]);
    }
    return new DisFlow(preset, {
      finestScale: o.finestScale,
      search: {
        patchSize: o.patchSize,
        patchStride: o.patchStride,
        iterations: o.iterations,
        meanNormalization: o.meanNormalization,
        spatialPropagation: o.spatialPropagation,
      },
      refine: { iterations: o.refinementIterations, alpha: o.alpha, delta: o.delta, gamma: o.gamma },
      portable: options.kernel === 'typescript',
    });
  }

  /**
   * The pyramid levels used for a frame size: from the finest scale to the coarsest, which lets
   * a patch find motion up to about a quarter of the frame (OpenCV's rule). Frames too small for
   * one patch have none (their flow is zero).
   */
  #scales(width: number, height: number): { finest: number; coarsest: number; key: string } {
    const psz = this.#settings.search.patchSize;
    const coarsest = Math.min(
      Math.floor(Math.log2(Math.max(width, height) / (4 * psz)) + 0.5),
      Math.floor(Math.log2(Math.min(width, height) / psz)),
    );
    const finest = Math.min(this.#settings.finestScale, Math.max(0, coarsest));
    const top = Math.max(coarsest, finest);
    return { finest, coarsest: top, key: `${width}x${height}:${finest}-${top}` };
  }

  /**
   * Prepare a frame: its pyramid, bordered levels and derivatives.
   *
   * @param luma - An 8-bit luma plane (a gray8 frame or the Y plane of a YUV frame).
   * @param out - A prepared frame of the same size to reuse (a video then allocates nothing).
   * @returns The prepared frame.
   * @throws {TypeError} When `luma.data` is not a Uint8Array.
   * @throws {RangeError} For a zero or negative size, a stride below the width, or too few samples.
   */
  prepare(luma: LumaPlane, out?: FlowImage): FlowImage {
    const stride = checkLuma(luma, 'luma');
    const { width, height } = luma;
    const { finest, coarsest, key } = this.#scales(width, height);
    const sizes = levelSizes(width, height, finest, coarsest);
    const image =
      out !== undefined && out.key === key
        ? out
        : new FlowImage(
            width,
            height,
            sizes.map(([w, h]) => createLevel(w, h)),
            key,
          );
    const levels = image.levels;
    const first = levels[0]!;
    shrinkLuma(luma.data, stride, 2 ** finest, first.image, first.width, first.height);
    finishLevel(first);
    for (let k = 1; k < levels.length; k++) {
      const prev = levels[k - 1]!;
      const cur = levels[k]!;
      halve(prev.image, prev.width, cur.image, cur.width, cur.height);
      finishLevel(cur);
    }
    return image;
  }

  /**
   * Compute the dense flow from `from` to `to`: for each pixel x of `from`, the vector d with
   * `from(x) ≈ to(x + d)` — so warping `to` backwards by it lines `to` up with `from`.
   *
   * @param from - The prepared reference frame.
   * @param to - The prepared frame to match in.
   * @param out - Where to write width × height × 2 floats, (dx, dy) per pixel, row by row.
   * @returns `out`, or a new array.
   * @throws {TypeError} When a frame was not prepared by this estimator.
   * @throws {RangeError} When the two frames differ in size, or `out` is too short.
   */
  calc(from: FlowImage, to: FlowImage, out?: Float32Array): Float32Array {
    if (!(from instanceof FlowImage)) throw invalidTypeError('a FlowImage from prepare()', 'from', from);
    if (!(to instanceof FlowImage)) throw invalidTypeError('a FlowImage from prepare()', 'to', to);
    if (from.width !== to.width || from.height !== to.height)
      throw invalidRangeError(`a ${from.width}x${from.height} frame`, 'to', `${to.width}x${to.height}`);
    const { width, height } = from;
    const { finest, key } = this.#scales(width, height);
    if (from.key !== key || to.key !== key)
      throw invalidTypeError(
        'frames prepared by this estimator',
        'from/to',
        'frames prepared with other settings',
      );
    const n = width * height * 2;
    const flow = out ?? new Float32Array(n);
    if (flow.length < n) throw invalidRangeError(`at least ${n} floats`, 'out', `${flow.length} floats`);
    const b = this.#allocate(from);
    const L0s = from.levels;
    const L1s = to.levels;
    const top = L0s.length - 1;
    const s = this.#settings;
    const fits = L0s[top]!.width >= s.search.patchSize && L0s[top]!.height >= s.search.patchSize;
    if (!fits) {
      flow.fill(0, 0, n);
      return flow;
    }
    b.Ux[top]!.fill(0);
    b.Uy[top]!.fill(0);
    for (let k = top; k >= 0; k--) {
      const L0 = L0s[k]!;
      const L1 = L1s[k]!;
      const Ux = b.Ux[k]!;
      const Uy = b.Uy[k]!;
      patchTensor(L0, s.search, b.tensor);
      b.search?.load(L0, L1);
      inverseSearch(L0, L1, Ux, Uy, b.Sx, b.Sy, b.tensor, s.search, b.search);
      densify(L0, L1, b.Sx, b.Sy, Ux, Uy, b.sumW, s.search, b.search);
      if (s.refine.iterations > 0) refine(L0, L1, Ux, Uy, s.refine, b.refine[k]!);
      if (k > 0) {
        const next = L0s[k - 1]!;
        resizeFlow(Ux, Uy, L0.width, L0.height, b.Ux[k - 1]!, b.Uy[k - 1]!, next.width, next.height, 2);
      }
    }
    const L = L0s[0]!;
    const f = 2 ** finest;
    if (b.search !== null && (f === 2 || f === 4) && L.width * f === width && L.height * f === height)
      b.search.upsample(b.Ux[0]!, b.Uy[0]!, L.width, L.height, f, f, flow);
    else resizeFlow(b.Ux[0]!, b.Uy[0]!, L.width, L.height, flow, null, width, height, f);
    return flow;
  }

  #allocate(image: FlowImage): DisBuffers {
    const b = this.#buffers;
    if (b !== null && b.key === image.key) return b;
    const p = this.#settings.search;
    const first = image.levels[0]!;
    const [ws, hs] = patchGrid(first.width, first.height, p.patchSize, p.patchStride);
    const m = Math.max(1, ws * hs);
    const n = first.width * first.height;
    const fresh: DisBuffers = {
      key: image.key,
      Ux: image.levels.map((l) => new Float32Array(l.width * l.height)),
      Uy: image.levels.map((l) => new Float32Array(l.width * l.height)),
      Sx: new Float32Array(m),
      Sy: new Float32Array(m),
      sumW: new Float32Array(n),
      tensor: {
        xx: new Float32Array(m),
        yy: new Float32Array(m),
        xy: new Float32Array(m),
        x: new Float32Array(m),
        y: new Float32Array(m),
      },
      refine: image.levels.map((l) => new RefineScratch(l.width, l.height, this.#settings.portable)),
      search: this.#settings.portable
        ? null
        : SearchKernel.create(first.width, first.height, image.width, image.height),
    };
    this.#buffers = fresh;
    return fresh;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

let colX0 = new Int32Array(0);
let colX1 = new Int32Array(0);
let colAx = new Float32Array(0);
let rowX = new Float32Array(0);
let rowY = new Float32Array(0);

/**
 * Bilinear resize of a flow field (pixel centres aligned, edges clamped), its vectors scaled by
 * `scale`: into two planes (`outY` given) or one interleaved (dx, dy) array (`outY` null).
 * Separable: each output row first blends its two source rows, then samples that row.
 */
export function resizeFlow(
  ux: Float32Array,
  uy: Float32Array,
  sw: number,
  sh: number,
  outX: Float32Array,
  outY: Float32Array | null,
  dw: number,
  dh: number,
  scale: number,
): void {
  const rx = sw / dw;
  const ry = sh / dh;
  // The columns' source positions and weights are the same on every row: once.
  if (colX0.length < dw) {
    colX0 = new Int32Array(dw);
    colX1 = new Int32Array(dw);
    colAx = new Float32Array(dw);
  }
  if (rowX.length < sw) {
    rowX = new Float32Array(sw);
    rowY = new Float32Array(sw);
  }
  const cx0 = colX0;
  const cx1 = colX1;
  const cax = colAx;
  const tx = rowX;
  const ty = rowY;
  for (let x = 0; x < dw; x++) {
    let fx = (x + 0.5) * rx - 0.5;
    if (fx < 0) fx = 0;
    let x0 = Math.floor(fx);
    if (x0 > sw - 1) x0 = sw - 1;
    cx0[x] = x0;
    cx1[x] = x0 < sw - 1 ? x0 + 1 : x0;
    cax[x] = fx - x0 > 1 ? 1 : fx - x0;
  }
  for (let y = 0; y < dh; y++) {
    let fy = (y + 0.5) * ry - 0.5;
    if (fy < 0) fy = 0;
    let y0 = Math.floor(fy);
    if (y0 > sh - 1) y0 = sh - 1;
    const y1 = y0 < sh - 1 ? y0 + 1 : y0;
    const ay = fy - y0 > 1 ? 1 : fy - y0;
    const r0 = y0 * sw;
    const r1 = y1 * sw;
    const sy0 = (1 - ay) * scale;
    const sy1 = ay * scale;
    for (let x = 0; x < sw; x++) {
      tx[x] = sy0 * ux[r0 + x]! + sy1 * ux[r1 + x]!;
      ty[x] = sy0 * uy[r0 + x]! + sy1 * uy[r1 + x]!;
    }
    if (outY === null) {
      for (let x = 0, o = 2 * y * dw; x < dw; x++, o += 2) {
        const x0 = cx0[x]!;
        const x1 = cx1[x]!;
        const ax = cax[x]!;
        outX[o] = tx[x0]! + ax * (tx[x1]! - tx[x0]!);
        outX[o + 1] = ty[x0]! + ax * (ty[x1]! - ty[x0]!);
      }
    } else {
      for (let x = 0, o = y * dw; x < dw; x++, o++) {
        const x0 = cx0[x]!;
        const x1 = cx1[x]!;
        const ax = cax[x]!;
        outX[o] = tx[x0]! + ax * (tx[x1]! - tx[x0]!);
        outY[o] = ty[x0]! + ax * (ty[x1]! - ty[x0]!);
      }
    }
  }
}

import {
  createFrame,
  type Frame,
  instantiateKernel,
  invalidRangeError,
  invalidTypeError,
  lazyWasmModule,
  planeGeometry,
  withTimingOf,
} from '@framecraft/core';
import { WASM_BASE64 } from './ema-kernel.wasm.ts';
import { SceneCutDetector, type SceneCutOptions, type SceneCutState } from './scene-cut.ts';

/** Options of {@link EmaStabilizer.create}. */
export interface EmaOptions {
  /** Weight of the history, 0 (off) to 0.95; 0.6 by default. */
  readonly strength?: number;
  /**
   * Difference (code values, rounded to a whole number up to 255) at which a pixel counts as
   * moving and is no longer smoothed; the history weight falls linearly from `strength` at 0 to 0
   * at this difference. 0 turns motion adaptation off. 24 by default.
   */
  readonly motionThreshold?: number;
  /** Scene-cut reset; on by default. `false` turns it off. */
  readonly sceneCut?: SceneCutOptions | false;
  /** `auto` (default): WebAssembly SIMD where available; `typescript` forces the portable kernel. */
  readonly kernel?: 'auto' | 'typescript';
}

/** Exported stabilizer state (structured-clone friendly: typed arrays and plain data). */
export interface EmaState {
  readonly width: number;
  readonly height: number;
  readonly format: Frame['format'];
  /** Per plane, the running average × 128 (fixed point). */
  readonly planes: readonly Int16Array[];
  readonly sceneCut: SceneCutState | null;
}

const SUPPORTED = new Set(['gray8', 'yuv420p', 'yuv422p', 'yuv444p', 'rgb24', 'rgba']);

/** The EMA weights in fixed point (Q15), shared by the WebAssembly and TypeScript kernels. */
interface EmaWeights {
  /** Weight of the new frame when nothing moves (32767 ≈ 1). */
  readonly w0: number;
  /** Growth of that weight per code value of difference. */
  readonly k: number;
  /** Difference (code values) at which the weight stops growing (reaches ≈ 1). */
  readonly t: number;
}

/** Saturate to a signed 16-bit value. */
const sat16 = (v: number): number => (v > 32767 ? 32767 : v < -32768 ? -32768 : v);

/**
 * The EMA over `n` tight samples in TypeScript, bit-identical to `ema-kernel.wat`; used where
 * WebAssembly SIMD is not available.
 */
function emaSamples(src: Uint8Array, dst: Uint8Array, acc: Int16Array, n: number, c: EmaWeights): void {
  const { w0, k, t } = c;
  for (let i = 0; i < n; i++) {
    const e = acc[i]!;
    const d = (src[i]! << 7) - e;
    const ad = (d < 0 ? -d : d) >> 7;
    const m = ad < t ? ad : t;
    const w = sat16(w0 + k * m);
    const v = e + sat16((w * d + 16384) >> 15);
    acc[i] = v;
    dst[i] = (v + 64) >> 7;
  }
}

interface WasmKernel {
  readonly memory: WebAssembly.Memory;
  readonly ema: (src: number, dst: number, acc: number, n: number, w0: number, k: number, t: number) => void;
}

/** The SIMD kernel, compiled once per thread; null where WebAssembly SIMD is unavailable. */
const kernelModule = lazyWasmModule(WASM_BASE64);

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
  readonly #weights: EmaWeights;
  readonly #cuts: SceneCutDetector | null;
  #geometry: { width: number; height: number; format: Frame['format']; sizes: number[] } | null = null;
  #buffers: { acc: Int16Array; src: Uint8Array; dst: Uint8Array; kernel: WasmKernel | null } | null = null;
  #out: Frame | null = null;
  /** True when the last processed frame was a scene cut (or the first frame). */
  lastWasReset = false;
  /** Which kernel runs: `wasm-simd`, or `typescript` where WebAssembly SIMD is unavailable. */
  readonly kernel: 'wasm-simd' | 'typescript';

  private constructor(
    strength: number,
    motionThreshold: number,
    cuts: SceneCutDetector | null,
    useWasm: boolean,
  ) {
    this.strength = strength;
    this.motionThreshold = motionThreshold;
    this.#cuts = cuts;
    const t = motionThreshold > 0 ? Math.min(255, Math.max(1, Math.round(motionThreshold))) : 0;
    this.#weights = {
      w0: Math.min(32767, Math.round((1 - strength) * 32768)),
      k: t > 0 ? Math.round((strength * 32768) / t) : 0,
      t,
    };
    this.kernel = useWasm && kernelModule() !== null ? 'wasm-simd' : 'typescript';
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
    return new EmaStabilizer(strength, motion, cuts, options.kernel !== 'typescript');
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
    const geometry = planeGeometry(frame.format, frame.width, frame.height);
    const g = this.#geometry;
    const fresh =
      cut || g === null || g.width !== frame.width || g.height !== frame.height || g.format !== frame.format;
    if (
      fresh &&
      (g === null || g.width !== frame.width || g.height !== frame.height || g.format !== frame.format)
    ) {
      this.#allocate(
        frame,
        geometry.map((p) => p.rowSamples * p.height),
      );
    }
    let target = out;
    if (target === undefined) {
      const o = this.#out;
      if (o === null || o.width !== frame.width || o.height !== frame.height || o.format !== frame.format) {
        this.#out = createFrame({ width: frame.width, height: frame.height, format: frame.format });
      }
      target = this.#out!;
    }
    const b = this.#buffers!;
    // Gather every plane, tight, into the kernel's input buffer.
    let off = 0;
    for (let p = 0; p < geometry.length; p++) {
      const pg = geometry[p]!;
      const plane = frame.planes[p]!;
      const data = plane.data as Uint8Array;
      if (plane.stride === pg.rowSamples) b.src.set(data.subarray(0, pg.rowSamples * pg.height), off);
      else {
        for (let y = 0; y < pg.height; y++) {
          b.src.set(
            data.subarray(y * plane.stride, y * plane.stride + pg.rowSamples),
            off + y * pg.rowSamples,
          );
        }
      }
      off += pg.rowSamples * pg.height;
    }
    if (fresh) b.acc.fill(0);
    // A fresh start is the same kernel with full weight on the new frame: out = x.
    const c = fresh ? { w0: 32767, k: 0, t: 0 } : this.#weights;
    const n = b.src.length;
    if (b.kernel !== null) {
      b.kernel.ema(b.src.byteOffset, b.dst.byteOffset, b.acc.byteOffset, n, c.w0, c.k, c.t);
    } else emaSamples(b.src, b.dst, b.acc, n, c);
    // Scatter the result into the output planes.
    off = 0;
    for (let p = 0; p < geometry.length; p++) {
      const pg = geometry[p]!;
      const plane = target.planes[p]!;
      const data = plane.data as Uint8Array;
      if (plane.stride === pg.rowSamples) data.set(b.dst.subarray(off, off + pg.rowSamples * pg.height));
      else {
        for (let y = 0; y < pg.height; y++) {
          data.set(b.dst.subarray(off + y * pg.rowSamples, off + (y + 1) * pg.rowSamples), y * plane.stride);
        }
      }
      off += pg.rowSamples * pg.height;
    }
    this.lastWasReset = fresh;
    return withTimingOf(target, frame, true);
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

  #allocate(frame: Frame, sizes: number[]): void {
    const total = sizes.reduce((s, v) => s + v, 0);
    // Padded to 16 samples: the SIMD kernel works sixteen at a time.
    const n = Math.ceil(total / 16) * 16;
    const module = this.kernel === 'wasm-simd' ? kernelModule() : null;
    if (module !== null) {
      const bytes = n * 4;
      const exports = instantiateKernel<WasmKernel>(module);
      const buf = exports.memory.buffer;
      const pagesNeeded = Math.ceil(bytes / 65536) - buf.byteLength / 65536;
      if (pagesNeeded > 0) exports.memory.grow(pagesNeeded);
      const mem = exports.memory.buffer;
      this.#buffers = {
        acc: new Int16Array(mem, 0, n),
        src: new Uint8Array(mem, n * 2, n),
        dst: new Uint8Array(mem, n * 3, n),
        kernel: exports,
      };
    } else {
      this.#buffers = {
        acc: new Int16Array(n),
        src: new Uint8Array(n),
        dst: new Uint8Array(n),
        kernel: null,
      };
    }
    this.#geometry = { width: frame.width, height: frame.height, format: frame.format, sizes };
  }

  /** Start over (the next frame passes through unchanged). */
  reset(): void {
    this.#geometry = null;
    this.#buffers = null;
    this.#cuts?.reset();
  }

  /**
   * Export the state, for a render that resumes or a chunk that starts from pre-rolled frames.
   *
   * @returns A copy of the state (null before the first frame).
   */
  exportState(): EmaState | null {
    const g = this.#geometry;
    const b = this.#buffers;
    if (g === null || b === null) return null;
    let off = 0;
    const planes = g.sizes.map((size) => {
      const p = b.acc.slice(off, off + size);
      off += size;
      return p;
    });
    return {
      width: g.width,
      height: g.height,
      format: g.format,
      planes,
      sceneCut: this.#cuts?.exportState() ?? null,
    };
  }

  /**
   * Continue from an exported state.
   *
   * @param state - From {@link EmaStabilizer.exportState}.
   */
  restoreState(state: EmaState | null): void {
    if (state === null) {
      this.reset();
      return;
    }
    const sizes = state.planes.map((p) => p.length);
    this.#allocate(createFrame({ width: state.width, height: state.height, format: state.format }), sizes);
    let off = 0;
    for (const p of state.planes) {
      this.#buffers!.acc.set(p, off);
      off += p.length;
    }
    if (state.sceneCut && this.#cuts) this.#cuts.restoreState(state.sceneCut);
  }
}

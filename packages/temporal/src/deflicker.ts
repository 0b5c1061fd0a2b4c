import {
  createFrame,
  type Frame,
  instantiateKernel,
  invalidRangeError,
  invalidTypeError,
  lazyWasmModule,
  withTimingOf,
} from '@framecraft/core';
import { WASM_BASE64 } from './deflicker-kernel.wasm.ts';

/** Options of {@link Deflicker.create}. */
export interface DeflickerOptions {
  /** Frames in the moving mean of brightness (the idea of FFmpeg's `deflicker`); 5 by default. */
  readonly window?: number;
  /**
   * Largest correction factor either way (1.2 = ±20 %), so real fades survive; 1.25 by default,
   * below 8.
   */
  readonly maxGain?: number;
  /** `auto` (default): WebAssembly SIMD where available; `typescript` forces the portable path. */
  readonly kernel?: 'auto' | 'typescript';
}

/** Exported deflicker state. */
export interface DeflickerState {
  readonly means: readonly number[];
}

interface DeflickerKernel {
  readonly memory: WebAssembly.Memory;
  readonly sumRows: (ptr: number, cols: number, rows: number, stride: number, every: number) => number;
  readonly applyGain: (ptr: number, n: number, gain: number) => void;
}

const deflickerModule = lazyWasmModule(WASM_BASE64);
let kernelCache: DeflickerKernel | null | undefined;

/** One SIMD kernel instance per thread (memory grows to the largest plane); null without WebAssembly SIMD. */
function deflickerKernel(): DeflickerKernel | null {
  if (kernelCache === undefined) {
    const module = deflickerModule();
    kernelCache = module === null ? null : instantiateKernel<DeflickerKernel>(module);
  }
  return kernelCache;
}

/** The gain in Q12 fixed point, as both kernels use it. */
const q12 = (gain: number): number => Math.min(32767, Math.round(gain * 4096));

/**
 * Global brightness correction: scales each frame's luma so its mean follows the moving mean of
 * the last N frames, removing frame-to-frame brightness pumping.
 */
export class Deflicker {
  readonly window: number;
  readonly maxGain: number;
  #means: number[] = [];
  #table = new Uint8Array(256);
  readonly #kernel: DeflickerKernel | null;
  /** Which kernel runs: `wasm-simd`, or `typescript` where WebAssembly SIMD is unavailable. */
  readonly kernel: 'wasm-simd' | 'typescript';
  #out: Frame | null = null;
  /** Gain applied to the last frame. */
  lastGain = 1;

  private constructor(window: number, maxGain: number, portable: boolean) {
    this.window = window;
    this.maxGain = maxGain;
    this.#kernel = portable ? null : deflickerKernel();
    this.kernel = this.#kernel === null ? 'typescript' : 'wasm-simd';
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
    if (!(maxGain >= 1 && maxGain < 8))
      throw invalidRangeError('a number in [1, 8)', 'options.maxGain', maxGain);
    return new Deflicker(window, maxGain, options.kernel === 'typescript');
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
    const rows = frame.height;
    const k = this.#kernel;
    let mem: Uint8Array | null = null;
    // Mean over every second row is exact enough for a global gain and halves the cost.
    let sum = 0;
    const n = cols * Math.ceil(rows / 2);
    if (k !== null) {
      const bytes = Math.ceil((cols * rows) / 16) * 16;
      const have = k.memory.buffer.byteLength;
      if (have < bytes) k.memory.grow(Math.ceil((bytes - have) / 65536));
      mem = new Uint8Array(k.memory.buffer);
      if (p.stride === cols) mem.set(d.subarray(0, cols * rows));
      else for (let y = 0; y < rows; y++) mem.set(d.subarray(y * p.stride, y * p.stride + cols), y * cols);
      sum = k.sumRows(0, cols, rows, cols, 2);
    } else {
      for (let y = 0; y < rows; y += 2) {
        const row = y * p.stride;
        for (let x = 0; x < cols; x++) sum += d[row + x]!;
      }
    }
    const mean = sum / n;
    this.#means.push(mean);
    if (this.#means.length > this.window) this.#means.shift();
    const target = this.#means.reduce((s, v) => s + v, 0) / this.#means.length;
    let gain = mean > 0.5 ? target / mean : 1;
    gain = Math.min(this.maxGain, Math.max(1 / this.maxGain, gain));
    this.lastGain = gain;
    const g = q12(gain);
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
    if (k !== null && mem !== null) {
      k.applyGain(0, Math.ceil((cols * rows) / 16) * 16, g);
      if (q.stride === cols) dd.set(mem.subarray(0, cols * rows));
      else for (let y = 0; y < rows; y++) dd.set(mem.subarray(y * cols, (y + 1) * cols), y * q.stride);
    } else {
      // The same integers as the SIMD kernel, through a table.
      const t = this.#table;
      for (let v = 0; v < 256; v++) {
        const r = ((((v << 7) * g + 16384) >> 15) + 8) >> 4;
        t[v] = r > 255 ? 255 : r;
      }
      for (let y = 0; y < rows; y++) {
        const si = y * p.stride;
        const di = y * q.stride;
        for (let x = 0; x < cols; x++) dd[di + x] = t[d[si + x]!]!;
      }
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

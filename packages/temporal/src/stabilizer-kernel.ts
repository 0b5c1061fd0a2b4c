import {
  type Frame,
  instantiateKernel,
  lazyWasmModule,
  type PixelFormat,
  pixelFormatInfo,
  planeGeometry,
  UNKNOWN_COLOR,
} from '@framecraft/core';
import type { HistorySource } from './flow-stabilizer.ts';
import { WASM_BASE64 } from './stabilizer-kernel.wasm.ts';

interface StabilizerExports {
  readonly memory: WebAssembly.Memory;
  readonly composite: (...args: number[]) => void;
  readonly follow: (...args: number[]) => void;
  readonly check: (...args: number[]) => void;
  readonly commit: (...args: number[]) => number;
  readonly blur: (...args: number[]) => void;
}

const stabilizerModule = lazyWasmModule(WASM_BASE64);

/** Rows of the resampling tables: fractions in steps of 1/64 pixel. */
const TABLE_ROWS = 65;

/**
 * Lanczos-3 weights of the six taps at −2 … 3 around a fraction t of a pixel, normalised to sum
 * to 1. Sharper than Catmull–Rom, which the stabilizer drew with before: resampling the neural
 * style at random sub-pixel offsets keeps 0.91 of its variance of the Laplacian with Lanczos-3
 * against 0.72 with Catmull–Rom (bench/temporal.ts's clips at 270 lines).
 */
function lanczos3(t: number): number[] {
  const w = [0, 1, 2, 3, 4, 5].map((k) => {
    const x = k - 2 - t;
    if (Math.abs(x) < 1e-9) return 1;
    return (3 * Math.sin(Math.PI * x) * Math.sin((Math.PI * x) / 3)) / (Math.PI * Math.PI * x * x);
  });
  const sum = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / sum);
}

const round16 = (n: number): number => (n + 15) & ~15;

/** Where a stabilizer's arrays and frames are laid out (an arena, or a measure of one). */
export interface ArenaLayout {
  f32(n: number): Float32Array<ArrayBuffer>;
  f64(n: number): Float64Array<ArrayBuffer>;
  i32(n: number): Int32Array<ArrayBuffer>;
  u8(n: number): Uint8Array<ArrayBuffer>;
  /** An 8-bit frame of the arena's size with tight rows. */
  frame(format: PixelFormat): Frame;
}

/** A frame whose planes are the given byte arrays (tight rows). */
function frameOf(
  width: number,
  height: number,
  format: PixelFormat,
  plane: (bytes: number) => Uint8Array,
): Frame {
  return {
    width,
    height,
    format,
    planes: planeGeometry(format, width, height).map((g) => ({
      data: plane(g.rowSamples * g.height),
      stride: g.rowSamples,
    })),
    pts: 0,
    timeBase: { num: 1, den: 90000 },
    duration: 0,
    color: UNKNOWN_COLOR,
    sampleAspect: { num: 1, den: 1 },
  };
}

/** Counts the bytes a layout takes (its arrays are empty). */
class Measure implements ArenaLayout {
  bytes = 0;
  readonly #width: number;
  readonly #height: number;

  constructor(width: number, height: number) {
    this.#width = width;
    this.#height = height;
  }

  f32(n: number): Float32Array<ArrayBuffer> {
    this.bytes += round16(4 * n);
    return new Float32Array(0);
  }

  f64(n: number): Float64Array<ArrayBuffer> {
    this.bytes += round16(8 * n);
    return new Float64Array(0);
  }

  i32(n: number): Int32Array<ArrayBuffer> {
    this.bytes += round16(4 * n);
    return new Int32Array(0);
  }

  u8(n: number): Uint8Array<ArrayBuffer> {
    this.bytes += round16(n);
    return new Uint8Array(0);
  }

  frame(format: PixelFormat): Frame {
    return frameOf(this.#width, this.#height, format, (bytes) => this.u8(bytes));
  }
}

/**
 * One WebAssembly memory holding the arrays of a flow stabilizer for one frame size, and the
 * kernels that run over them (stabilizer-kernel.wat). The memory is sized once, from a measure of
 * the same layout, before any view is taken, and never grows (a grown memory would detach every
 * view); a new frame size gets a new arena. The stabilizer's TypeScript passes use the same
 * arrays as plain typed-array views; the kernels refuse arrays from elsewhere.
 */
export class StabilizerArena implements ArenaLayout {
  readonly width: number;
  readonly height: number;
  readonly #x: StabilizerExports;
  readonly #buffer: ArrayBuffer;
  #at = 0;
  #end = Number.POSITIVE_INFINITY;
  /** Scratch for the kernels (4 doubles). */
  readonly #acc: number;
  /** The resampling weights' tables (see the constructor). */
  readonly #lut64: number;
  readonly #lut32: number;

  private constructor(x: StabilizerExports, width: number, height: number, layoutBytes: number) {
    this.#x = x;
    this.width = width;
    this.height = height;
    this.#acc = this.#take(32);
    this.#lut64 = this.#take(TABLE_ROWS * 48);
    this.#lut32 = this.#take(TABLE_ROWS * 32);
    const bytes = this.#at + layoutBytes;
    const have = x.memory.buffer.byteLength;
    if (have < bytes) x.memory.grow(Math.ceil((bytes - have) / 65536));
    this.#buffer = x.memory.buffer as ArrayBuffer;
    this.#end = bytes;
    // Lanczos-3 weights of the six taps around fractions 0, 1/64, …, 1: as doubles (6 a row) for
    // the scalar path, as floats (8 a row, the last two 0) for the vectors.
    const l64 = new Float64Array(this.#buffer, this.#lut64, TABLE_ROWS * 6);
    const l32 = new Float32Array(this.#buffer, this.#lut32, TABLE_ROWS * 8);
    for (let q = 0; q < TABLE_ROWS; q++) {
      const weights = lanczos3(q / (TABLE_ROWS - 1));
      for (let k = 0; k < 6; k++) {
        l64[q * 6 + k] = weights[k]!;
        l32[q * 8 + k] = weights[k]!;
      }
    }
  }

  /**
   * An arena for frames of a size and what `layout` takes from it: the layout runs once against a
   * measure, to size the memory, and once against the arena.
   *
   * @returns The arena, and what the layout returned the second time.
   * @throws {Error} Where WebAssembly SIMD is unavailable.
   */
  static create<T>(
    width: number,
    height: number,
    layout: (a: ArenaLayout) => T,
  ): { arena: StabilizerArena; arrays: T } {
    const module = stabilizerModule();
    if (module === null)
      throw new Error(
        '@framecraft/temporal: the flow stabilizer needs WebAssembly SIMD (Node 20+, Bun), which this runtime lacks',
      );
    const measure = new Measure(width, height);
    layout(measure);
    const exports = instantiateKernel<StabilizerExports>(module);
    const arena = new StabilizerArena(exports, width, height, measure.bytes);
    return { arena, arrays: layout(arena) };
  }

  #take(bytes: number): number {
    const at = this.#at;
    this.#at = at + round16(bytes);
    if (this.#at > this.#end) throw new Error('@framecraft/temporal: stabilizer arena too small');
    return at;
  }

  /** The byte address of a view of this arena's memory. */
  #addr(view: ArrayBufferView): number {
    if (view.buffer !== this.#buffer)
      throw new Error('@framecraft/temporal: an array outside the stabilizer arena');
    return view.byteOffset;
  }

  f32(n: number): Float32Array<ArrayBuffer> {
    return new Float32Array(this.#buffer, this.#take(4 * n), n);
  }

  f64(n: number): Float64Array<ArrayBuffer> {
    return new Float64Array(this.#buffer, this.#take(8 * n), n);
  }

  i32(n: number): Int32Array<ArrayBuffer> {
    return new Int32Array(this.#buffer, this.#take(4 * n), n);
  }

  u8(n: number): Uint8Array<ArrayBuffer> {
    return new Uint8Array(this.#buffer, this.#take(n), n);
  }

  frame(format: PixelFormat): Frame {
    return frameOf(this.width, this.height, format, (bytes) => this.u8(bytes));
  }

  /**
   * Composite the output (see stabilizer-kernel.wat): `ring` frames and `out` from this arena,
   * the new stylized frame in ring slot `slot`, `slots[f − first]` the ring slot of frame f.
   */
  composite(
    ring: readonly Frame[],
    slots: Int32Array,
    first: number,
    slot: number,
    a: HistorySource,
    b: HistorySource,
    wA: Float32Array,
    wB: Float32Array,
    out: Frame,
  ): void {
    const info = pixelFormatInfo(out.format);
    const geometry = planeGeometry(out.format, out.width, out.height);
    const r0 = ring[0]!.planes;
    const step = ring.length > 1 ? this.#addr(ring[1]!.planes[0]!.data) - this.#addr(r0[0]!.data) : 0;
    for (const [p, g] of geometry.entries()) {
      const yuvChroma = info.yuv && p > 0;
      this.#x.composite(
        this.#addr(r0[p]!.data),
        step,
        this.#addr(slots),
        first,
        this.#addr(a.frameNo),
        this.#addr(a.coord),
        this.#addr(b.frameNo),
        this.#addr(b.coord),
        this.#addr(wA),
        this.#addr(wB),
        this.#addr(ring[slot]!.planes[p]!.data),
        this.#addr(out.planes[p]!.data),
        g.rowSamples,
        out.width,
        g.width,
        g.height,
        info.components,
        yuvChroma ? info.chromaShiftX : 0,
        yuvChroma ? info.chromaShiftY : 0,
        this.#acc,
        this.#lut64,
        this.#lut32,
      );
    }
  }

  /**
   * Follow the backward flow one frame: each pixel x of `next` takes the source (stored frame
   * number and position in it) of the history pixel nearest to x + flow(x), moved by the
   * remaining fraction. Positions stay sub-pixel exact, and the history is resampled once, from
   * the stylized frame it came from, when it is drawn — never resampled again and again
   * (repeated bicubic resampling over 30 frames of a slow pan, rotation and zoom: the variance of
   * the Laplacian fell to 0.31× of the per-frame style; rounding the flow to whole pixels instead
   * kept edges but let textures slide 0.5 px a frame over the content, and tracking the
   * remainder per pixel left jagged lines).
   */
  follow(chain: HistorySource, flow: Float32Array, next: HistorySource): void {
    this.#x.follow(
      this.width,
      this.height,
      this.#addr(chain.frameNo),
      this.#addr(chain.coord),
      this.#addr(flow),
      this.#addr(next.frameNo),
      this.#addr(next.coord),
    );
  }

  /**
   * 1 into `ok` where `mask` passes and `cur` is within `limit` of the luma at the source of
   * `next` (ring luma slots laid out one after another from `ringLuma[0]`), else 0.
   */
  check(
    next: HistorySource,
    ringLuma: readonly Uint8Array[],
    slots: Int32Array,
    first: number,
    mask: Uint8Array,
    cur: Uint8Array,
    limit: number,
    ok: Float32Array,
  ): void {
    const step = ringLuma.length > 1 ? this.#addr(ringLuma[1]!) - this.#addr(ringLuma[0]!) : 0;
    this.#x.check(
      this.width,
      this.height,
      this.#addr(ringLuma[0]!),
      step,
      this.#addr(slots),
      first,
      this.#addr(next.frameNo),
      this.#addr(next.coord),
      this.#addr(mask),
      this.#addr(cur),
      limit,
      this.#addr(ok),
    );
  }

  /**
   * The history keeps `next`'s source where `ok` and `coarse` are both at least `share`, and
   * starts over at frame `index` elsewhere; `keep` gets 1 or 0. Returns how many were kept.
   */
  commit(
    chain: HistorySource,
    next: HistorySource,
    ok: Float32Array,
    coarse: Float32Array,
    share: number,
    index: number,
    keep: Float32Array,
  ): number {
    return this.#x.commit(
      this.width,
      this.height,
      index,
      share,
      this.#addr(ok),
      this.#addr(coarse),
      this.#addr(chain.frameNo),
      this.#addr(chain.coord),
      this.#addr(next.frameNo),
      this.#addr(next.coord),
      this.#addr(keep),
    );
  }

  /**
   * Box blur of radius `r` (edges clamped), in place, of `ch` interleaved channels of a field of
   * the arena's size, with `tmp` as long as `data` and `columns` of at least width × ch doubles.
   * Sums in doubles.
   */
  blur(data: Float32Array, r: number, ch: number, tmp: Float32Array, columns: Float64Array): void {
    const { width: w, height: h } = this;
    if (columns.length < w * ch) throw new Error('@framecraft/temporal: blur columns too short');
    this.#x.blur(this.#addr(data), w, h, r, ch, this.#addr(tmp), this.#addr(columns));
  }
}

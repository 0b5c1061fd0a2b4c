import {
  type Frame,
  lazyWasmModule,
  type PixelFormat,
  pixelFormatInfo,
  planeGeometry,
  UNKNOWN_COLOR,
} from '@framecraft/core';
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

/** A history's per-pixel source: frame number, and position (x, y) in that frame. */
interface History {
  readonly frameNo: Int32Array;
  readonly coord: Float32Array;
}

/**
 * One WebAssembly memory holding the arrays of a flow stabilizer for one frame size, and the
 * kernels that run over them (stabilizer-kernel.wat). The memory is sized once, before any view
 * is taken, and never grows (a grown memory would detach every view); a new frame size gets a new
 * arena. The stabilizer's TypeScript passes use the same arrays as plain typed-array views.
 */
export class StabilizerArena {
  readonly #x: StabilizerExports;
  readonly #buffer: ArrayBuffer;
  #at = 0;
  readonly #end: number;
  /** Scratch for the kernels (4 doubles). */
  readonly #acc: number;
  /** The resampling weights' tables (see the constructor). */
  readonly #lut64: number;
  readonly #lut32: number;
  /** The blur's column sums (doubles), once reserved. */
  #col = -1;
  #colLength = 0;

  private constructor(x: StabilizerExports, bytes: number) {
    this.#x = x;
    const have = x.memory.buffer.byteLength;
    if (have < bytes) x.memory.grow(Math.ceil((bytes - have) / 65536));
    this.#buffer = x.memory.buffer as ArrayBuffer;
    this.#end = bytes;
    this.#acc = this.#take(32);
    // Lanczos-3 weights of the six taps around fractions 0, 1/64, …, 1: as doubles (6 a row) for
    // the scalar path, as floats (8 a row, the last two 0) for the vectors.
    this.#lut64 = this.#take(TABLE_ROWS * 48);
    this.#lut32 = this.#take(TABLE_ROWS * 32);
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

  /** Bytes an arena needs for these frames and arrays (each rounded up to 16 bytes). */
  static bytesFor(
    frames: { width: number; height: number; format: PixelFormat; count: number },
    arrays: { f32: number[]; i32: number[]; u8: number[] },
  ): number {
    const round = (n: number) => (n + 15) & ~15;
    const frame = planeGeometry(frames.format, frames.width, frames.height).reduce(
      (sum, g) => sum + round(g.rowSamples * g.height),
      0,
    );
    return (
      32 +
      TABLE_ROWS * (48 + 32) +
      frames.count * frame +
      arrays.f32.reduce((sum, n) => sum + round(4 * n), 0) +
      arrays.i32.reduce((sum, n) => sum + round(4 * n), 0) +
      arrays.u8.reduce((sum, n) => sum + round(n), 0)
    );
  }

  /**
   * An arena of a size (see {@link StabilizerArena.bytesFor}).
   *
   * @throws {Error} Where WebAssembly is unavailable.
   */
  static create(bytes: number): StabilizerArena {
    const module = stabilizerModule();
    if (module === null)
      throw new Error(
        '@framecraft/temporal: the flow stabilizer needs WebAssembly SIMD (Node 20+, Bun), which this runtime lacks',
      );
    return new StabilizerArena(
      new WebAssembly.Instance(module, {}).exports as unknown as StabilizerExports,
      bytes,
    );
  }

  #take(bytes: number): number {
    const at = this.#at;
    this.#at = (at + bytes + 15) & ~15;
    if (this.#at > this.#end) throw new Error('@framecraft/temporal: stabilizer arena too small');
    return at;
  }

  f32(n: number): Float32Array<ArrayBuffer> {
    return new Float32Array(this.#buffer, this.#take(4 * n), n);
  }

  i32(n: number): Int32Array<ArrayBuffer> {
    return new Int32Array(this.#buffer, this.#take(4 * n), n);
  }

  u8(n: number): Uint8Array<ArrayBuffer> {
    return new Uint8Array(this.#buffer, this.#take(n), n);
  }

  /** An 8-bit frame with tight rows whose planes live in the arena. */
  frame(width: number, height: number, format: PixelFormat): Frame {
    return {
      width,
      height,
      format,
      planes: planeGeometry(format, width, height).map((g) => ({
        data: this.u8(g.rowSamples * g.height),
        stride: g.rowSamples,
      })),
      pts: 0,
      timeBase: { num: 1, den: 90000 },
      duration: 0,
      color: UNKNOWN_COLOR,
      sampleAspect: { num: 1, den: 1 },
    };
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
    a: History,
    b: History,
    wA: Float32Array,
    wB: Float32Array,
    out: Frame,
  ): void {
    const info = pixelFormatInfo(out.format);
    const geometry = planeGeometry(out.format, out.width, out.height);
    const r0 = ring[0]!.planes;
    const step = ring.length > 1 ? ring[1]!.planes[0]!.data.byteOffset - r0[0]!.data.byteOffset : 0;
    for (const [p, g] of geometry.entries()) {
      const yuvChroma = info.yuv && p > 0;
      this.#x.composite(
        r0[p]!.data.byteOffset,
        step,
        slots.byteOffset,
        first,
        a.frameNo.byteOffset,
        a.coord.byteOffset,
        b.frameNo.byteOffset,
        b.coord.byteOffset,
        wA.byteOffset,
        wB.byteOffset,
        ring[slot]!.planes[p]!.data.byteOffset,
        out.planes[p]!.data.byteOffset,
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
  follow(chain: History, flow: Float32Array, w: number, h: number, next: History): void {
    this.#x.follow(
      w,
      h,
      chain.frameNo.byteOffset,
      chain.coord.byteOffset,
      flow.byteOffset,
      next.frameNo.byteOffset,
      next.coord.byteOffset,
    );
  }

  /**
   * 1 into `ok` where `mask` passes and `cur` is within `limit` of the luma at the source of
   * `next` (ring luma slots laid out one after another from `ringLuma[0]`), else 0.
   */
  check(
    next: History,
    ringLuma: readonly Uint8Array[],
    slots: Int32Array,
    first: number,
    mask: Uint8Array,
    cur: Uint8Array,
    limit: number,
    ok: Float32Array,
    w: number,
    h: number,
  ): void {
    const step = ringLuma.length > 1 ? ringLuma[1]!.byteOffset - ringLuma[0]!.byteOffset : 0;
    this.#x.check(
      w,
      h,
      ringLuma[0]!.byteOffset,
      step,
      slots.byteOffset,
      first,
      next.frameNo.byteOffset,
      next.coord.byteOffset,
      mask.byteOffset,
      cur.byteOffset,
      limit,
      ok.byteOffset,
    );
  }

  /**
   * The history keeps `next`'s source where `ok` and `coarse` are both at least `share`, and
   * starts over at frame `index` elsewhere; `keep` gets 1 or 0. Returns how many were kept.
   */
  commit(
    chain: History,
    next: History,
    ok: Float32Array,
    coarse: Float32Array,
    share: number,
    index: number,
    keep: Float32Array,
    w: number,
    h: number,
  ): number {
    return this.#x.commit(
      w,
      h,
      index,
      share,
      ok.byteOffset,
      coarse.byteOffset,
      chain.frameNo.byteOffset,
      chain.coord.byteOffset,
      next.frameNo.byteOffset,
      next.coord.byteOffset,
      keep.byteOffset,
    );
  }

  /** Room for the column sums of blurs of rows up to `samples` long (call once, after create). */
  reserveBlur(samples: number): void {
    this.#col = this.#take(8 * samples);
    this.#colLength = samples;
  }

  /**
   * Box blur of radius `r` (edges clamped), in place, of `ch` interleaved channels of a w × h
   * field, with `tmp` as long as `data` (both in this arena). Sums in doubles.
   */
  blur(data: Float32Array, w: number, h: number, r: number, ch: number, tmp: Float32Array): void {
    if (this.#col < 0 || this.#colLength < w * ch)
      throw new Error('@framecraft/temporal: blur rows longer than reserved');
    this.#x.blur(data.byteOffset, w, h, r, ch, tmp.byteOffset, this.#col);
  }
}

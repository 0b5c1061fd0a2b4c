import { instantiateKernel, lazyWasmModule } from '@framecraft/core';
import { BORDER, type PyramidLevel } from './pyramid.ts';
import { WASM_BASE64 } from './search-kernel.wasm.ts';

interface SearchExports {
  readonly memory: WebAssembly.Memory;
  // Parameters as the .wat declares them (all numbers); the methods below name them.
  readonly step: (...args: number[]) => void;
  readonly step8: (...args: number[]) => void;
  readonly descend: (...args: number[]) => void;
  readonly upsample: (...args: number[]) => void;
  readonly splat: (...args: number[]) => void;
}

const searchModule = lazyWasmModule(WASM_BASE64);

/** Floats of room past each array: vector reads run up to eight samples past a row's end. */
const PAD = 16;

/**
 * The patch search's inner loops in WebAssembly SIMD (search-kernel.wat): one level's I0, its
 * derivatives and the bordered I1 are copied into the kernel's memory (`load`, about 0.1 ms for
 * all levels of a 640×360 frame), then every patch comparison and the densification's sums run
 * there, four samples at a time. Sized once for the finest level of an estimator; coarser levels
 * fit in the same memory.
 */
export class SearchKernel {
  readonly #x: SearchExports;
  /** Byte offsets of I0, gx, gy, I1 (bordered), Ux, Uy and sumW. */
  readonly i0: number;
  readonly gx: number;
  readonly gy: number;
  readonly i1: number;
  readonly ux: number;
  readonly uy: number;
  readonly sw: number;
  /** The full-size interleaved flow of `upsample`, and its row buffers. */
  readonly #out: number;
  readonly #tx: number;
  readonly #ty: number;
  readonly #outFloats: number;
  /** Σd, Σd², Σd·gx, Σd·gy of the last `step`; then the (ux, uy) of the last `descend`. */
  readonly result: Float32Array;
  readonly #heap: Float32Array;
  #w = 0;
  #we = 0;

  private constructor(x: SearchExports, width: number, height: number, outW: number, outH: number) {
    this.#x = x;
    const n = width * height + PAD;
    const ne = (width + 2 * BORDER) * (height + 2 * BORDER) + PAD;
    const round = (k: number) => (k + 3) & ~3;
    let at = 16;
    const take = (k: number): number => {
      const o = at * 4;
      at += round(k);
      return o;
    };
    this.i0 = take(n);
    this.gx = take(n);
    this.gy = take(n);
    this.i1 = take(ne);
    this.ux = take(n);
    this.uy = take(n);
    this.sw = take(n);
    this.#outFloats = 2 * outW * outH;
    this.#out = take(this.#outFloats + PAD);
    this.#tx = take(width + PAD);
    this.#ty = take(width + PAD);
    const have = x.memory.buffer.byteLength;
    if (have < at * 4) x.memory.grow(Math.ceil((at * 4 - have) / 65536));
    this.#heap = new Float32Array(x.memory.buffer);
    this.result = this.#heap.subarray(0, 6);
  }

  /**
   * A kernel for levels up to a size, and flows of a full size.
   *
   * @returns The kernel, or null where WebAssembly SIMD is not available.
   */
  static create(width: number, height: number, outW: number, outH: number): SearchKernel | null {
    const module = searchModule();
    if (module === null) return null;
    const x = instantiateKernel<SearchExports>(module);
    return new SearchKernel(x, width, height, outW, outH);
  }

  /**
   * The flow's last step: the finest level's field (sw × sh) resized by a whole factor `f` of 2 or
   * 4 to the full size given at creation, vectors scaled by `scale`, into `flow` as (dx, dy) pairs.
   */
  upsample(
    Ux: Float32Array,
    Uy: Float32Array,
    sw: number,
    sh: number,
    f: number,
    scale: number,
    flow: Float32Array,
  ): void {
    const heap = this.#heap;
    heap.set(Ux.subarray(0, sw * sh), this.ux >> 2);
    heap.set(Uy.subarray(0, sw * sh), this.uy >> 2);
    this.#x.upsample(this.ux, this.uy, sw, sh, f, scale, this.#out, this.#tx, this.#ty);
    flow.set(heap.subarray(this.#out >> 2, (this.#out >> 2) + this.#outFloats));
  }

  /** Copy a pair's level into the kernel: L0's image and derivatives, L1's bordered image. */
  load(L0: PyramidLevel, L1: PyramidLevel): void {
    const heap = this.#heap;
    heap.set(L0.image, this.i0 >> 2);
    heap.set(L0.gx, this.gx >> 2);
    heap.set(L0.gy, this.gy >> 2);
    heap.set(L1.bordered, this.i1 >> 2);
    this.#w = L0.width;
    this.#we = L0.width + 2 * BORDER;
  }

  /**
   * Compare the template patch at sample `o0` of I0 with I1 around bordered sample `o1`
   * (bilinear weights given); sums land in {@link result}.
   */
  step(o0: number, o1: number, psz: number, ay: number, ax: number, grad: boolean): void {
    const b = o0 * 4;
    if (psz === 8) {
      this.#x.step8(
        this.i0 + b,
        this.gx + b,
        this.gy + b,
        this.i1 + o1 * 4,
        this.#w * 4,
        this.#we * 4,
        ax,
        ay,
        grad ? 1 : 0,
      );
      return;
    }
    const w00 = (1 - ay) * (1 - ax);
    const w01 = (1 - ay) * ax;
    const w10 = ay * (1 - ax);
    const w11 = ay * ax;
    this.#x.step(
      this.i0 + b,
      this.gx + b,
      this.gy + b,
      this.i1 + o1 * 4,
      this.#w * 4,
      this.#we * 4,
      psz,
      w00,
      w01,
      w10,
      w11,
      grad ? 1 : 0,
    );
  }

  /**
   * The gradient descent of the patch at (i, j) from (ux, uy) (see inverseSearch): the result's
   * (ux, uy) at indices 4 and 5 of {@link result}.
   */
  descend(
    i: number,
    j: number,
    psz: number,
    meanNorm: boolean,
    inner: number,
    ux: number,
    uy: number,
    h11: number,
    h12: number,
    h22: number,
    gsx: number,
    gsy: number,
    lo: number,
    hiY: number,
    hiX: number,
  ): void {
    const b = (i * this.#w + j) * 4;
    this.#x.descend(
      this.i0 + b,
      this.gx + b,
      this.gy + b,
      this.i1,
      this.#w * 4,
      this.#we,
      psz,
      meanNorm ? 1 : 0,
      inner,
      i,
      j,
      ux,
      uy,
      h11,
      h12,
      h22,
      gsx,
      gsy,
      BORDER,
      lo,
      hiY,
      hiX,
    );
  }

  /** A view of `n` floats at a byte offset (Ux, Uy or sumW of the loaded level). */
  view(offset: number, n: number): Float32Array {
    return this.#heap.subarray(offset >> 2, (offset >> 2) + n);
  }

  /** Densify one patch: a rows × cols block from sample `o0`, I1 around bordered sample `o1`. */
  splat(
    o0: number,
    o1: number,
    rows: number,
    cols: number,
    w00: number,
    w01: number,
    w10: number,
    w11: number,
    sx: number,
    sy: number,
  ): void {
    const b = o0 * 4;
    this.#x.splat(
      this.i0 + b,
      this.i1 + o1 * 4,
      this.ux + b,
      this.uy + b,
      this.sw + b,
      this.#w * 4,
      this.#we * 4,
      rows,
      cols,
      w00,
      w01,
      w10,
      w11,
      sx,
      sy,
    );
  }
}

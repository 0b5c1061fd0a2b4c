import { lazyWasmModule } from '@framecraft/core';
import { WASM_BASE64 } from './refine-kernel.wasm.ts';

interface RefineExports {
  readonly memory: WebAssembly.Memory;
  readonly data: (n: number, delta2: number, gamma2: number, ...arrays: number[]) => void;
  readonly sor: (
    w: number,
    h: number,
    iterations: number,
    omega: number,
    du: number,
    stride: number,
    sm: number,
    planes: number,
    S: number,
  ) => void;
  readonly smooth: (end: number, w: number, alpha2: number, ...arrays: number[]) => void;
  readonly rhs: (start: number, end: number, w: number, omega: number, ...arrays: number[]) => void;
}

const refineModule = lazyWasmModule(WASM_BASE64);

/** Whether this runtime has WebAssembly SIMD (the kernel compiles). */
export function refineKernelAvailable(): boolean {
  return refineModule() !== null;
}

/** The refinement's arrays the kernel reads and writes, in that order in its memory. */
export const KERNEL_ARRAYS = [
  'du',
  'dv',
  'rhsU',
  'rhsV',
  'inv11',
  'inv22',
  'a12',
  'smooth',
  'Ix',
  'Iy',
  'Iz',
  'Ixx',
  'Ixy',
  'Iyy',
  'Ixz',
  'Iyz',
  'a11',
  'a22',
  'b1',
  'b2',
  'U',
  'V',
] as const;

/**
 * The refinement's data terms, smoothness weights, fixed right-hand sides and red-black SOR
 * sweeps in WebAssembly SIMD (refine-kernel.wat),
 * with their arrays in its own memory: one instance per level size of an estimator, so the
 * arrays are plain Float32Array views the TypeScript code fills directly (no copies) and never
 * move.
 */
export class RefineKernel {
  readonly #exports: RefineExports;
  readonly #offsets: readonly number[];
  readonly #n: number;
  readonly #w: number;
  readonly #h: number;
  /** Byte offset of the sweeps' colour planes, and their row length in floats. */
  readonly #planes: number;
  readonly #S: number;
  /** Views of the arrays by name, each `n` floats. */
  readonly arrays: Readonly<Record<(typeof KERNEL_ARRAYS)[number], Float32Array>>;

  private constructor(exports: RefineExports, w: number, h: number) {
    const n = w * h;
    this.#n = n;
    this.#w = w;
    this.#h = h;
    this.#exports = exports;
    // Each array padded to a multiple of 16 floats (the kernel reads eight floats at a time).
    const stride = (n + 16 + 15) & ~15;
    this.#planes = KERNEL_ARRAYS.length * stride * 4;
    // The sweeps' 22 colour planes: rows −1 … h, each with room for vectors past its end.
    this.#S = (Math.ceil(w / 2) + 5 + 3) & ~3;
    const bytes = this.#planes + 22 * (h + 2) * this.#S * 4;
    const have = exports.memory.buffer.byteLength;
    if (have < bytes) exports.memory.grow(Math.ceil((bytes - have) / 65536));
    this.#offsets = KERNEL_ARRAYS.map((_, k) => k * stride * 4);
    this.arrays = Object.fromEntries(
      KERNEL_ARRAYS.map((name, k) => [name, new Float32Array(exports.memory.buffer, this.#offsets[k], n)]),
    ) as RefineKernel['arrays'];
  }

  /**
   * A kernel for fields of a size (a fresh instance: its memory starts zeroed).
   *
   * @returns The kernel, or null where WebAssembly SIMD is not available.
   */
  static create(w: number, h: number): RefineKernel | null {
    const module = refineModule();
    if (module === null) return null;
    return new RefineKernel(new WebAssembly.Instance(module, {}).exports as unknown as RefineExports, w, h);
  }

  /** The data terms' normal equations (a11, a12, a22, b1, b2) from the derivatives and du, dv. */
  data(delta2: number, gamma2: number): void {
    const o = this.#offsets;
    // ix iy iz ixx ixy iyy ixz iyz du dv a11 a12 a22 b1 b2
    this.#exports.data(
      this.#n,
      delta2,
      gamma2,
      o[8]!,
      o[9]!,
      o[10]!,
      o[11]!,
      o[12]!,
      o[13]!,
      o[14]!,
      o[15]!,
      o[0]!,
      o[1]!,
      o[16]!,
      o[6]!,
      o[17]!,
      o[18]!,
      o[19]!,
    );
  }

  /** Smoothness weights of the pixels [0, end) (the rows above the last; see the .wat). */
  smooth(end: number, w: number, alpha2: number): void {
    const o = this.#offsets;
    // U V du dv sm
    this.#exports.smooth(end, w, alpha2, o[20]!, o[21]!, o[0]!, o[1]!, o[7]!);
  }

  /** Denominators and right-hand sides of the pixels [start, end) (rows with four neighbours). */
  rhs(start: number, end: number, w: number, omega: number): void {
    const o = this.#offsets;
    // U V sm a11 a22 b1 b2 i11 i22 ru rv
    this.#exports.rhs(
      start,
      end,
      w,
      omega,
      o[20]!,
      o[21]!,
      o[7]!,
      o[16]!,
      o[17]!,
      o[18]!,
      o[19]!,
      o[4]!,
      o[5]!,
      o[2]!,
      o[3]!,
    );
  }

  /** Run `iterations` red-black sweeps over the field with relaxation `omega`. */
  sor(iterations: number, omega: number): void {
    const o = this.#offsets;
    this.#exports.sor(
      this.#w,
      this.#h,
      iterations,
      omega,
      o[0]!,
      o[1]! - o[0]!,
      o[7]!,
      this.#planes,
      this.#S,
    );
  }
}

import { instantiateKernel, lazyWasmModule } from '@framecraft/core';
import { WASM_BASE64 } from './refine-kernel.wasm.ts';

interface RefineExports {
  readonly memory: WebAssembly.Memory;
  // Parameters as the .wat declares them (all numbers); the methods below name them.
  readonly data: (...args: number[]) => void;
  readonly sor: (...args: number[]) => void;
  readonly smooth: (...args: number[]) => void;
  readonly rhs: (...args: number[]) => void;
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

type KernelArray = (typeof KERNEL_ARRAYS)[number];

/**
 * The refinement's data terms, smoothness weights, fixed right-hand sides and red-black SOR
 * sweeps in WebAssembly SIMD (refine-kernel.wat), with their arrays in its own memory: one
 * instance per level size of an estimator, so the arrays are plain Float32Array views the
 * TypeScript code fills directly (no copies) and never move.
 */
export class RefineKernel {
  readonly #exports: RefineExports;
  /** Byte offsets of the arrays by name. */
  readonly #at: Readonly<Record<KernelArray, number>>;
  readonly #n: number;
  readonly #w: number;
  readonly #h: number;
  /** Byte offset of the sweeps' colour planes, and their row length in floats. */
  readonly #planes: number;
  readonly #S: number;
  /** Views of the arrays by name, each `n` floats. */
  readonly arrays: Readonly<Record<KernelArray, Float32Array>>;

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
    this.#at = Object.fromEntries(KERNEL_ARRAYS.map((name, k) => [name, k * stride * 4])) as Record<
      KernelArray,
      number
    >;
    this.arrays = Object.fromEntries(
      KERNEL_ARRAYS.map((name) => [name, new Float32Array(exports.memory.buffer, this.#at[name], n)]),
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
    return new RefineKernel(instantiateKernel<RefineExports>(module), w, h);
  }

  /** The data terms' normal equations (a11, a12, a22, b1, b2) from the derivatives and du, dv. */
  data(delta2: number, gamma2: number): void {
    const a = this.#at;
    this.#exports.data(
      this.#n,
      delta2,
      gamma2,
      a.Ix,
      a.Iy,
      a.Iz,
      a.Ixx,
      a.Ixy,
      a.Iyy,
      a.Ixz,
      a.Iyz,
      a.du,
      a.dv,
      a.a11,
      a.a12,
      a.a22,
      a.b1,
      a.b2,
    );
  }

  /** Smoothness weights of the pixels [0, end) (the rows above the last; see the .wat). */
  smooth(end: number, w: number, alpha2: number): void {
    const a = this.#at;
    this.#exports.smooth(end, w, alpha2, a.U, a.V, a.du, a.dv, a.smooth);
  }

  /** Denominators and right-hand sides of the pixels [start, end) (rows with four neighbours). */
  rhs(start: number, end: number, w: number, omega: number): void {
    const a = this.#at;
    this.#exports.rhs(
      start,
      end,
      w,
      omega,
      a.U,
      a.V,
      a.smooth,
      a.a11,
      a.a22,
      a.b1,
      a.b2,
      a.inv11,
      a.inv22,
      a.rhsU,
      a.rhsV,
    );
  }

  /**
   * Run `iterations` red-black sweeps over the field with relaxation `omega` (the kernel reads du,
   * dv, rhsU, rhsV, inv11, inv22, a12 as seven consecutive arrays).
   */
  sor(iterations: number, omega: number): void {
    const a = this.#at;
    this.#exports.sor(
      this.#w,
      this.#h,
      iterations,
      omega,
      a.du,
      a.dv - a.du,
      a.smooth,
      this.#planes,
      this.#S,
    );
  }
}

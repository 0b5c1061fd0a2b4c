import { lazyWasmModule } from '@framecraft/core';
import { WASM_BASE64 } from './sor-kernel.wasm.ts';

interface SorExports {
  readonly memory: WebAssembly.Memory;
  readonly sor: (
    w: number,
    h: number,
    iterations: number,
    omega: number,
    du: number,
    dv: number,
    ru: number,
    rv: number,
    i11: number,
    i22: number,
    a12: number,
    sm: number,
  ) => void;
}

const sorModule = lazyWasmModule(WASM_BASE64);

/** Whether this runtime has WebAssembly SIMD (the kernel compiles). */
export function sorKernelAvailable(): boolean {
  return sorModule() !== null;
}

/** The arrays the SOR sweeps read and write, in that order in the kernel's memory. */
export const SOR_ARRAYS = ['du', 'dv', 'rhsU', 'rhsV', 'inv11', 'inv22', 'a12', 'smooth'] as const;

/**
 * The red-black SOR sweeps of the refinement in WebAssembly SIMD (sor-kernel.wat), with their
 * arrays in its own memory: one instance per level size of an estimator, so the arrays are
 * plain Float32Array views the TypeScript code fills directly (no copies) and never move.
 */
export class SorKernel {
  readonly #exports: SorExports;
  readonly #offsets: readonly number[];
  /** Views of the arrays, in {@link SOR_ARRAYS} order, each `n` floats. */
  readonly arrays: readonly Float32Array[];

  private constructor(exports: SorExports, n: number) {
    this.#exports = exports;
    // Each array padded to a multiple of 16 floats (the kernel reads eight floats at a time).
    const stride = (n + 16 + 15) & ~15;
    const bytes = SOR_ARRAYS.length * stride * 4;
    const have = exports.memory.buffer.byteLength;
    if (have < bytes) exports.memory.grow(Math.ceil((bytes - have) / 65536));
    this.#offsets = SOR_ARRAYS.map((_, k) => k * stride * 4);
    this.arrays = this.#offsets.map((o) => new Float32Array(exports.memory.buffer, o, n));
  }

  /**
   * A kernel for fields of `n` pixels.
   *
   * @param n - Pixels per field.
   * @returns The kernel, or null where WebAssembly SIMD is not available.
   */
  static create(n: number): SorKernel | null {
    const module = sorModule();
    if (module === null) return null;
    return new SorKernel(new WebAssembly.Instance(module, {}).exports as unknown as SorExports, n);
  }

  /** Run `iterations` red-black sweeps over a w × h field with relaxation `omega`. */
  sor(w: number, h: number, iterations: number, omega: number): void {
    const [du, dv, ru, rv, i11, i22, a12, sm] = this.#offsets as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    this.#exports.sor(w, h, iterations, omega, du, dv, ru, rv, i11, i22, a12, sm);
  }
}

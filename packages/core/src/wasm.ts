/**
 * A WebAssembly module compiled from base64 the first time it is asked for, once per thread, or
 * null where this runtime cannot compile it (no SIMD): callers then use their TypeScript loop.
 *
 * @param base64 - The module's bytes, base64 (the `*.wasm.ts` files `scripts/build-wasm.ts` writes).
 * @returns A function giving the module, or null.
 */
export function lazyWasmModule(base64: string): () => WebAssembly.Module | null {
  let module: WebAssembly.Module | null | undefined;
  return () => {
    if (module === undefined) {
      try {
        module = new WebAssembly.Module(Buffer.from(base64, 'base64'));
      } catch {
        module = null;
      }
    }
    return module;
  };
}

/**
 * Instantiate a compiled kernel with its exports typed as the kernel's interface. WebAssembly
 * types exports as a record of unknown values; this is the one place they become the kernel's
 * functions (each package's tests call every export against its TypeScript fallback).
 *
 * @param module - The compiled kernel.
 * @param imports - What it imports (a shared memory, for example).
 * @returns Its exports.
 */
export function instantiateKernel<K>(
  module: WebAssembly.Module,
  imports: ConstructorParameters<typeof WebAssembly.Instance>[1] = {},
): K {
  return new WebAssembly.Instance(module, imports).exports as unknown as K;
}

import { instantiateKernel, lazyWasmModule } from '@framecraft/core';
import { WASM_BASE64 } from './warp-kernel.wasm.ts';

interface WarpExports {
  readonly memory: WebAssembly.Memory;
  readonly warp8: (
    src: number,
    stride: number,
    w: number,
    h: number,
    c: number,
    flow: number,
    dst: number,
    dstStride: number,
  ) => void;
  readonly mask: (back: number, fwd: number, w: number, h: number, out: number, boundaries: number) => void;
}

const warpModule = lazyWasmModule(WASM_BASE64);
let instance: WarpExports | null = null;
let enabled = true;

/** For the tests: run the TypeScript loops even where the kernel is available. */
export function useWarpKernel(on: boolean): void {
  enabled = on;
}

/** The kernel with at least `bytes` of memory, or null (no WebAssembly SIMD, or turned off). */
function kernel(bytes: number): WarpExports | null {
  if (!enabled) return null;
  if (instance === null) {
    const module = warpModule();
    if (module === null) return null;
    instance = instantiateKernel<WarpExports>(module);
  }
  const have = instance.memory.buffer.byteLength;
  if (have < bytes) instance.memory.grow(Math.ceil((bytes - have) / 65536));
  return instance;
}

const round16 = (n: number): number => (n + 15) & ~15;

/**
 * Warp an 8-bit plane of `c` interleaved components in the kernel (warp-kernel.wat): copies the
 * plane and the flow in and the result out (a few tenths of a millisecond at 720p against
 * 20–30 ms of TypeScript). Returns false when the kernel is not available.
 */
export function warp8(
  src: Uint8Array,
  stride: number,
  w: number,
  h: number,
  c: number,
  flow: Float32Array,
  dst: Uint8Array,
  dstStride: number,
): boolean {
  const srcBytes = (h - 1) * stride + w * c;
  const dstBytes = (h - 1) * dstStride + w * c;
  const flowAt = round16(srcBytes);
  const dstAt = flowAt + round16(8 * w * h);
  const x = kernel(dstAt + dstBytes);
  if (x === null) return false;
  const heap = new Uint8Array(x.memory.buffer);
  heap.set(src.subarray(0, srcBytes), 0);
  new Float32Array(x.memory.buffer, flowAt, 2 * w * h).set(flow.subarray(0, 2 * w * h));
  x.warp8(0, stride, w, h, c, flowAt, dstAt, dstStride);
  dst.set(heap.subarray(dstAt, dstAt + dstBytes));
  return true;
}

/**
 * The forward–backward consistency mask in the kernel (see consistencyMask); returns false when
 * the kernel is not available.
 */
export function maskKernel(
  back: Float32Array,
  fwd: Float32Array,
  w: number,
  h: number,
  out: Uint8Array,
  boundaries: boolean,
): boolean {
  const n = w * h;
  const fwdAt = round16(8 * n);
  const outAt = fwdAt + round16(8 * n);
  const x = kernel(outAt + n);
  if (x === null) return false;
  new Float32Array(x.memory.buffer, 0, 2 * n).set(back.subarray(0, 2 * n));
  new Float32Array(x.memory.buffer, fwdAt, 2 * n).set(fwd.subarray(0, 2 * n));
  x.mask(0, fwdAt, w, h, outAt, boundaries ? 1 : 0);
  out.set(new Uint8Array(x.memory.buffer, outAt, n));
  return true;
}

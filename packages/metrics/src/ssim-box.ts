import { instantiateKernel as instantiate, lazyWasmModule } from '@framecraft/core';
import type { LumaView } from './luma.ts';
import { WASM_BASE64 } from './ssim-box.wasm.ts';

// SSIM over 8×8 box windows on a 4-pixel grid: the algorithm of x264 and FFmpeg's `ssim` filter
// (4×4 block sums, every window made of 2×2 blocks). Integer sums, float score per window.

const C1 = 416; // round(0.01² · 255² · 64)
const C2 = 235964; // round(0.03² · 255² · 64 · 63)

/** Score of one window from its integer sums, with FFmpeg's float rounding. */
function windowScore(s1: number, s2: number, ss: number, s12: number): number {
  const q = s1 * s2;
  const vars = ss * 64 - s1 * s1 - s2 * s2;
  const covar = s12 * 64 - q;
  const f = Math.fround;
  return f(f(f(2 * q + C1) * f(2 * covar + C2)) / f(f(s1 * s1 + s2 * s2 + C1) * f(vars + C2)));
}

/**
 * Sum of the window scores in TypeScript (the portable path; the WebAssembly kernel computes the
 * same sums, four blocks and four windows at a time).
 */
function boxSumTs(a: LumaView, b: LumaView, bw: number, bh: number): number {
  const sums = [new Int32Array(bw * 4), new Int32Array(bw * 4)];
  const A = a.data;
  const B = b.data;
  let total = 0;
  for (let by = 0; by < bh; by++) {
    const cur = sums[by & 1]!;
    for (let bx = 0; bx < bw; bx++) {
      let s1 = 0;
      let s2 = 0;
      let ss = 0;
      let s12 = 0;
      for (let r = 0; r < 4; r++) {
        const ai = (by * 4 + r) * a.stride + bx * 4;
        const bi = (by * 4 + r) * b.stride + bx * 4;
        for (let c = 0; c < 4; c++) {
          const va = A[ai + c]!;
          const vb = B[bi + c]!;
          s1 += va;
          s2 += vb;
          ss += va * va + vb * vb;
          s12 += va * vb;
        }
      }
      cur[bx * 4] = s1;
      cur[bx * 4 + 1] = s2;
      cur[bx * 4 + 2] = ss;
      cur[bx * 4 + 3] = s12;
    }
    if (by === 0) continue;
    const prev = sums[(by - 1) & 1]!;
    for (let x = 0; x < bw - 1; x++) {
      const i = x * 4;
      const j = i + 4;
      total += windowScore(
        prev[i]! + prev[j]! + cur[i]! + cur[j]!,
        prev[i + 1]! + prev[j + 1]! + cur[i + 1]! + cur[j + 1]!,
        prev[i + 2]! + prev[j + 2]! + cur[i + 2]! + cur[j + 2]!,
        prev[i + 3]! + prev[j + 3]! + cur[i + 3]! + cur[j + 3]!,
      );
    }
  }
  return total;
}

/**
 * The kernel's exports: `ssimBox` scores the windows ending in block rows `by0 + 1 … by1 − 1`,
 * summing block row `by0` first unless `first` is 0 (see ssim-box.wat).
 */
export interface BoxKernel {
  readonly ssimBox: (
    a: number,
    b: number,
    stride: number,
    bw: number,
    by0: number,
    by1: number,
    sums: number,
    n4: number,
    first: number,
  ) => number;
}

/**
 * Block rows scored per kernel call. A slab of two 1080p images (2 × 64 rows × 1920 bytes) is
 * still in the core's cache when the kernel reads it right after it was copied in.
 */
const SLAB = 16;

/**
 * Sum of the window scores of block rows [by0, by1) (as `ssimBox` counts them), one slab at a
 * time. Before each slab, `ready(y0, y1)` must make pixel rows y0 … y1 − 1 of both images
 * available in kernel memory: copy them in, or wait for the thread that does.
 */
export function scoreSlabs(
  k: BoxKernel,
  layout: Pick<BoxLayout, 'a' | 'b' | 'stride' | 'bw' | 'n4'>,
  sums: number,
  by0: number,
  by1: number,
  ready: (y0: number, y1: number) => void,
): number {
  let total = 0;
  for (let s = by0; s < by1; ) {
    const e = Math.min(by1, s + SLAB);
    ready(s * 4, e * 4);
    // After the first slab, block row s − 1 is summed already: the kernel starts from it.
    const first = s === by0 ? 1 : 0;
    total += k.ssimBox(
      layout.a,
      layout.b,
      layout.stride,
      layout.bw,
      s - 1 + first,
      e,
      sums,
      layout.n4,
      first,
    );
    s = e;
  }
  return total;
}

/** Largest kernel memory in 64 KiB pages (256 MiB: two 8K frames and their sums fit). */
const MAX_PAGES = 4096;

/** A shared memory for the kernel: threads scoring one image all see it. */
export function createKernelMemory(): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
}

const kernelModule = lazyWasmModule(WASM_BASE64);

/** An instance of the kernel over `memory`; null without WebAssembly SIMD or shared memory. */
export function instantiateKernel(memory: WebAssembly.Memory): BoxKernel | null {
  const module = kernelModule();
  if (module === null) return null;
  try {
    return instantiate<BoxKernel>(module, { env: { memory } });
  } catch {
    return null;
  }
}

let kernel: { memory: WebAssembly.Memory; exports: BoxKernel } | null | undefined;

/** One kernel instance per thread (its memory grows to the largest frame seen); null without WebAssembly SIMD. */
function boxKernel(): { memory: WebAssembly.Memory; exports: BoxKernel } | null {
  if (kernel === undefined) {
    let memory: WebAssembly.Memory | undefined;
    try {
      memory = createKernelMemory();
    } catch {
      memory = undefined;
    }
    const exports = memory === undefined ? null : instantiateKernel(memory);
    kernel = memory === undefined || exports === null ? null : { memory, exports };
  }
  return kernel;
}

/** Where an image pair and its block sums sit in kernel memory. */
export interface BoxLayout {
  readonly bw: number;
  readonly bh: number;
  /** Row stride of both images in kernel memory (the image width). */
  readonly stride: number;
  /** Byte offsets of a and b. */
  readonly a: number;
  readonly b: number;
  /** Byte offset of the first sums area; area t is at `sums + t * sumsBytes`. */
  readonly sums: number;
  readonly sumsBytes: number;
  readonly n4: number;
  /** Bytes needed for `areas` sums areas. */
  readonly bytes: (areas: number) => number;
}

/** Kernel memory layout for a `width` × `height` pair: a and b (whole planes, tight rows, 16 bytes of slack for the last 16-byte loads), then the sums. */
export function boxLayout(width: number, height: number): BoxLayout {
  const bw = width >> 2;
  const bh = height >> 2;
  const stride = width;
  const image = Math.ceil((stride * height + 16) / 16) * 16;
  const n4 = Math.ceil((bw + 4) / 4) * 4;
  const sumsBytes = 2 * 4 * n4 * 4;
  return {
    bw,
    bh,
    stride,
    a: 0,
    b: image,
    sums: 2 * image,
    sumsBytes,
    n4,
    bytes: (areas) => 2 * image + areas * sumsBytes,
  };
}

/** Grow `memory` to at least `bytes`. */
export function ensureBytes(memory: WebAssembly.Memory, bytes: number): void {
  const have = memory.buffer.byteLength;
  if (have < bytes) memory.grow(Math.ceil((bytes - have) / 65536));
}

/** Copy rows y0 … y1 − 1 of a and b into kernel memory as `layout` places them. */
function copyRows(
  mem: Uint8Array,
  layout: BoxLayout,
  a: LumaView,
  b: LumaView,
  y0: number,
  y1: number,
): void {
  copyIn(mem, layout.a, a, layout.stride, y0, y1);
  copyIn(mem, layout.b, b, layout.stride, y0, y1);
}

/** Copy rows y0 … y1 − 1 of a luma view into kernel memory at `offset`, rows `stride` apart. */
export function copyIn(
  mem: Uint8Array,
  offset: number,
  v: LumaView,
  stride: number,
  y0: number,
  y1: number,
): void {
  if (v.stride === stride) mem.set(v.data.subarray(y0 * stride, y1 * stride), offset + y0 * stride);
  else
    for (let y = y0; y < y1; y++)
      mem.set(v.data.subarray(y * v.stride, y * v.stride + v.width), offset + y * stride);
}

/** Which box kernel runs in this process: `wasm-simd`, or `typescript` without WebAssembly SIMD. */
export function boxKernelName(): 'wasm-simd' | 'typescript' {
  return boxKernel() === null ? 'typescript' : 'wasm-simd';
}

/**
 * Mean SSIM over 8×8 box windows on a 4-pixel grid, FFmpeg's `ssim` algorithm. Images must be at
 * least 8×8; the checks are the caller's.
 *
 * @param a - Reference luma.
 * @param b - Compared luma, same size.
 * @param portable - Force the TypeScript path.
 * @returns The mean score over (⌊w/4⌋ − 1)(⌊h/4⌋ − 1) windows.
 */
export function ssimBox(a: LumaView, b: LumaView, portable = false): number {
  const bw = a.width >> 2;
  const bh = a.height >> 2;
  const windows = (bw - 1) * (bh - 1);
  const k = portable ? null : boxKernel();
  if (k === null) return boxSumTs(a, b, bw, bh) / windows;
  const layout = boxLayout(a.width, a.height);
  ensureBytes(k.memory, layout.bytes(1));
  // One copy, then one kernel call: copying slab by slab just before scoring was measured no
  // faster on one thread (the helpers of ParallelSsim do gain from it: they start sooner).
  copyRows(new Uint8Array(k.memory.buffer), layout, a, b, 0, bh * 4);
  const { stride, sums, n4 } = layout;
  return k.exports.ssimBox(layout.a, layout.b, stride, bw, 0, bh, sums, n4, 1) / windows;
}

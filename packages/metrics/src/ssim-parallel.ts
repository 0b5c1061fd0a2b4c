import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { invalidRangeError } from '@framecraft/core';
import type { LumaView } from './luma.ts';
import { assertSameSize } from './luma.ts';
import {
  type BoxKernel,
  type BoxLayout,
  boxLayout,
  copyIn,
  createKernelMemory,
  ensureBytes,
  instantiateKernel,
  scoreSlabs,
} from './ssim-box.ts';

/** Pixel rows the caller copies in before it tells the helpers (one kernel slab). */
const SLAB_ROWS = 64;

// Control words in a shared Int32Array. The caller writes the job, bumps GENERATION and wakes the
// helpers; helper t scores its band of block rows into results[t] and bumps DONE. The caller copies
// the helpers' rows in slab by slab and publishes how far it got in READY (pixel rows), so the
// helpers start as soon as their first rows are there.
const GENERATION = 0;
const DONE = 1;
const STOP = 2;
const READY = 3;
const JOB = 4; // a, b, stride, bw, bh, sums, sumsBytes, n4, threads, band 0's share in 1/1000
/** Band 0's default share × threads: less than 1/threads, since that thread also copies the images in. */
const DEFAULT_SHARE = 0.92;
const CONTROL_WORDS = JOB + 10;
/**
 * How long a helper keeps polling for the next frame before it sleeps, and the caller for the
 * helpers' results, in ms. Waking a sleeping thread costs about 0.05 ms here, a sixth of a 1080p
 * frame; a bounded spin is the usual cure (OpenMP spins 200 ms by default).
 */
const SPIN_MS = 0.5;

/**
 * Block until `until(control[index])` holds: poll for up to {@link SPIN_MS}, then sleep on the
 * word with `Atomics.wait` (woken by `Atomics.notify` on it).
 *
 * @returns The word's value that satisfied `until`.
 */
export function waitFor(control: Int32Array, index: number, until: (value: number) => boolean): number {
  const t0 = performance.now();
  let value = Atomics.load(control, index);
  while (!until(value) && performance.now() - t0 < SPIN_MS) value = Atomics.load(control, index);
  while (!until(value)) {
    Atomics.wait(control, index, value);
    value = Atomics.load(control, index);
  }
  return value;
}

/** What a helper thread gets at start. */
export interface SsimHelperData {
  readonly memory: WebAssembly.Memory;
  readonly control: Int32Array;
  readonly results: Float64Array;
  /** This helper's band index (1 … threads − 1; the calling thread takes band 0). */
  readonly index: number;
}

/**
 * Block rows [by0, by1) that band `t` of `threads` passes to the kernel (by0 is summed, not
 * scored). Windows end in block rows 1 … bh − 1; band 0 (the calling thread's, which also copies
 * the images in) takes the share `first` of them, the helpers equal shares of the rest.
 */
export function band(bh: number, t: number, threads: number, first: number): [number, number] {
  const scored = bh - 1;
  const edge = (k: number): number =>
    k === 0
      ? 0
      : k === threads
        ? scored
        : Math.round(scored * (first + ((1 - first) * (k - 1)) / (threads - 1)));
  return [edge(t), 1 + edge(t + 1)];
}

/** The layout and band of the job in `control` for thread `index`. */
function jobOf(
  control: Int32Array,
  index: number,
): { layout: Pick<BoxLayout, 'a' | 'b' | 'stride' | 'bw' | 'n4'>; sums: number; by0: number; by1: number } {
  const [by0, by1] = band(control[JOB + 4]!, index, control[JOB + 8]!, control[JOB + 9]! / 1000);
  const layout = {
    a: control[JOB]!,
    b: control[JOB + 1]!,
    stride: control[JOB + 2]!,
    bw: control[JOB + 3]!,
    n4: control[JOB + 7]!,
  };
  return { layout, sums: control[JOB + 5]! + index * control[JOB + 6]!, by0, by1 };
}

/** Score helper band `index` of the job in `control`, slab by slab as the caller copies the rows in. */
export function scoreBand(kernel: BoxKernel, control: Int32Array, index: number): number {
  const { layout, sums, by0, by1 } = jobOf(control, index);
  // The caller is inside a synchronous copy loop that ends in a fraction of a millisecond.
  const wait = (_y0: number, y1: number): void => {
    while (Atomics.load(control, READY) < y1);
  };
  return scoreSlabs(kernel, layout, sums, by0, by1, wait);
}

function helperUrl(): URL {
  return new URL(import.meta.url.endsWith('.ts') ? './ssim-helper.ts' : './ssim-helper.js', import.meta.url);
}

/** Options of {@link ParallelSsim.create}. */
export interface ParallelSsimOptions {
  /** Threads scoring each image, the calling one included; default: the machine's parallelism, at most 8. */
  readonly threads?: number;
  /**
   * Share of the block rows the calling thread scores when it also copies frames in; default 0.46
   * with two threads. Frames written into {@link ParallelSsim.inputs} need no copy, and every thread
   * then takes an equal share.
   */
  readonly share?: number;
}

/**
 * Box-window SSIM (FFmpeg's `ssim` algorithm, the same value as `ssim(a, b, undefined, { window:
 * 'box' })`) computed by several threads at once: each scores a band of block rows of the same
 * image pair in shared WebAssembly memory. For scoring long videos on a machine that has idle cores;
 * inside a pipeline that already keeps every core busy, the single-threaded `ssim` is the better fit.
 *
 * `ssim()` is synchronous: the calling thread takes a band itself and then waits (`Atomics.wait`)
 * for the helpers, so it blocks for the fraction of a millisecond a 1080p frame takes.
 *
 * @example
 * ```ts
 * await using pool = await ParallelSsim.create({ threads: 2 })
 * const score = pool.ssim(lumaOf(reference), lumaOf(encoded))
 * ```
 */
export class ParallelSsim {
  readonly threads: number;
  readonly #memory: WebAssembly.Memory;
  readonly #kernel: BoxKernel;
  readonly #control: Int32Array;
  readonly #results: Float64Array;
  readonly #helpers: Worker[];
  readonly #share: number;
  /** The planes handed out by `inputs()`: the buffer they view and their size. */
  #inputs: { buffer: ArrayBufferLike; width: number; height: number } | null = null;
  #closed = false;

  private constructor(
    threads: number,
    memory: WebAssembly.Memory,
    kernel: BoxKernel,
    control: Int32Array,
    results: Float64Array,
    helpers: Worker[],
    share: number,
  ) {
    this.#share = share;
    this.threads = threads;
    this.#memory = memory;
    this.#kernel = kernel;
    this.#control = control;
    this.#results = results;
    this.#helpers = helpers;
  }

  /**
   * Start the helper threads.
   *
   * @throws {RangeError} For a thread count that is not an integer in [1, 64].
   * @throws {Error} When WebAssembly SIMD or shared memory is missing, or a helper fails to start.
   */
  static async create(options: ParallelSsimOptions = {}): Promise<ParallelSsim> {
    const threads = options.threads ?? Math.min(8, availableParallelism());
    if (!Number.isInteger(threads) || threads < 1 || threads > 64)
      throw invalidRangeError('an integer in [1, 64]', 'options.threads', threads);
    const memory = createKernelMemory();
    const kernel = instantiateKernel(memory);
    if (kernel === null) throw new Error('ParallelSsim needs WebAssembly SIMD and shared memory');
    const control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
    const results = new Float64Array(new SharedArrayBuffer(threads * 8));
    const helpers: Worker[] = [];
    try {
      for (let index = 1; index < threads; index++) {
        const data: SsimHelperData = { memory, control, results, index };
        const w = new Worker(helperUrl(), { workerData: data });
        helpers.push(w);
        await new Promise<void>((resolve, reject) => {
          w.once('message', () => resolve());
          w.once('error', reject);
          w.once('exit', (code) => reject(new Error(`SSIM helper thread exited with code ${code} at start`)));
        });
        w.removeAllListeners();
        // Helpers never keep a process alive on their own.
        w.unref();
      }
    } catch (err) {
      await Promise.all(helpers.map((w) => w.terminate()));
      throw err;
    }
    return new ParallelSsim(
      threads,
      memory,
      kernel,
      control,
      results,
      helpers,
      options.share ?? DEFAULT_SHARE / threads,
    );
  }

  /**
   * Two luma planes of `width` × `height` (tight rows) inside the pool's own memory. Frames written
   * there (read from a file, converted, decoded) are scored by {@link ParallelSsim.ssim} without
   * being copied in, in either role. A frame from elsewhere scored next to one of them is copied
   * into the other plane (the rows SSIM reads), and a call on two frames from elsewhere overwrites
   * both; the views themselves stay valid until `close`.
   *
   * @throws {RangeError} For sizes under 8×8 or that are not integers.
   * @throws {Error} After {@link ParallelSsim.close}.
   */
  inputs(width: number, height: number): { readonly a: LumaView; readonly b: LumaView } {
    if (this.#closed) throw new Error('ParallelSsim is closed');
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 8 || height < 8)
      throw invalidRangeError('integer sizes of at least 8x8', 'inputs', `${width}x${height}`);
    const layout = boxLayout(width, height);
    ensureBytes(this.#memory, layout.bytes(this.threads));
    const buffer = this.#memory.buffer;
    this.#inputs = { buffer, width, height };
    const plane = (offset: number): LumaView => ({
      data: new Uint8Array(buffer, offset, width * height),
      width,
      height,
      stride: width,
    });
    return { a: plane(layout.a), b: plane(layout.b) };
  }

  /** Where `v` sits in kernel memory when it is one of the planes `inputs()` handed out for this size, else -1. */
  #inputOffset(v: LumaView, layout: BoxLayout): number {
    const inputs = this.#inputs;
    const offset = v.data.byteOffset;
    return inputs !== null &&
      v.data.buffer === inputs.buffer &&
      (offset === layout.a || offset === layout.b) &&
      v.width === inputs.width &&
      v.height === inputs.height &&
      v.stride === inputs.width
      ? offset
      : -1;
  }

  /**
   * Mean box-window SSIM of two luma images of the same size (at least 8×8).
   *
   * @throws {RangeError} For different sizes or images smaller than 8×8.
   * @throws {Error} After {@link ParallelSsim.close}.
   */
  ssim(a: LumaView, b: LumaView): number {
    if (this.#closed) throw new Error('ParallelSsim is closed');
    assertSameSize(a, b);
    if (a.width < 8 || a.height < 8)
      throw invalidRangeError('frames of at least 8x8', 'a', `${a.width}x${a.height}`);
    const layout = boxLayout(a.width, a.height);
    ensureBytes(this.#memory, layout.bytes(this.threads));
    // Planes from inputs() are scored where they are, in whichever role; a frame from elsewhere is
    // copied into the plane the other one does not occupy. (SSIM is symmetric, so the roles only
    // need distinct places.)
    const inA = this.#inputOffset(a, layout);
    const inB = this.#inputOffset(b, layout);
    const other = (offset: number): number => (offset === layout.a ? layout.b : layout.a);
    const at = {
      ...layout,
      a: inA >= 0 ? inA : inB >= 0 ? other(inB) : layout.a,
      b: inB >= 0 ? inB : inA >= 0 ? other(inA) : layout.b,
    };
    const copyA = inA < 0;
    const copyB = inB < 0;
    const rows = layout.bh * 4;
    const mem = new Uint8Array(this.#memory.buffer);
    const copy = (y0: number, y1: number): void => {
      if (copyA) copyIn(mem, at.a, a, layout.stride, y0, y1);
      if (copyB) copyIn(mem, at.b, b, layout.stride, y0, y1);
    };
    let total: number;
    if (!copyA && !copyB) {
      this.#post(at, 1 / this.threads, rows);
      try {
        total = this.#scoreOwn(() => {});
      } finally {
        this.#awaitHelpers();
      }
    } else {
      // The helpers' rows (from the end of band 0 on) go in first, slab by slab, and the helpers
      // score each slab as it lands; then this thread copies and scores band 0 slab by slab.
      const split = this.threads === 1 ? rows : band(layout.bh, 1, this.threads, this.#share)[0] * 4;
      this.#post(at, this.#share, split);
      try {
        for (let y = split; y < rows; ) {
          const next = Math.min(rows, y + SLAB_ROWS);
          copy(y, next);
          Atomics.store(this.#control, READY, next);
          y = next;
        }
        total = this.#scoreOwn(copy);
      } finally {
        // Even when copying failed, the helpers must finish before anything else touches the memory.
        Atomics.store(this.#control, READY, rows);
        this.#awaitHelpers();
      }
    }
    for (let t = 1; t < this.threads; t++) total += this.#results[t]!;
    return total / ((layout.bw - 1) * (layout.bh - 1));
  }

  /** Wait until every helper has reported. */
  #awaitHelpers(): void {
    const helpers = this.threads - 1;
    waitFor(this.#control, DONE, (done) => done >= helpers);
  }

  /** Band 0 (this thread's), with `ready` copying its rows in. */
  #scoreOwn(ready: (y0: number, y1: number) => void): number {
    const { layout, sums, by0, by1 } = jobOf(this.#control, 0);
    return scoreSlabs(this.#kernel, layout, sums, by0, by1, ready);
  }

  #post(layout: BoxLayout, share: number, ready: number): void {
    const c = this.#control;
    c[JOB] = layout.a;
    c[JOB + 1] = layout.b;
    c[JOB + 2] = layout.stride;
    c[JOB + 3] = layout.bw;
    c[JOB + 4] = layout.bh;
    c[JOB + 5] = layout.sums;
    c[JOB + 6] = layout.sumsBytes;
    c[JOB + 7] = layout.n4;
    c[JOB + 8] = this.threads;
    c[JOB + 9] = Math.round(share * 1000);
    Atomics.store(c, READY, ready);
    Atomics.store(c, DONE, 0);
    Atomics.add(c, GENERATION, 1);
    Atomics.notify(c, GENERATION);
  }

  /** Stop the helper threads. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    Atomics.store(this.#control, STOP, 1);
    Atomics.add(this.#control, GENERATION, 1);
    Atomics.notify(this.#control, GENERATION);
    await Promise.all(
      this.#helpers.map(
        (w) =>
          new Promise<void>((resolve) => (w.threadId === -1 ? resolve() : w.once('exit', () => resolve()))),
      ),
    );
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

export const controlWords: { readonly GENERATION: number; readonly DONE: number; readonly STOP: number } = {
  GENERATION,
  DONE,
  STOP,
};

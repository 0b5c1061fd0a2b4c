import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { invalidRangeError } from '@framecraft/core';
import type { LumaView } from './luma.ts';
import { assertSameSize } from './luma.ts';
import {
  type BoxKernel,
  type BoxLayout,
  boxLayout,
  copyRows,
  createKernelMemory,
  ensureBytes,
  instantiateKernel,
  ssimBox,
} from './ssim-box.ts';

// Control words in a shared Int32Array. The caller writes the job, bumps GENERATION and wakes the
// helpers; helper t scores its band of block rows into results[t] and bumps DONE.
const GENERATION = 0;
const DONE = 1;
const STOP = 2;
const JOB = 3; // a, b, stride, bw, bh, sums, sumsBytes, n4, threads, band 0's share in 1/1000
/** Band 0's default share × threads: less than 1/threads, since that thread also copies the images in. */
const DEFAULT_SHARE = 0.92;
const CONTROL_WORDS = JOB + 10;

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

/** Score band `index` of the job in `control` with `kernel`. */
export function scoreBand(kernel: BoxKernel, control: Int32Array, index: number): number {
  const a = control[JOB]!;
  const b = control[JOB + 1]!;
  const stride = control[JOB + 2]!;
  const bw = control[JOB + 3]!;
  const bh = control[JOB + 4]!;
  const sums = control[JOB + 5]! + index * control[JOB + 6]!;
  const n4 = control[JOB + 7]!;
  const [by0, by1] = band(bh, index, control[JOB + 8]!, control[JOB + 9]! / 1000);
  return by1 > by0 ? kernel.ssimBox(a, b, stride, bw, by0, by1, sums, n4) : 0;
}

function helperUrl(): URL {
  return new URL(import.meta.url.endsWith('.ts') ? './ssim-helper.ts' : './ssim-helper.js', import.meta.url);
}

/** Options of {@link ParallelSsim.create}. */
export interface ParallelSsimOptions {
  /** Threads scoring each image, the calling one included; default: the machine's parallelism, at most 8. */
  readonly threads?: number;
  /** Share of the block rows the calling thread scores (it also copies the images in); default 0.46 with two threads. */
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
    if (this.threads === 1) return ssimBox(a, b);
    ensureBytes(this.#memory, layout.bytes(this.threads));
    // The helpers' rows go in first and the helpers start on them while this thread copies the
    // rows of band 0 (which ends where band 1 starts) and scores them.
    const mem = new Uint8Array(this.#memory.buffer);
    const split = band(layout.bh, 1, this.threads, this.#share)[0] * 4;
    copyRows(mem, layout, a, b, split, layout.bh * 4);
    this.#post(layout);
    copyRows(mem, layout, a, b, 0, split);
    let total = scoreBand(this.#kernel, this.#control, 0);
    const helpers = this.threads - 1;
    for (
      let done = Atomics.load(this.#control, DONE);
      done < helpers;
      done = Atomics.load(this.#control, DONE)
    )
      Atomics.wait(this.#control, DONE, done);
    for (let t = 1; t < this.threads; t++) total += this.#results[t]!;
    return total / ((layout.bw - 1) * (layout.bh - 1));
  }

  #post(layout: BoxLayout): void {
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
    c[JOB + 9] = Math.round(this.#share * 1000);
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

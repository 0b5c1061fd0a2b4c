import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { assertInteger, type Frame, invalidRangeError } from '@framecraft/core';
import { meanLuma, mse, psnr, sharpness } from './basic.ts';
import { type EdgeOptions, edgeCoherence } from './edges.ts';
import { type LumaView, lumaOf } from './luma.ts';
import { createSsimScratch, type SsimOptions, type SsimScratch, ssim } from './ssim.ts';
import { globalFlicker, temporalConsistency } from './temporal.ts';
import { WarpingErrorMeter, type WarpingErrorOptions } from './warping.ts';

/** Which metrics to compute per frame; all on by default. */
export interface MetricSelection {
  readonly ssim?: boolean;
  readonly mse?: boolean;
  readonly edgeCoherence?: boolean;
  readonly sharpness?: boolean;
  readonly temporal?: boolean;
  /**
   * Warping error (Lai et al. 2018, see `warpingError`): two optical flows per measured
   * frame, the mask and the warp (~17 ms at 640×360, ~68 ms at 720p with the `fast` preset on
   * one core), so it can be turned off.
   */
  readonly warpingError?: boolean;
}

/** Options of {@link MetricsCollector.create}. */
export interface MetricsCollectorOptions {
  /** Style name written in every record. */
  readonly style: string;
  /** JSON-lines log, one record per sampled frame; nothing is written when omitted. */
  readonly path?: string;
  /** Measure every Nth frame (the first is always measured); 1 by default. */
  readonly sampleEvery?: number;
  readonly metrics?: MetricSelection;
  readonly edges?: EdgeOptions;
  /**
   * SSIM window and spacing (see {@link SsimOptions}). `{ window: 'box' }` costs under a
   * millisecond per 1080p frame — the choice for logging every frame of a long render; the
   * Gaussian default (~33 ms at step 2) suits sampled logs.
   */
  readonly ssim?: SsimOptions;
  /** Flow preset of the warping error (`fast` by default). */
  readonly warping?: WarpingErrorOptions;
}

/**
 * One frame's record. The first six fields are the original design's metrics log; the rest are ours.
 * A metric is absent when switched off (and `temporal_consistency` on a frame without a predecessor).
 */
export interface FrameRecord {
  readonly frame_idx: number;
  readonly style: string;
  /** Seconds spent stylizing the frame. */
  readonly processing_time: number;
  readonly edge_coherence?: number;
  readonly ssim?: number;
  readonly sharpness?: number;
  readonly mse?: number;
  readonly psnr?: number;
  readonly temporal_consistency?: number;
  /** Warping error against the previous frame (absent on a frame without a predecessor). */
  readonly warping_error?: number;
  readonly mean_luma: number;
  readonly input_mean_luma: number;
}

/** Distribution of one metric over the sampled frames. */
export interface MetricStats {
  readonly count: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
  readonly p5: number;
  readonly p50: number;
  readonly p95: number;
}

/** The summary {@link MetricsCollector.close} returns (and writes beside the log). */
export interface MetricsSummary {
  readonly style: string;
  readonly frames: number;
  readonly sampled: number;
  readonly metrics: Readonly<Record<string, MetricStats>>;
  /** Output mean-luma |Δ| relative to the input's, over every frame (see `globalFlicker`). */
  readonly global_flicker: number;
}

const STAT_FIELDS = [
  'processing_time',
  'edge_coherence',
  'ssim',
  'sharpness',
  'mse',
  'psnr',
  'temporal_consistency',
  'warping_error',
] as const;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * p;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * Summarise values: mean, min, max and the 5th, 50th and 95th percentiles.
 *
 * @param values - The samples.
 * @returns The statistics (NaN fields when empty).
 */
export function summarize(values: readonly number[]): MetricStats {
  const finite = values.filter(Number.isFinite);
  const sorted = [...finite].sort((a, b) => a - b);
  const sum = finite.reduce((s, v) => s + v, 0);
  return {
    count: finite.length,
    mean: finite.length ? sum / finite.length : Number.NaN,
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
    p5: percentile(sorted, 0.05),
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
  };
}

function copyLuma(v: LumaView, into: Uint8Array | undefined): LumaView {
  const size = v.width * v.height;
  const data = into !== undefined && into.length === size ? into : new Uint8Array(size);
  for (let y = 0; y < v.height; y++)
    data.set(v.data.subarray(y * v.stride, y * v.stride + v.width), y * v.width);
  return { data, stride: v.width, width: v.width, height: v.height };
}

/**
 * Measures each rendered frame against its source and writes the records as JSON lines while the
 * render runs, then summarises them.
 *
 * @example
 * ```ts
 * const metrics = await MetricsCollector.create({ style: 'pencil', path: 'work/metrics.jsonl', sampleEvery: 5 })
 * for (const [i, { input, output, seconds }] of frames.entries()) await metrics.record(i, input, output, seconds)
 * const summary = await metrics.close() // also written to work/metrics.summary.json
 * ```
 */
export class MetricsCollector implements AsyncDisposable {
  readonly #options: MetricsCollectorOptions;
  readonly #stream: WriteStream | undefined;
  readonly #values = new Map<string, number[]>();
  readonly #outputMeans: number[] = [];
  readonly #inputMeans: number[] = [];
  #prevIn: LumaView | undefined;
  #prevOut: LumaView | undefined;
  #prevIndex = -2;
  #scratch: SsimScratch | undefined;
  #rgbIn: Uint8Array | undefined;
  #rgbOut: Uint8Array | undefined;
  #frames = 0;
  #sampled = 0;
  #closed: MetricsSummary | undefined;
  #warping: WarpingErrorMeter | undefined;

  private constructor(options: MetricsCollectorOptions, stream: WriteStream | undefined) {
    this.#options = options;
    this.#stream = stream;
  }

  /**
   * Start collecting.
   *
   * @param options - Style, log path, sampling and metric choice.
   * @returns The collector; `close()` it to get the summary.
   * @throws {RangeError} For a sampling interval below 1.
   */
  static async create(options: MetricsCollectorOptions): Promise<MetricsCollector> {
    assertInteger(options.sampleEvery ?? 1, 'options.sampleEvery', 1);
    const window = options.ssim?.window ?? 'gaussian';
    if (window !== 'gaussian' && window !== 'box')
      throw invalidRangeError("'gaussian' or 'box'", 'options.ssim.window', window);
    let stream: WriteStream | undefined;
    if (options.path !== undefined) {
      stream = createWriteStream(options.path, { flags: 'w' });
      await once(stream, 'open');
    }
    return new MetricsCollector(options, stream);
  }

  /**
   * Measure one frame (if the sampling picks it) and append its record to the log.
   *
   * @param index - Frame index in the video.
   * @param input - The source frame.
   * @param output - The stylized frame (same size).
   * @param processingTime - Seconds the style took.
   * @returns The record, or null when the frame was not sampled.
   * @throws {RangeError} When input and output sizes differ.
   */
  async record(
    index: number,
    input: Frame,
    output: Frame,
    processingTime: number,
  ): Promise<FrameRecord | null> {
    if (this.#closed) throw new Error('MetricsCollector is closed');
    const o = this.#options;
    const sel = o.metrics ?? {};
    if (input.format === 'rgb24' && this.#rgbIn === undefined)
      this.#rgbIn = new Uint8Array(input.width * input.height);
    if (output.format === 'rgb24' && this.#rgbOut === undefined) {
      this.#rgbOut = new Uint8Array(output.width * output.height);
    }
    const inLuma = lumaOf(input, this.#rgbIn);
    const outLuma = lumaOf(output, this.#rgbOut);
    const outMean = meanLuma(outLuma);
    const inMean = meanLuma(inLuma);
    this.#outputMeans.push(outMean);
    this.#inputMeans.push(inMean);
    this.#frames++;
    const every = o.sampleEvery ?? 1;
    const sampled = this.#sampled === 0 || this.#frames % every === 1 || every === 1;
    let rec: FrameRecord | null = null;
    if (sampled) {
      this.#sampled++;
      const fields: Record<string, number> = {};
      if (sel.ssim !== false) {
        const box = o.ssim?.window === 'box';
        if (!box && (this.#scratch?.width !== inLuma.width || this.#scratch.height !== inLuma.height)) {
          this.#scratch = createSsimScratch(inLuma.width, inLuma.height);
        }
        fields.ssim = ssim(inLuma, outLuma, box ? undefined : this.#scratch, o.ssim);
      }
      if (sel.edgeCoherence !== false) fields.edge_coherence = edgeCoherence(inLuma, outLuma, o.edges);
      if (sel.sharpness !== false) fields.sharpness = sharpness(outLuma);
      if (sel.mse !== false) {
        fields.mse = mse(inLuma, outLuma);
        fields.psnr = psnr(fields.mse);
      }
      if (sel.warpingError !== false) {
        const e = this.#warpMeter().next(input, output, index);
        if (e !== null) fields.warping_error = e;
      }
      if (
        sel.temporal !== false &&
        this.#prevIn !== undefined &&
        this.#prevOut !== undefined &&
        this.#prevIndex === index - 1
      ) {
        fields.temporal_consistency = temporalConsistency(this.#prevOut, outLuma, this.#prevIn, inLuma);
      }
      rec = {
        frame_idx: index,
        style: o.style,
        processing_time: processingTime,
        ...fields,
        mean_luma: outMean,
        input_mean_luma: inMean,
      };
      for (const k of STAT_FIELDS) {
        const v = rec[k];
        if (v === undefined) continue;
        const list = this.#values.get(k);
        if (list === undefined) this.#values.set(k, [v]);
        else list.push(v);
      }
      if (this.#stream !== undefined && !this.#stream.write(`${JSON.stringify(rec)}\n`))
        await once(this.#stream, 'drain');
    }
    // The frame before a sampled one is kept for its warping error (its flow pyramid built then).
    if (!sampled && sel.warpingError !== false && (every === 1 || (this.#frames + 1) % every === 1))
      this.#warpMeter().next(input, output, index, false);
    if (sel.temporal !== false) this.#keep(inLuma, outLuma, index);
    return rec;
  }

  /**
   * Take a frame that is not recorded as the predecessor of the next one, for the temporal
   * measures of that frame (a chunk's last pre-roll frame, so the chunk's first frame is measured
   * as in an uninterrupted render).
   *
   * @param index - Frame index in the video.
   * @param input - The source frame.
   * @param output - The stylized frame (same size).
   */
  observe(index: number, input: Frame, output: Frame): void {
    if (this.#closed) throw new Error('MetricsCollector is closed');
    const sel = this.#options.metrics ?? {};
    if (sel.warpingError !== false) this.#warpMeter().next(input, output, index, false);
    if (sel.temporal !== false) {
      if (input.format === 'rgb24' && this.#rgbIn === undefined)
        this.#rgbIn = new Uint8Array(input.width * input.height);
      if (output.format === 'rgb24' && this.#rgbOut === undefined)
        this.#rgbOut = new Uint8Array(output.width * output.height);
      this.#keep(lumaOf(input, this.#rgbIn), lumaOf(output, this.#rgbOut), index);
    }
  }

  /** Keep a frame's luma for the next frame's temporal measure (copies: the caller reuses buffers). */
  #keep(inLuma: LumaView, outLuma: LumaView, index: number): void {
    this.#prevIn = copyLuma(inLuma, this.#prevIn?.data as Uint8Array | undefined);
    this.#prevOut = copyLuma(outLuma, this.#prevOut?.data as Uint8Array | undefined);
    this.#prevIndex = index;
  }

  #warpMeter(): WarpingErrorMeter {
    this.#warping ??= WarpingErrorMeter.create(this.#options.warping);
    return this.#warping;
  }

  /**
   * Summarise what was recorded so far.
   *
   * @returns Per-metric statistics and the global flicker ratio.
   */
  summary(): MetricsSummary {
    const metrics: Record<string, MetricStats> = {};
    for (const [k, v] of this.#values) metrics[k] = summarize(v);
    return {
      style: this.#options.style,
      frames: this.#frames,
      sampled: this.#sampled,
      metrics,
      global_flicker: globalFlicker(this.#outputMeans, this.#inputMeans),
    };
  }

  /**
   * Finish the log and write the summary beside it (`<log>.summary.json`, written atomically).
   *
   * @returns The summary.
   */
  async close(): Promise<MetricsSummary> {
    if (this.#closed) return this.#closed;
    const summary = this.summary();
    this.#closed = summary;
    if (this.#stream !== undefined) {
      this.#stream.end();
      await once(this.#stream, 'close');
      const path = `${this.#options.path!.replace(/\.jsonl?$/, '')}.summary.json`;
      await writeFile(`${path}.tmp`, `${JSON.stringify(summary, null, 2)}\n`);
      await rename(`${path}.tmp`, path);
    }
    return summary;
  }

  /** Close (`await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

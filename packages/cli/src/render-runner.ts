// The render of one input to one output as the CLI runs it (here or on a farm), shared by
// `render` and its batch mode (`--out-dir`).
import type { farmRender } from '@framecraft/farm';
import {
  BUILT_IN_PRESETS,
  type FramecraftLogger,
  loadPreset,
  parseJob,
  presetJobFields,
  type RenderProgress,
  render,
} from '@framecraft/pipeline';
import { UsageError } from './errors.ts';
import { type ProgressReporter, renderUpdate } from './progress.ts';
import { parseStyleOptions } from './style-flags.ts';

/** Options of `framecraft render`. */
export interface RenderCommandOptions {
  readonly style?: string;
  readonly preset?: string;
  readonly stylePreset?: string;
  readonly option?: readonly string[];
  readonly model?: string;
  readonly seed?: number;
  readonly chunkDuration?: number;
  readonly crf?: number;
  readonly codec?: string;
  readonly encoderPreset?: string;
  readonly workers?: number;
  /** `--temporal <mode>`, or false for `--no-temporal`. */
  readonly temporal?: 'flow' | 'ema' | 'off' | false;
  /** `--flow-at-style-scale`. */
  readonly flowAtStyleScale?: boolean;
  readonly reproducible?: boolean;
  /** false (`--no-fallback`): a missing model fails the render instead of falling back. */
  readonly fallback?: boolean;
  readonly metrics?: boolean;
  readonly restart?: boolean;
  readonly overwrite?: boolean;
  readonly json?: boolean;
  /** Also show the log (info and up) on stderr. */
  readonly verbose?: boolean;
  /** Render on the farm behind this Redis address instead of in this process. */
  readonly queue?: string;
  /** A folder every farm worker sees at the same path, for the work folder. */
  readonly shared?: string;
  /** With `queue`: return once queued. */
  readonly detach?: boolean;
  /** With `queue`: the queue for the chunks (`cpu` or `gpu`). */
  readonly resource?: 'cpu' | 'gpu';
  /** Render every input (files, folders, globs) into this folder. */
  readonly outDir?: string;
  /** With `outDir`: also the videos in subfolders of the folders given. */
  readonly recursive?: boolean;
  /** With `outDir`: keep watching the input folders and render each new video once it stops growing. */
  readonly watch?: boolean;
  /** With `watch`: seconds between looks at the folders (2). */
  readonly poll?: number;
  /** With `watch`: seconds a new file's size must stay the same before it is rendered (3). */
  readonly settle?: number;
}

/**
 * The render job for one input and output from the command's flags and preset.
 *
 * @param input - Source video.
 * @param output - Destination.
 * @param options - The flags.
 * @returns The job (checked later by the pipeline) and the style it renders.
 * @throws {UsageError} `ERR_USAGE` when neither `--style` nor the preset names a style.
 */
export async function renderJobOf(
  input: string,
  output: string,
  options: RenderCommandOptions,
): Promise<Record<string, unknown> & { readonly style: string }> {
  const presetName = options.preset ?? 'balanced';
  const fields = presetJobFields(await loadPreset(presetName));
  const style = styleOf(options, fields.style);
  return {
    ...fields,
    input,
    output,
    style,
    styleOptions: {
      ...(options.style === undefined ? fields.styleOptions : {}),
      // A file, or a registered name the pipeline resolves per chunk (new versions swap in).
      ...(options.model !== undefined && { model: options.model }),
      ...parseStyleOptions(options.option ?? []),
    },
    stylePreset: options.stylePreset ?? (presetName in BUILT_IN_PRESETS ? presetName : undefined),
    ...(options.seed !== undefined && { seed: options.seed }),
    ...(options.chunkDuration !== undefined && { chunkDuration: options.chunkDuration }),
    ...(options.crf !== undefined && { crf: options.crf }),
    ...(options.codec !== undefined && { codec: options.codec }),
    ...(options.encoderPreset !== undefined && { encoderPreset: options.encoderPreset }),
    ...(options.workers !== undefined && { workers: options.workers }),
    // --temporal <mode> or --no-temporal override the preset; without either the preset (and then
    // the style) decides.
    temporal: {
      ...fields.temporal,
      ...(options.temporal === false && { mode: 'off' as const }),
      ...(typeof options.temporal === 'string' && { mode: options.temporal }),
      ...(options.flowAtStyleScale === true && { flow: { atStyleScale: true } }),
    },
    metrics: { enabled: options.metrics ?? false },
    reproducible: options.reproducible !== false,
    onStyleError: options.fallback === false ? 'fail' : 'fallback',
  };
}

function styleOf(options: RenderCommandOptions, fromPreset: string | undefined): string {
  const style = options.style ?? fromPreset;
  if (style === undefined)
    throw new UsageError(
      'ERR_USAGE',
      `render needs --style (preset "${options.preset ?? 'balanced'}" names no style)`,
    );
  return style;
}

/**
 * The style a render with these flags uses: `--style`, else the preset's.
 *
 * @param options - The flags.
 * @returns The style's name.
 * @throws {UsageError} `ERR_USAGE` when neither names one.
 */
export async function renderStyleOf(options: RenderCommandOptions): Promise<string> {
  if (options.style !== undefined) return options.style;
  return styleOf(options, presetJobFields(await loadPreset(options.preset ?? 'balanced')).style);
}

/** What one finished render did, as `render` prints it (`--json`: its `done` event). */
export interface RenderSummary {
  readonly output: string | null;
  readonly style: string;
  /** The temporal mode the render used (the style's choice unless the job said). */
  readonly temporal: 'flow' | 'ema' | 'off';
  readonly frames: number;
  readonly chunks: number;
  readonly rendered: number;
  readonly reused: number;
  readonly encoders: readonly string[];
  readonly seconds: number;
  readonly fps: number;
  readonly metrics: string | null;
  readonly renderId?: string;
  readonly workers?: readonly string[];
  /** Peak resident memory of this process (worker threads included), MiB. */
  readonly peakRssMiB: number;
}

/** Where a render reports: progress, warnings, the log, the interrupt it stops on. */
export interface RenderContext {
  readonly progress: ProgressReporter;
  readonly signal: AbortSignal;
  readonly logger: FramecraftLogger['logger'];
  /** The latest progress, for what a rerun does after an interrupt. */
  onProgress?: (p: RenderProgress) => void;
  /** Extra fields for JSON warning events (a batch adds the input). */
  readonly tag?: Readonly<Record<string, unknown>>;
}

/**
 * Render one job here or on the farm, reporting through the context.
 *
 * @param job - From {@link renderJobOf}.
 * @param options - The flags.
 * @param ctx - Progress, abort signal, log.
 * @returns The summary, or the farm's queued state with `--detach`.
 */
export async function runRender(
  job: Record<string, unknown> & { readonly style: string; readonly output: string },
  options: RenderCommandOptions,
  ctx: RenderContext,
): Promise<
  | RenderSummary
  | { readonly queued: true; readonly renderId: string; readonly chunks: number; readonly reused: number }
> {
  const common = {
    logger: ctx.logger,
    restart: options.restart ?? false,
    overwrite: options.overwrite ?? false,
    signal: ctx.signal,
    onProgress: (p: RenderProgress) => {
      ctx.onProgress?.(p);
      ctx.progress.update(renderUpdate(p));
    },
    onWarning: (m: string) => {
      if (options.json)
        process.stdout.write(`${JSON.stringify({ event: 'warning', ...ctx.tag, message: m })}\n`);
      else {
        ctx.progress.stop();
        process.stderr.write(`warning: ${m}\n`);
      }
    },
  };
  let farm: Awaited<ReturnType<typeof farmRender>> | null = null;
  if (options.queue !== undefined) {
    // The farm (BullMQ and its Redis client, ~150 ms to load) only for renders that use it.
    const { farmRender } = await import('@framecraft/farm');
    farm = await farmRender(job, {
      ...common,
      queue: options.queue,
      ...(options.shared !== undefined && { shared: options.shared }),
      ...(options.detach !== undefined && { detach: options.detach }),
      ...(options.resource !== undefined && { resource: options.resource }),
    });
    if (farm.detached)
      return { queued: true, renderId: farm.renderId, chunks: farm.chunks, reused: farm.reused };
  }
  const result = farm ?? (await render(job, common));
  return {
    output: result.output,
    style: job.style,
    temporal: parseJob(job).temporal.mode,
    frames: result.frames,
    chunks: result.chunks,
    rendered: result.rendered,
    reused: result.reused,
    encoders: result.encoders,
    seconds: Number(result.seconds.toFixed(3)),
    fps: Number((result.frames / result.seconds).toFixed(1)),
    metrics: result.metrics?.log ?? null,
    ...(farm !== null && { renderId: farm.renderId, workers: farm.workers }),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

/**
 * What a rerun of an interrupted render does, from where it stood.
 *
 * @param at - The latest progress.
 * @param output - The output.
 * @param farm - Whether it renders on the farm.
 * @returns The sentence.
 */
export function resumeHint(at: RenderProgress | null, output: string, farm: boolean): string {
  const nothing = `nothing was written at ${output}`;
  if (farm)
    return `finished chunks are kept on the farm: run the same command again to continue (${nothing})`;
  if (at === null || at.stage === 'plan') return `run the same command again to start it (${nothing})`;
  if (at.stage === 'stitch' || at.chunksDone === at.chunks)
    return `all ${at.chunks} chunk(s) are rendered and kept: run the same command again to stitch them (${nothing})`;
  return `${at.chunksDone} of ${at.chunks} chunk(s) are done and kept: run the same command again to continue (${nothing})`;
}

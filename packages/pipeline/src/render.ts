// Render a job on this machine: plan (plan.ts), run the chunks (run.ts), finish (finish.ts).
import { FramecraftError } from '@framecraft/core';
import { finishRender, type RenderMetrics } from './finish.ts';
import { limitMallocRetention } from './malloc.ts';
import { modelRegistry } from './models.ts';
import { type PlanOptions, planRender } from './plan.ts';
import type { RenderProgress } from './progress.ts';
import { renderChunks } from './run.ts';

/** Options of {@link render}. */
export interface RenderOptions extends PlanOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: RenderProgress) => void;
}

/** What a finished render did. */
export interface RenderResult {
  /** The output path, or null when only some chunks were asked for. */
  readonly output: string | null;
  readonly frames: number;
  readonly chunks: number;
  /** Chunks rendered by this run. */
  readonly rendered: number;
  /** Chunks found finished in the work folder and reused. */
  readonly reused: number;
  readonly workDir: string;
  readonly encoders: readonly string[];
  readonly seconds: number;
  /** Per-frame metrics log and summary beside the output, when metrics are on. */
  readonly metrics: RenderMetrics | null;
}

/**
 * Render a job: plan chunks at keyframes, render the unfinished ones (worker threads, each chunk
 * warmed by pre-roll so its output depends only on the input and the job), journal each finished
 * segment, stitch them with the source's audio and subtitles, and put the output at its path only
 * when complete. Running the same job again after a crash or kill continues from the journal.
 *
 * @param input - A job (checked with `parseJob`).
 * @param options - Restart, overwrite, progress, abort, chunk selection, models.
 * @returns What was rendered and reused.
 * @throws {JobConfigError} For an invalid job.
 * @throws {JobChangedError} When the work folder holds a render of other settings (use `restart`).
 * @throws {OutputExistsError} When the output exists and `overwrite` is not set.
 * @throws {DiskFullError} When the disk is too full (before the render and before each chunk).
 * @example
 * const result = await render({ input: 'in.mp4', output: 'out.mp4', style: 'pencil' });
 * result.output; // '/abs/out.mp4'
 */
export async function render(input: unknown, options: RenderOptions = {}): Promise<RenderResult> {
  const log = options.logger;
  try {
    const result = await renderJob(input, options);
    log?.info(
      {
        output: result.output,
        frames: result.frames,
        chunks: result.chunks,
        rendered: result.rendered,
        reused: result.reused,
        seconds: Number(result.seconds.toFixed(3)),
        fps: Number((result.frames / result.seconds).toFixed(1)),
      },
      result.output === null ? 'chunks done' : 'render done',
    );
    return result;
  } catch (err) {
    log?.error(
      { code: FramecraftError.is(err) ? err.code : null, err: (err as Error).message },
      'render failed',
    );
    throw err;
  }
}

async function renderJob(input: unknown, options: RenderOptions): Promise<RenderResult> {
  const started = performance.now();
  await limitMallocRetention();
  const models = options.models ?? modelRegistry();
  const plan = await planRender(input, { ...options, models });
  const run = await renderChunks(plan, { ...options, models });
  const summary = {
    workDir: plan.workDir,
    encoders: run.encoders,
    rendered: run.rendered.length,
  };
  if (options.chunks !== undefined) {
    return {
      ...summary,
      output: null,
      frames: run.wanted.reduce((s, c) => s + c.end - c.start, 0),
      chunks: run.wanted.length,
      reused: run.wanted.length - run.rendered.length,
      seconds: (performance.now() - started) / 1000,
      metrics: null,
    };
  }
  run.progress.report('stitch');
  const { metrics } = await finishRender(plan, options);
  run.progress.report('done');
  return {
    ...summary,
    output: plan.output,
    frames: plan.totalFrames,
    chunks: plan.chunks.length,
    reused: plan.completed.size,
    seconds: (performance.now() - started) / 1000,
    metrics,
  };
}

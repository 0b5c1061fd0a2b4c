import type { farmRender } from '@framecraft/farm';
import {
  BUILT_IN_PRESETS,
  createLogger,
  loadPreset,
  presetJobFields,
  type RenderProgress,
  render,
} from '@framecraft/pipeline';
import { checkOutputPath, UsageError } from '../errors.ts';
import { listenForInterrupt } from '../interrupt.ts';
import { createProgress, progressMode, renderUpdate } from '../progress.ts';

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
  readonly temporal?: boolean;
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
}

/**
 * Parse `--option key=value` pairs into style options; values are JSON when they parse as JSON
 * (numbers, booleans), strings otherwise.
 *
 * @param pairs - The raw pairs.
 * @returns The options object.
 * @throws {UsageError} `ERR_USAGE` for a pair without `=`.
 */
export function parseStyleOptions(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new UsageError('ERR_USAGE', `--option ${pair}: expected key=value, for example sigma=8`);
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // A plain string (a path, a name).
    }
    out[key] = value;
  }
  return out;
}

/**
 * Stylize a whole video through the chunked, resumable pipeline.
 *
 * @param input - Source video.
 * @param output - Destination; appears only when complete.
 * @param options - Style, preset, encoder and run options.
 */
export async function renderCommand(
  input: string,
  output: string,
  options: RenderCommandOptions,
): Promise<void> {
  await checkOutputPath(input, output, options.overwrite ?? false);
  const presetName = options.preset ?? 'balanced';
  const preset = await loadPreset(presetName);
  const fields = presetJobFields(preset);
  const style = options.style ?? fields.style;
  if (style === undefined) {
    throw new UsageError('ERR_USAGE', `render needs --style (preset "${presetName}" names no style)`);
  }
  const job = {
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
    // commander sets temporal to true unless --no-temporal is given: only that overrides the preset.
    temporal: { ...fields.temporal, ...(options.temporal === false && { enabled: false }) },
    metrics: { enabled: options.metrics ?? false },
    reproducible: options.reproducible !== false,
    onStyleError: options.fallback === false ? 'fail' : 'fallback',
  };
  const progress = createProgress(progressMode(options.json ?? false), output);
  using interrupt = listenForInterrupt();
  // Every render is logged to the data folder's daily files; --verbose shows the log too.
  const log = createLogger(options.verbose ? { console: 'text', consoleLevel: 'info' } : {});
  let last: RenderProgress | null = null;
  try {
    const common = {
      logger: log.logger,
      restart: options.restart ?? false,
      overwrite: options.overwrite ?? false,
      signal: interrupt.signal,
      onProgress: (p: RenderProgress) => {
        last = p;
        progress.update(renderUpdate(p));
      },
      onWarning: (m: string) => {
        if (options.json) process.stdout.write(`${JSON.stringify({ event: 'warning', message: m })}\n`);
        else process.stderr.write(`warning: ${m}\n`);
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
      if (farm.detached) {
        progress.stop();
        const queued = { renderId: farm.renderId, queued: true, chunks: farm.chunks, reused: farm.reused };
        if (options.json) progress.done(queued);
        else
          process.stdout.write(
            `Queued ${output} on the farm as ${farm.renderId}: ${farm.chunks} chunk(s)` +
              `${farm.reused > 0 ? `, ${farm.reused} already done` : ''}. Run the same command without --detach to follow it.\n`,
          );
        return;
      }
    }
    const result = farm ?? (await render(job, common));
    progress.stop();
    const summary = {
      output: result.output,
      style,
      frames: result.frames,
      chunks: result.chunks,
      rendered: result.rendered,
      reused: result.reused,
      encoders: result.encoders,
      seconds: Number(result.seconds.toFixed(3)),
      fps: Number((result.frames / result.seconds).toFixed(1)),
      metrics: result.metrics?.log ?? null,
      ...(farm !== null && { renderId: farm.renderId, workers: farm.workers }),
      /** Peak resident memory of this process (worker threads included), MiB. */
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    };
    if (options.json) progress.done(summary);
    else {
      process.stdout.write(
        `Wrote ${result.output}: ${result.frames} frames in ${result.chunks} chunk(s)` +
          `${result.reused > 0 ? ` (${result.reused} reused from an earlier run)` : ''} in ${summary.seconds} s` +
          ` (${summary.fps} fps)${summary.metrics !== null ? `; metrics in ${summary.metrics}` : ''}` +
          `${farm !== null ? `; rendered on the farm by ${farm.workers.join(', ') || 'its workers'}` : ''}.\n`,
      );
    }
  } catch (err) {
    throw interrupt.explain(
      err,
      `The render of ${output}`,
      resumeHint(last, output, options.queue !== undefined),
    );
  } finally {
    progress.stop();
    await log.close();
  }
}

/** What a rerun of an interrupted render does, from where it stood. */
function resumeHint(at: RenderProgress | null, output: string, farm: boolean): string {
  const nothing = `nothing was written at ${output}`;
  if (farm)
    return `finished chunks are kept on the farm: run the same command again to continue (${nothing})`;
  if (at === null || at.stage === 'plan') return `run the same command again to start it (${nothing})`;
  if (at.stage === 'stitch' || at.chunksDone === at.chunks)
    return `all ${at.chunks} chunk(s) are rendered and kept: run the same command again to stitch them (${nothing})`;
  return `${at.chunksDone} of ${at.chunks} chunk(s) are done and kept: run the same command again to continue (${nothing})`;
}

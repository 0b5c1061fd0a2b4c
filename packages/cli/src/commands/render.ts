import { createLogger, type RenderProgress } from '@framecraft/pipeline';
import { checkOutputPath, UsageError } from '../errors.ts';
import { listenForInterrupt } from '../interrupt.ts';
import { createProgress, progressMode } from '../progress.ts';
import { type RenderCommandOptions, renderJobOf, resumeHint, runRender } from '../render-runner.ts';

/**
 * Stylize a whole video through the chunked, resumable pipeline; with `--out-dir`, every input
 * (files, folders, globs) into that folder (see {@link batchCommand}).
 *
 * @param args - `<input> <output>`, or inputs with `--out-dir`.
 * @param options - Style, preset, encoder and run options.
 * @throws {UsageError} `ERR_USAGE` for a wrong number of arguments.
 */
export async function renderCommand(args: readonly string[], options: RenderCommandOptions): Promise<void> {
  if (options.outDir !== undefined || options.watch === true) {
    const { batchCommand } = await import('./batch.ts');
    return batchCommand(args, options);
  }
  if (args.length !== 2)
    throw new UsageError(
      'ERR_USAGE',
      `render takes <input> <output>, or inputs (files, folders, globs) with --out-dir <folder>; got ${args.length} argument(s)`,
    );
  const [input, output] = args as [string, string];
  await checkOutputPath(input, output, options.overwrite ?? false);
  const job = await renderJobOf(input, output, options);
  const progress = createProgress(progressMode(options.json ?? false), output);
  using interrupt = listenForInterrupt();
  // Every render is logged to the data folder's daily files; --verbose shows the log too.
  const log = createLogger(options.verbose ? { console: 'text', consoleLevel: 'info' } : {});
  let last: RenderProgress | null = null;
  try {
    const summary = await runRender({ ...job, output }, options, {
      progress,
      signal: interrupt.signal,
      logger: log.logger,
      onProgress: (p) => {
        last = p;
      },
    });
    progress.stop();
    if ('queued' in summary) {
      if (options.json) progress.done(summary);
      else
        process.stdout.write(
          `Queued ${output} on the farm as ${summary.renderId}: ${summary.chunks} chunk(s)` +
            `${summary.reused > 0 ? `, ${summary.reused} already done` : ''}. Run the same command without --detach to follow it.\n`,
        );
      return;
    }
    if (options.json) progress.done({ ...summary });
    else {
      process.stdout.write(
        `Wrote ${summary.output}: ${summary.frames} frames in ${summary.chunks} chunk(s)` +
          `${summary.reused > 0 ? ` (${summary.reused} reused from an earlier run)` : ''} in ${summary.seconds} s` +
          ` (${summary.fps} fps)${summary.metrics !== null ? `; metrics in ${summary.metrics}` : ''}` +
          `${summary.workers !== undefined ? `; rendered on the farm by ${summary.workers.join(', ') || 'its workers'}` : ''}.\n`,
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

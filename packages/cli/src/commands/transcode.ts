import { transcode } from '@framecraft/io';
import { checkOutputPath } from '../errors.ts';
import { listenForInterrupt } from '../interrupt.ts';
import { createProgress, progressMode } from '../progress.ts';

/** Options of `framecraft transcode`. */
export interface TranscodeCommandOptions {
  readonly codec?: string;
  readonly crf?: number;
  readonly preset?: string;
  readonly lossless?: boolean;
  readonly overwrite?: boolean;
  readonly json?: boolean;
}

/**
 * Decode every frame and encode it again (the identity pass), carrying audio and subtitles over.
 *
 * @param input - Source video.
 * @param output - Destination; written under a temporary name and renamed when complete.
 * @param options - Encoder, output and display options.
 */
export async function transcodeCommand(
  input: string,
  output: string,
  options: TranscodeCommandOptions,
): Promise<void> {
  await checkOutputPath(input, output, options.overwrite ?? false);
  const progress = createProgress(progressMode(options.json ?? false), output);
  using interrupt = listenForInterrupt();
  try {
    const result = await transcode(input, output, {
      ...(options.codec !== undefined && { codec: options.codec }),
      ...(options.crf !== undefined && { crf: options.crf }),
      ...(options.preset !== undefined && { preset: options.preset }),
      ...(options.lossless !== undefined && { lossless: options.lossless }),
      signal: interrupt.signal,
      onProgress: (p) => progress.update(p),
      onWarning: (m) => {
        progress.stop();
        process.stderr.write(`${m}\n`);
      },
    });
    progress.stop();
    const summary = {
      output: result.path,
      encoder: result.encoder,
      frames: result.frames,
      seconds: Number(result.seconds.toFixed(3)),
      fps: Number((result.frames / result.seconds).toFixed(1)),
      copiedStreams: result.copiedStreams,
      skippedStreams: result.skippedStreams,
      fallback: result.fallback,
      size: result.size,
    };
    if (options.json) progress.done(summary);
    else {
      process.stdout.write(
        `Wrote ${result.path}: ${result.frames} frames with ${result.encoder} in ${summary.seconds} s (${summary.fps} fps)` +
          `${result.copiedStreams.length ? `, copied ${result.copiedStreams.length} other stream(s)` : ''}.\n`,
      );
    }
  } catch (err) {
    throw interrupt.explain(err, `The transcode of ${input}`, `nothing was written at ${output}`);
  } finally {
    progress.stop();
  }
}

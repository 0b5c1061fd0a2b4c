import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CanceledError, type PixelFormat } from '@framecraft/core';
import { type EncodedSize, encodedSize, paddedSizeNote } from './encoders.ts';
import { noFramesError } from './errors.ts';
import { existingOutput, outputContainer, outputEncoder } from './output-file.ts';
import { type RemuxResult, remux } from './remux.ts';
import { VideoReader } from './video-reader.ts';
import { type EncoderFallback, VideoWriter } from './video-writer.ts';

/** Progress of a transcode, reported about every frame. */
export interface TranscodeProgress {
  readonly stage: 'encode' | 'remux' | 'done';
  readonly frames: number;
  /** Expected frame count, 0 when unknown. */
  readonly totalFrames: number;
  /** Frames per second so far. */
  readonly fps: number;
  /** Seconds left, null when unknown. */
  readonly etaSeconds: number | null;
}

/** Options of {@link transcode}. */
export interface TranscodeOptions {
  /** Encoder name (see {@link VideoWriter.create}); `libx264` by default. */
  readonly codec?: string;
  readonly crf?: number;
  readonly preset?: string;
  readonly lossless?: boolean;
  /** Encoded pixel format; the source's 8- or 10-bit 4:2:0 by default. */
  readonly pixelFormat?: PixelFormat;
  /** Folder for the intermediate video segment; a fresh temporary folder by default (removed afterwards). */
  readonly workDir?: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: TranscodeProgress) => void;
  readonly onWarning?: (message: string) => void;
  readonly onFallback?: (event: EncoderFallback) => void;
}

/** The result of {@link transcode}. */
export interface TranscodeResult extends RemuxResult {
  readonly encoder: string;
  readonly frames: number;
  /** The encoded size (odd sizes padded to even). */
  readonly size: EncodedSize;
  readonly fallback: EncoderFallback | null;
  readonly seconds: number;
}

/**
 * Decode every frame into TypeScript, encode it again and carry the other streams over: the
 * identity pass every style builds on.
 *
 * @param input - Source video.
 * @param output - Destination; appears only when complete.
 * @param options - Encoder settings, progress and abort.
 * @returns What was written.
 * @throws {UnsupportedInputError} For an unreadable input.
 * @throws {CanceledError} When aborted; nothing is left at `output`.
 * @example
 * ```ts
 * await transcode('in.mp4', 'out.mp4', { crf: 18, onProgress: (p) => console.log(p.frames) })
 * ```
 */
export async function transcode(
  input: string,
  output: string,
  options: TranscodeOptions = {},
): Promise<TranscodeResult> {
  const started = performance.now();
  existingOutput(output);
  await using reader = await VideoReader.open(input);
  const s = reader.stream;
  const pixelFormat = options.pixelFormat ?? (s.bitDepth > 8 ? 'yuv420p10' : 'yuv420p');
  // WebM takes VP9 (its default) or AV1; elsewhere libx264 unless asked.
  const codec = outputEncoder(
    output,
    options.codec ?? (outputContainer(output) === 'webm' ? 'auto' : 'libx264'),
  );
  // Frames too large for the encoder are refused naming the input, not the temporary segment.
  encodedSize(codec, pixelFormat, s.width, s.height, input);
  const ownWork = options.workDir === undefined;
  const work = options.workDir ?? (await mkdtemp(join(tmpdir(), 'framecraft-')));
  const segment = join(work, 'video-0000.mp4');
  const removeWork = (): Promise<void> =>
    ownWork ? rm(work, { recursive: true, force: true }) : rm(segment, { force: true });
  const writer = await VideoWriter.create(segment, {
    width: s.width,
    height: s.height,
    timeBase: s.timeBase,
    frameRate: s.avgFrameRate,
    codec,
    ...(options.crf !== undefined && { crf: options.crf }),
    ...(options.preset !== undefined && { preset: options.preset }),
    ...(options.lossless !== undefined && { lossless: options.lossless }),
    pixelFormat,
    color: s.color,
    sampleAspect: s.sampleAspect,
    rotation: s.rotation,
    ...(options.onWarning && { onWarning: options.onWarning }),
    ...(options.onFallback && { onFallback: options.onFallback }),
  }).catch(async (err: unknown) => {
    await removeWork();
    throw err;
  });
  if (writer.size.padded)
    (options.onWarning ?? console.warn)(
      paddedSizeNote(input, s.width, s.height, writer.size, writer.encoder),
    );
  const total = s.frameCount;
  const report = (stage: TranscodeProgress['stage'], frames: number): void => {
    const elapsed = (performance.now() - started) / 1000;
    const fps = elapsed > 0 ? frames / elapsed : 0;
    const eta = total > 0 && fps > 0 ? Math.max(0, (total - frames) / fps) : null;
    options.onProgress?.({ stage, frames, totalFrames: total, fps, etaSeconds: stage === 'done' ? 0 : eta });
  };
  try {
    for await (const frame of reader.frames()) {
      if (options.signal?.aborted)
        throw new CanceledError(`Transcode of ${input}`, { cause: options.signal.reason });
      await writer.write(frame);
      report('encode', writer.frames);
    }
    if (writer.frames === 0) throw noFramesError(input);
    const written = await writer.close();
    report('remux', written.frames);
    const result = await remux({
      output,
      segments: [segment],
      source: input,
      ...(options.signal && { signal: options.signal }),
      ...(options.onWarning && { onWarning: options.onWarning }),
    });
    report('done', written.frames);
    return {
      ...result,
      encoder: written.encoder,
      frames: written.frames,
      fallback: written.fallback,
      size: written.size,
      seconds: (performance.now() - started) / 1000,
    };
  } catch (err) {
    await writer.abort();
    throw err;
  } finally {
    await removeWork();
  }
}

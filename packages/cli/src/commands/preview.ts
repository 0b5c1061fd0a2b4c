import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { cloneFrame, type Frame } from '@framecraft/core';
import { probe, VideoFilter, VideoReader, VideoWriter } from '@framecraft/io';
import { EmaStabilizer } from '@framecraft/temporal';
import { writeContactSheet } from '../contact-sheet.ts';
import { UsageError } from '../errors.ts';
import { styleFromFlags } from './models.ts';

/** Options of `framecraft preview`. */
export interface PreviewCommandOptions {
  readonly style: string;
  readonly stylePreset?: string;
  readonly option?: readonly string[];
  /** `--model`: a registered model name or an .onnx file (neural style). */
  readonly model?: string;
  /** Start time: seconds or [hh:]mm:ss[.ms]. */
  readonly at?: string;
  /** Stylized frames written as PNG beside their originals. */
  readonly frames?: number;
  /** Length of the low-resolution preview clip, seconds. */
  readonly seconds?: number;
  readonly out?: string;
  readonly seed?: number;
  readonly json?: boolean;
}

/**
 * Parse `12.5`, `01:02` or `00:01:02.5` into seconds.
 *
 * @param text - The time.
 * @returns Seconds.
 * @throws {UsageError} `ERR_USAGE` for anything else.
 */
export function parseTime(text: string): number {
  const m = /^(?:(\d+):)?(?:(\d+):)?(\d+(?:\.\d+)?)$/.exec(text.trim());
  if (m === null)
    throw new UsageError('ERR_USAGE', `--at ${text}: expected seconds or [hh:]mm:ss, for example 00:00:05`);
  const parts = [m[1], m[2], m[3]].filter((p) => p !== undefined).map(Number);
  return parts.reduce((s, v) => s * 60 + v, 0);
}

/**
 * Preview a style in seconds: a few stylized frames next to their originals as PNG (full
 * resolution), and a short low-resolution stylized clip, from a chosen time.
 *
 * @param input - Source video.
 * @param options - Style, time, frame count, clip length, output folder.
 */
export async function previewCommand(input: string, options: PreviewCommandOptions): Promise<void> {
  const started = performance.now();
  const { style, options: styleOptions } = await styleFromFlags(options);

  const at = options.at === undefined ? 0 : parseTime(options.at);
  const count = options.frames ?? 4;
  const seconds = options.seconds ?? 2;
  const dir = resolve(options.out ?? 'preview');
  await mkdir(dir, { recursive: true });
  const info = await probe(input);
  if (at >= info.duration)
    throw new UsageError(
      'ERR_USAGE',
      `--at ${options.at}: ${input} is only ${info.duration.toFixed(2)} s long`,
    );
  const seed = options.seed ?? 1;

  // Full-resolution frames: the original and the stylized one, side by side, one PNG per frame.
  const pngs: string[] = [];
  {
    const read = async (format: Frame['format']): Promise<Frame[]> => {
      await using reader = await VideoReader.open(input);
      const frames: Frame[] = [];
      for await (const f of reader.frames({ format, start: { time: at }, copy: true })) {
        frames.push(f);
        if (frames.length >= count) break;
      }
      return frames;
    };
    const inputs = await read(style.inputFormat);
    const originals = style.inputFormat === 'rgb24' ? inputs : await read('rgb24');
    const first = inputs[0];
    if (first !== undefined) {
      const instance = await style.create(styleOptions, { width: first.width, height: first.height, seed });
      for (const [i, frame] of inputs.entries()) {
        const styled = await instance.process(frame);
        const path = join(dir, `frame-${String(i).padStart(3, '0')}.png`);
        const t = ((frame.pts * frame.timeBase.num) / frame.timeBase.den).toFixed(3);
        await writeContactSheet(
          [
            [
              { frame: originals[i] ?? frame, label: `original ${t} s` },
              { frame: styled, label: options.style },
            ],
          ],
          path,
          Math.min(960, frame.width),
        );
        pngs.push(path);
      }
      instance.dispose();
    }
  }

  // A low-resolution clip (at most 360 lines): scaled in-process, stylized, stabilized, encoded.
  const clip = join(dir, 'preview.mp4');
  let written = 0;
  {
    await using reader = await VideoReader.open(input);
    const s = reader.stream;
    const h = Math.min(360, s.height - (s.height % 2));
    const w = Math.max(2, Math.round((s.width * h) / s.height / 2) * 2);
    const format = style.inputFormat;
    using scale = await VideoFilter.create(
      `scale=${w}:${h}:flags=area,format=${format === 'gray8' ? 'gray' : format}`,
    );
    const instance = await style.create(styleOptions, { width: w, height: h, seed });
    const ema = EmaStabilizer.create({ strength: 0.5 });
    let writer: VideoWriter | null = null;
    try {
      for await (const frame of reader.frames({ format, start: { time: at }, end: { time: at + seconds } })) {
        for (const small of scale.process(frame)) {
          const styled: Frame = ema.process(await instance.process(small));
          writer ??= await VideoWriter.create(clip, {
            width: w,
            height: h,
            timeBase: s.timeBase,
            frameRate: s.avgFrameRate,
            codec: 'libx264',
            preset: 'veryfast',
            crf: 23,
            color: styled.color,
          });
          await writer.write(cloneFrame(styled));
          written++;
        }
      }
      await writer?.close();
      writer = null;
    } finally {
      await writer?.abort();
      instance.dispose();
    }
  }
  const summary = {
    frames: pngs,
    clip: written > 0 ? clip : null,
    clipFrames: written,
    seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
  };
  if (options.json) process.stdout.write(`${JSON.stringify({ event: 'done', ...summary })}\n`);
  else {
    process.stdout.write(
      `Preview of ${options.style} from ${at.toFixed(2)} s in ${summary.seconds} s: ${pngs.length} frame(s) beside their originals in ${dir}` +
        `${written > 0 ? `, ${written}-frame clip ${clip}` : ''}.\n`,
    );
  }
}

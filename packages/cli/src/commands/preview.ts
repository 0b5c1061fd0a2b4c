import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { cloneFrame, type Frame } from '@framecraft/core';
import { noFramesError, probe, VideoFilter, VideoReader, VideoWriter } from '@framecraft/io';
import type { Stylizer } from '@framecraft/stylizers';
import { EmaStabilizer, FlowStabilizer } from '@framecraft/temporal';
import { writeContactSheet } from '../contact-sheet.ts';
import { UsageError } from '../errors.ts';
import { listenForInterrupt } from '../interrupt.ts';
import { createProgress, progressMode } from '../progress.ts';
import { styleFromFlags } from '../style-flags.ts';

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
  const info = await probe(input);
  if (options.at !== undefined && info.duration > 0 && at >= info.duration)
    throw new UsageError(
      'ERR_USAGE',
      `--at ${options.at}: ${input} is only ${info.duration.toFixed(2)} s long`,
    );
  await mkdir(dir, { recursive: true });
  const seed = options.seed ?? 1;
  using interrupt = listenForInterrupt();
  // Progress on stderr (a bar or lines); with --json only the result is printed.
  const progress = options.json ? null : createProgress(progressMode(false), 'preview');
  const report = (stage: string, frames: number, totalFrames: number): void => {
    const elapsed = (performance.now() - started) / 1000;
    progress?.update({
      stage,
      frames,
      totalFrames,
      fps: elapsed > 0 ? frames / elapsed : 0,
      etaSeconds: null,
    });
  };
  const pngs: string[] = [];
  let written = 0;
  try {
    const plan = { style, styleOptions, at, seed, dir, signal: interrupt.signal, report };
    await previewFrames(input, { ...plan, count, name: options.style }, pngs);
    written = await previewClip(input, { ...plan, seconds });
  } catch (err) {
    throw interrupt.explain(
      err,
      `The preview of ${input}`,
      `${pngs.length} of ${count} frame(s) were written in ${dir}, no clip; run it again for the whole preview`,
    );
  } finally {
    progress?.stop();
  }
  const clip = join(dir, 'preview.mp4');
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

/** What both halves of a preview need. */
interface PreviewPlan {
  readonly style: Stylizer;
  readonly styleOptions: unknown;
  readonly at: number;
  readonly seed: number;
  readonly dir: string;
  readonly signal: AbortSignal;
  readonly report: (stage: string, frames: number, total: number) => void;
}

/**
 * Full-resolution frames: the original and the stylized one side by side, one PNG each, upright
 * (a rotated phone video's display rotation applied), pushed onto `pngs` as they are written.
 */
async function previewFrames(
  input: string,
  plan: PreviewPlan & { readonly count: number; readonly name: string },
  pngs: string[],
): Promise<void> {
  const { style, at, count, signal } = plan;
  const read = async (format: Frame['format']): Promise<{ frames: Frame[]; rotation: number }> => {
    await using reader = await VideoReader.open(input);
    const frames: Frame[] = [];
    for await (const f of reader.frames({ format, start: { time: at }, copy: true })) {
      frames.push(f);
      if (frames.length >= count || signal.aborted) break;
    }
    return { frames, rotation: reader.stream.rotation };
  };
  const { frames: inputs, rotation } = await read(style.inputFormat);
  const first = inputs[0];
  if (first === undefined) throw noFramesError(input);
  const originals = style.inputFormat === 'rgb24' ? inputs : (await read('rgb24')).frames;
  const instance = await style.create(plan.styleOptions, {
    width: first.width,
    height: first.height,
    seed: plan.seed,
  });
  try {
    for (const [i, frame] of inputs.entries()) {
      if (signal.aborted) throw signal.reason;
      const styled = await instance.process(frame);
      const path = join(plan.dir, `frame-${String(i).padStart(3, '0')}.png`);
      const t = ((frame.pts * frame.timeBase.num) / frame.timeBase.den).toFixed(3);
      await writeContactSheet(
        [
          [
            { frame: originals[i] ?? frame, label: `original ${t} s`, rotation },
            { frame: styled, label: plan.name, rotation },
          ],
        ],
        path,
        Math.min(960, rotation % 180 === 0 ? frame.width : frame.height),
      );
      pngs.push(path);
      plan.report('frames', pngs.length, inputs.length);
    }
  } finally {
    instance.dispose();
  }
}

/**
 * A low-resolution clip (at most 360 lines; any size, odd ones padded by the writer): scaled
 * in-process, stylized, stabilized, encoded with the source's rotation, written only when complete.
 *
 * @returns Frames written.
 */
async function previewClip(input: string, plan: PreviewPlan & { readonly seconds: number }): Promise<number> {
  const { style, at, signal } = plan;
  await using reader = await VideoReader.open(input);
  const s = reader.stream;
  const rate = s.avgFrameRate.num > 0 ? s.avgFrameRate.num / s.avgFrameRate.den : 30;
  const expected = Math.max(1, Math.round(plan.seconds * rate));
  const h = Math.min(360, s.height);
  const w = Math.max(1, Math.round((s.width * h) / s.height));
  const format = style.inputFormat;
  using scale = await VideoFilter.create(
    `scale=${w}:${h}:flags=area,format=${format === 'gray8' ? 'gray' : format}`,
  );
  const instance = await style.create(plan.styleOptions, { width: w, height: h, seed: plan.seed });
  // The style's own temporal mode, as a render would use by default.
  const flow = style.temporal?.mode === 'flow' ? FlowStabilizer.create() : null;
  const ema = EmaStabilizer.create({ strength: 0.5 });
  let writer: VideoWriter | null = null;
  let written = 0;
  try {
    for await (const frame of reader.frames({
      format,
      start: { time: at },
      end: { time: at + plan.seconds },
    })) {
      if (signal.aborted) throw signal.reason;
      for (const small of scale.process(frame)) {
        const raw = await instance.process(small);
        const styled: Frame = flow !== null ? flow.process(small, raw, written) : ema.process(raw);
        writer ??= await VideoWriter.create(join(plan.dir, 'preview.mp4'), {
          width: w,
          height: h,
          timeBase: s.timeBase,
          frameRate: s.avgFrameRate,
          codec: 'libx264',
          preset: 'veryfast',
          crf: 23,
          color: styled.color,
          rotation: s.rotation,
        });
        await writer.write(cloneFrame(styled));
        written++;
        plan.report('clip', written, expected);
      }
    }
    await writer?.close();
    writer = null;
    return written;
  } finally {
    await writer?.abort();
    instance.dispose();
  }
}

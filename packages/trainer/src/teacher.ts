import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rgbBytes, yuvToRgb24 } from '@framecraft/color';
import type { Frame } from '@framecraft/core';
import { VideoReader } from '@framecraft/io';
import { lumaOf, ssim } from '@framecraft/metrics';
import { frameForStyle, loadStylizer, parseStylizerOptions } from '@framecraft/stylizers';
import { SceneCutDetector } from '@framecraft/temporal';
import sharp from 'sharp';
import type { TrainingPair } from './dataset.ts';
import { TrainerError } from './errors.ts';

/** Options of {@link pairsFromStyle}. */
export interface TeacherOptions {
  /** The clip to take frames from. */
  readonly clip: string;
  /** The teacher: any registered style (`cartoon`, `pencil`, … or `neural` with `options.model`). */
  readonly style: string;
  readonly options?: Readonly<Record<string, unknown>>;
  /** Frame indices to use, or a count spread evenly over the clip (keyframes for "teach by example"). */
  readonly frames: readonly number[] | number;
  /** Where the pairs go: `input/` and `target/` PNGs (a folder `pairsFromFolder` reads back). */
  readonly dir: string;
  readonly seed?: number;
}

/**
 * Make training pairs with a teacher: frames of a clip and what a style makes of them, as PNGs in
 * `dir/input` and `dir/target`, with `shots.json` from a scene-cut detector run over every frame
 * up to the last one used. This is the data of distillation (a student imitating a slow teacher)
 * and of "teach by example" from keyframes.
 *
 * @returns The pairs, in frame order.
 * @throws {FramecraftError} `ERR_DATASET` for frame indices outside the clip.
 */
export async function pairsFromStyle(o: TeacherOptions): Promise<TrainingPair[]> {
  await using reader = await VideoReader.open(o.clip);
  const total = reader.stream.frameCount;
  const count = typeof o.frames === 'number' ? o.frames : 0;
  const wanted =
    typeof o.frames === 'number'
      ? [...new Set(Array.from({ length: count }, (_, i) => Math.floor(((i + 0.5) * total) / count)))]
      : [...new Set(o.frames)].sort((a, b) => a - b);
  const bad = wanted.filter((i) => !Number.isInteger(i) || i < 0 || (total > 0 && i >= total));
  if (bad.length > 0 || wanted.length === 0)
    throw new TrainerError(
      'ERR_DATASET',
      `${o.clip}: frames ${bad.join(', ') || '(none)'} are not in the clip (${total} frames)`,
    );
  const style = await loadStylizer(o.style);
  const options = parseStylizerOptions(style, o.options ?? {});
  const { width, height } = reader.stream;
  const instance = await style.create(options, { width, height, seed: o.seed ?? 1 });
  await mkdir(join(o.dir, 'input'), { recursive: true });
  await mkdir(join(o.dir, 'target'), { recursive: true });
  const detector = SceneCutDetector.create();
  const pairs: TrainingPair[] = [];
  const shots: Record<string, string> = {};
  const want = new Set(wanted);
  let shot = 0;
  let index = 0;
  const last = wanted.at(-1)!;
  try {
    for await (const frame of reader.frames({ format: 'yuv420p', end: { frame: last + 1 } })) {
      if (detector.process(frame)) shot++;
      if (want.has(index)) {
        const out = await instance.process(frameForStyle(frame, style.inputFormat));
        const name = `f${String(index).padStart(6, '0')}`;
        const png = (f: Frame, file: string) =>
          sharp(rgbBytes(f), { raw: { width: f.width, height: f.height, channels: 3 } })
            .png()
            .toFile(file);
        await png(yuvToRgb24(frame), join(o.dir, 'input', `${name}.png`));
        await png(out, join(o.dir, 'target', `${name}.png`));
        shots[name] = `shot-${shot}`;
        pairs.push({
          id: name,
          input: join(o.dir, 'input', `${name}.png`),
          target: join(o.dir, 'target', `${name}.png`),
          shot: `shot-${shot}`,
          order: index,
        });
      }
      index++;
    }
  } finally {
    instance.dispose();
  }
  await writeFile(join(o.dir, 'shots.json'), `${JSON.stringify(shots, null, 1)}\n`);
  return pairs;
}

/** Options of {@link scoreAgainstStyle}. */
export interface ScoreOptions {
  /** The ONNX model (a student or any style model with the zoo layout). */
  readonly model: string;
  readonly clip: string;
  /** The style the model should reproduce, and its options. */
  readonly style: string;
  readonly options?: Readonly<Record<string, unknown>>;
  /** Frame indices to score. */
  readonly frames: readonly number[];
  readonly seed?: number;
}

/** How close a model comes to a style on frames of a clip. */
export interface StyleScore {
  /** Mean SSIM (luma, Gaussian) between the model's output and the style's. */
  readonly ssim: number;
  readonly perFrame: readonly { readonly frame: number; readonly ssim: number }[];
  /** The model's speed on these frames (ONNX Runtime, CPU, whole frames), frames per second. */
  readonly modelFps: number;
}

/**
 * Score a model against the style it imitates on chosen frames of a clip (for example frames no
 * training pair came from). The style sees every frame up to the last one scored, in order, so a
 * stateful style (cartoon's palette) is in the state a render would have.
 */
export async function scoreAgainstStyle(o: ScoreOptions): Promise<StyleScore> {
  await using reader = await VideoReader.open(o.clip);
  const style = await loadStylizer(o.style);
  const options = parseStylizerOptions(style, o.options ?? {});
  const { width, height } = reader.stream;
  const instance = await style.create(options, { width, height, seed: o.seed ?? 1 });
  const { OnnxSession, runTiled } = await import('@framecraft/ml');
  const session = await OnnxSession.create(o.model, { provider: 'cpu' });
  const want = new Set(o.frames);
  const last = Math.max(...o.frames);
  const perFrame: { frame: number; ssim: number }[] = [];
  let seconds = 0;
  let index = 0;
  try {
    for await (const frame of reader.frames({ format: 'yuv420p', end: { frame: last + 1 } })) {
      const target = await instance.process(frameForStyle(frame, style.inputFormat));
      if (want.has(index)) {
        const rgb = yuvToRgb24(frame);
        const t0 = performance.now();
        const out = await runTiled(session, rgb);
        seconds += (performance.now() - t0) / 1000;
        perFrame.push({ frame: index, ssim: ssim(lumaOf(target), lumaOf(out)) });
      }
      index++;
    }
  } finally {
    instance.dispose();
    await session.close();
  }
  return {
    ssim: perFrame.reduce((s, p) => s + p.ssim, 0) / Math.max(1, perFrame.length),
    perFrame,
    modelFps: perFrame.length / Math.max(seconds, 1e-9),
  };
}

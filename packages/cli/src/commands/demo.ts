import { mkdir, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { readAudio, VideoFilter, VideoReader, VideoWriter } from '@framecraft/io';
import { render } from '@framecraft/pipeline';
import { knownStylizers } from '@framecraft/stylizers';
import { type SheetTile, writeContactSheet } from '../contact-sheet.ts';
import { createProgress, progressMode, renderUpdate } from '../progress.ts';
import { DEMO_CLIP } from '../sample.ts';

/** Options of `framecraft demo`. */
export interface DemoCommandOptions {
  readonly out?: string;
  readonly json?: boolean;
}

/**
 * The neural style runs on this part of the clip at half size: the mosaic network costs about
 * 1.9 s a 720p frame on two cores, so the whole clip at full size would take minutes.
 */
const NEURAL_EXCERPT = { from: 1, to: 3.5, scale: 0.5 } as const;

/** Times of the contact sheet's rows (inside the neural excerpt, so every style has a tile). */
const SHEET_TIMES = [1.5, 3] as const;

/**
 * The main job on a built-in sample: real footage rendered through the chunked pipeline in every
 * style (neural on a few seconds at half size, so the demo stays near a minute on two cores), a
 * contact sheet of real frames next to the original, and where to go next.
 *
 * @param options - Output folder and JSON mode.
 */
export async function demoCommand(options: DemoCommandOptions): Promise<void> {
  const started = performance.now();
  const dir = resolve(options.out ?? 'demo-output');
  await mkdir(dir, { recursive: true });
  const log = (m: string): void => {
    if (!options.json) process.stdout.write(`${m}\n`);
  };
  const stem = basename(DEMO_CLIP, '.mp4');
  log(`Rendering ${stem}.mp4 (5 s of CC0 macro footage, 960x540, with sound) in every style into ${dir}`);
  const results: { style: string; output: string; frames: number; seconds: number; input: string }[] = [];
  for (const style of knownStylizers().filter((s) => s !== 'identity')) {
    let input = DEMO_CLIP;
    if (style === 'neural') {
      input = join(dir, '.work', `${stem}-excerpt.mp4`);
      await writeExcerpt(DEMO_CLIP, input);
    }
    const output = join(dir, `${stem}-${style}.mp4`);
    await rm(output, { force: true });
    const progress = createProgress(progressMode(options.json ?? false), style);
    const res = await render(
      {
        input,
        output,
        style,
        codec: 'auto',
        encoderPreset: 'veryfast',
        chunkDuration: 2,
        workDir: join(dir, '.work', style),
      },
      { restart: true, onProgress: (p) => progress.update(renderUpdate(p)) },
    );
    progress.stop();
    results.push({ style, output, input, frames: res.frames, seconds: Number(res.seconds.toFixed(2)) });
    const what = style === 'neural' ? ` (${NEURAL_EXCERPT.to - NEURAL_EXCERPT.from} s at half size)` : '';
    log(`  ${style}${what}: ${res.frames} frames in ${res.seconds.toFixed(1)} s -> ${output}`);
  }
  const sheet = join(dir, 'contact-sheet.png');
  await writeContactSheet(await sheetRows(results), sheet, 320);
  await rm(join(dir, '.work'), { recursive: true, force: true });
  const seconds = Number(((performance.now() - started) / 1000).toFixed(1));
  if (options.json) {
    const list = results.map(({ input: _, ...r }) => r);
    process.stdout.write(
      `${JSON.stringify({ event: 'done', sample: DEMO_CLIP, results: list, contactSheet: sheet, seconds })}\n`,
    );
    return;
  }
  // In the repository (`bun run demo`) the CLI runs as `bun run framecraft`; installed, as `framecraft`.
  const cli = process.env.npm_lifecycle_event === 'demo' ? 'bun run framecraft' : 'framecraft';
  log(
    [
      `Demo finished in ${seconds} s: ${results.length} styles in ${dir}, and the contact sheet`,
      `${sheet} (the original and every style at ${SHEET_TIMES.join(' s and ')} s).`,
      'Next, try:',
      `  ${cli} render your-video.mp4 your-video-cartoon.mp4 --style cartoon    # a whole video, resumable`,
      `  ${cli} preview your-video.mp4 --style neural --at 00:00:10              # frames and a clip in seconds`,
      `  ${cli} studio                                                           # the web UI on http://127.0.0.1:7860`,
    ].join('\n'),
  );
}

/** The contact sheet: one row per time, the original then every style at that time. */
async function sheetRows(
  results: readonly { style: string; output: string; input: string }[],
): Promise<SheetTile[][]> {
  const rows: SheetTile[][] = [];
  for (const at of SHEET_TIMES) {
    const frameAt = async (file: string, time: number) => {
      await using reader = await VideoReader.open(file);
      return await reader.frameAt({ time }, 'rgb24');
    };
    const row: SheetTile[] = [{ frame: await frameAt(DEMO_CLIP, at), label: `original ${at} s` }];
    for (const r of results) {
      // The excerpt's timeline starts at its first frame.
      const time = r.input === DEMO_CLIP ? at : at - NEURAL_EXCERPT.from;
      row.push({ frame: await frameAt(r.output, time), label: r.style });
    }
    rows.push(row);
  }
  return rows;
}

/** A part of a clip at a smaller size, with its sound, timed from 0 (the neural style's sample). */
async function writeExcerpt(source: string, out: string): Promise<void> {
  const { from, to, scale } = NEURAL_EXCERPT;
  await using reader = await VideoReader.open(source);
  const s = reader.stream;
  const width = Math.round((s.width * scale) / 2) * 2;
  const height = Math.round((s.height * scale) / 2) * 2;
  using shrink = await VideoFilter.create(`scale=${width}:${height}:flags=area,format=yuv420p`);
  const sound = await readAudio(source);
  const writer = await VideoWriter.create(out, {
    width,
    height,
    timeBase: s.timeBase,
    frameRate: s.avgFrameRate,
    codec: 'libx264',
    preset: 'veryfast',
    crf: 16,
    color: s.color,
    audio: { sampleRate: sound.sampleRate, channels: sound.channels.length },
  });
  try {
    let first: number | null = null;
    for await (const frame of reader.frames({
      format: 'yuv420p',
      start: { time: from },
      end: { time: to },
    })) {
      first ??= frame.pts;
      for (const small of shrink.process(frame)) await writer.write({ ...small, pts: small.pts - first });
    }
    const at = (t: number): number => Math.max(0, Math.round((t - sound.startTime) * sound.sampleRate));
    await writer.writeAudio(sound.channels.map((c) => c.subarray(at(from), at(to))));
    await writer.close();
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

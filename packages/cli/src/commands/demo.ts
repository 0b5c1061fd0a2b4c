import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { VideoReader, writeTestClip } from '@framecraft/io';
import { render } from '@framecraft/pipeline';
import { listStylizers } from '@framecraft/stylizers';
import { type SheetTile, writeContactSheet } from '../contact-sheet.ts';
import { createProgress, progressMode, renderUpdate } from '../progress.ts';

/** Options of `framecraft demo`. */
export interface DemoCommandOptions {
  readonly out?: string;
  readonly json?: boolean;
}

/**
 * The main job on a built-in sample: generate a clip with audio, render it in every style through
 * the chunked pipeline, and write a contact sheet of the results next to the original.
 *
 * @param options - Output folder and JSON mode.
 */
export async function demoCommand(options: DemoCommandOptions): Promise<void> {
  const dir = resolve(options.out ?? 'demo-output');
  await mkdir(dir, { recursive: true });
  const sample = join(dir, 'sample.mp4');
  const log = (m: string): void => {
    if (!options.json) process.stdout.write(`${m}\n`);
  };
  log(`Generating a 4-second 640x360 sample with audio: ${sample}`);
  await writeTestClip(sample, { width: 640, height: 360, frames: 120, flashes: [30, 60, 90] });
  const styles = listStylizers().filter((s) => s !== 'identity');
  const results: { style: string; output: string; frames: number; seconds: number }[] = [];
  for (const style of styles) {
    const output = join(dir, `sample-${style}.mp4`);
    await rm(output, { force: true });
    const progress = createProgress(progressMode(options.json ?? false), style);
    const res = await render(
      {
        input: sample,
        output,
        style,
        codec: 'auto',
        encoderPreset: 'veryfast',
        chunkDuration: 2,
        workDir: join(dir, '.work', style),
      },
      {
        restart: true,
        onProgress: (p) => progress.update(renderUpdate(p)),
      },
    );
    progress.stop();
    results.push({ style, output, frames: res.frames, seconds: Number(res.seconds.toFixed(2)) });
    log(`${style}: ${res.frames} frames in ${res.chunks} chunks, ${res.seconds.toFixed(2)} s -> ${output}`);
  }
  await rm(join(dir, '.work'), { recursive: true, force: true });
  // Contact sheet: frames 30 (a flash) and 75 of the original and of every style.
  const rows: SheetTile[][] = [];
  for (const at of [45, 75]) {
    const row: SheetTile[] = [];
    {
      await using reader = await VideoReader.open(sample);
      row.push({ frame: await reader.frameAt({ frame: at }, 'rgb24'), label: `original #${at}` });
    }
    for (const r of results) {
      await using reader = await VideoReader.open(r.output);
      row.push({ frame: await reader.frameAt({ frame: at }, 'rgb24'), label: r.style });
    }
    rows.push(row);
  }
  const sheet = join(dir, 'contact-sheet.png');
  await writeContactSheet(rows, sheet, 320);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ event: 'done', sample, results, contactSheet: sheet })}\n`);
    return;
  }
  log(`Demo finished: ${results.length} styles rendered; contact sheet ${sheet}.`);
}

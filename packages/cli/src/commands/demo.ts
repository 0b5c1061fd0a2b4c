import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { probe, transcode, writeTestClip } from '@framecraft/io';
import { formatProbe } from '../format-probe.ts';
import { createProgress, progressMode } from '../progress.ts';

/** Options of `framecraft demo`. */
export interface DemoCommandOptions {
  readonly out?: string;
  readonly json?: boolean;
}

/**
 * Generate a short sample clip with audio and run the main job on it.
 *
 * Today the main job is the identity transcode; styles join it as they land.
 *
 * @param options - Output folder and JSON mode.
 */
export async function demoCommand(options: DemoCommandOptions): Promise<void> {
  const dir = resolve(options.out ?? 'demo-output');
  await mkdir(dir, { recursive: true });
  const sample = join(dir, 'sample.mp4');
  const output = join(dir, 'sample-transcoded.mp4');
  await rm(output, { force: true });
  const log = (m: string): void => {
    if (!options.json) process.stdout.write(`${m}\n`);
  };
  log(`Generating a 4-second 640x360 sample with audio: ${sample}`);
  await writeTestClip(sample, { width: 640, height: 360, frames: 120, flashes: [30, 60, 90] });
  const progress = createProgress(progressMode(options.json ?? false), 'transcode');
  const result = await transcode(sample, output, {
    preset: 'veryfast',
    onProgress: (p) => progress.update(p),
    onWarning: (m) => process.stderr.write(`${m}\n`),
  });
  progress.stop();
  const info = await probe(output);
  if (options.json) {
    progress.done({ sample, output, encoder: result.encoder, frames: result.frames, probe: info });
    return;
  }
  log(`\n${formatProbe(info)}\n`);
  log(
    `Demo finished: ${result.frames} frames transcoded with ${result.encoder} in ${result.seconds.toFixed(2)} s.`,
  );
  log(`Open ${output} in any player.`);
}

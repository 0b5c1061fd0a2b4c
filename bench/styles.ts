import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { probe } from '@framecraft/io';
import { CACHE, flowerClip, timeCommand as time } from './clips.ts';
import { list, numbers } from './stats.ts';

const { values: flags } = parseArgs({
  options: {
    frames: { type: 'string', default: '90' },
    styles: { type: 'string', default: 'pencil,cartoon,comic,cinematic' },
    heights: { type: 'string', default: '720,1080' },
  },
});
const frames = Number(flags.frames);
const styles = list(flags.styles);
const heights = numbers(flags.heights);
const ROOT = join(import.meta.dir, '..');
const SHARED = join(ROOT, '..', 'shared');
const TMP = join(CACHE, 'styles-out');

await mkdir(TMP, { recursive: true });
const rows: Record<string, unknown>[] = [];
for (const h of heights) {
  const clip = await flowerClip(h);
  const info = await probe(clip);
  const fpsIn = info.streams[0]?.type === 'video' ? info.streams[0].avgFrameRate : { num: 30000, den: 1001 };
  for (const style of styles) {
    const ours = await time([
      'bun',
      join(import.meta.dir, 'cases/style.ts'),
      style,
      clip,
      join(TMP, 'ours.mp4'),
      String(frames),
    ]);
    const ourStats = JSON.parse(ours.stdout.trim().split('\n').pop()!) as { frames: number; styleMs: number };
    const py = await time([
      '/usr/bin/python3',
      join(SHARED, 'baselines', 'ref_styles.py'),
      style,
      clip,
      join(TMP, 'py.mp4'),
      '--max-frames',
      String(frames),
    ]);
    // ff_styles.sh limits by time assuming 30 fps clips: give it the same number of frames.
    const seconds = (frames * fpsIn.den) / fpsIn.num;
    // ff_styles.sh has no comic: that column is empty for it.
    const ff = await time(
      ['bash', join(SHARED, 'baselines', 'ff_styles.sh'), style, clip, join(TMP, 'ff.mp4')],
      {
        FRAMES: String(Math.round(seconds * 30)),
      },
    ).catch((err: Error) => (/unknown style/.test(err.message) ? null : Promise.reject(err)));
    const fps = (ms: number): number => frames / (ms / 1000);
    const row = {
      height: h,
      style,
      frames: ourStats.frames,
      oursFps: fps(ours.ms),
      pythonFps: fps(py.ms),
      ffmpegFps: ff ? fps(ff.ms) : null,
      vsPython: py.ms / ours.ms,
      vsFfmpeg: ff ? ff.ms / ours.ms : null,
      styleAloneFps: ourStats.frames / (ourStats.styleMs / 1000),
    };
    rows.push(row);
    console.log(
      `${String(h).padStart(4)}p ${style.padEnd(9)} ours ${row.oursFps.toFixed(1).padStart(6)} fps | python/opencv ${row.pythonFps.toFixed(1).padStart(6)} fps (${row.vsPython.toFixed(2)}x, goal >= 1.5) | ffmpeg cli ${row.ffmpegFps === null ? '   n/a' : row.ffmpegFps.toFixed(1).padStart(6)} fps (${row.vsFfmpeg === null ? 'no baseline' : `${row.vsFfmpeg.toFixed(2)}x`}, goal >= 1.0) | style alone ${row.styleAloneFps.toFixed(1)} fps`,
    );
  }
}
await mkdir(join(import.meta.dir, 'results'), { recursive: true });
await writeFile(
  join(import.meta.dir, 'results', `styles-${new Date().toISOString().replace(/[:.]/g, '-')}.json`),
  JSON.stringify(rows, null, 2),
);
await rm(TMP, { recursive: true, force: true });

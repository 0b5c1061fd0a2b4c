// End-to-end benchmarks of the render pipeline (`framecraft render`), each next to its baseline in
// the same run: every style vs ../shared/baselines (Python/OpenCV and FFmpeg CLI), the identity
// render vs a bare ffmpeg transcode, 2 workers vs 1, and peak memory on a 1- and a 10-minute clip.
// Needs: apt-get install ffmpeg python3-opencv. Usage: bun bench/pipeline.ts [--heights 720,1080]
// [--styles pencil,cartoon,comic,cinematic] [--seconds 6] [--rounds 3] [--chunk-duration S]
// [--skip-rss | --only-rss]
// Style rows run each side ROUNDS times in alternating order and report medians.
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeTestClip } from '@framecraft/io/testing';
import { bareTranscodeArgs, CACHE, flowerClip, type Timed, timeCommand as time } from './clips.ts';
import { list, median, numbers } from './stats.ts';

const { values: flags } = parseArgs({
  options: {
    heights: { type: 'string', default: '720,1080' },
    styles: { type: 'string', default: 'pencil,cartoon,comic,cinematic' },
    seconds: { type: 'string', default: '6' },
    rounds: { type: 'string', default: '3' },
    'chunk-duration': { type: 'string' },
    'only-rss': { type: 'boolean', default: false },
    'skip-rss': { type: 'boolean', default: false },
  },
});
const heights = flags['only-rss'] ? [] : numbers(flags.heights);
const styles = list(flags.styles);
const ROOT = join(import.meta.dir, '..');
const BASELINES = join(ROOT, '..', 'shared', 'baselines');
const CLI = join(ROOT, 'packages', 'cli', 'src', 'bin.ts');
const TMP = join(CACHE, 'pipeline-out');
const SECONDS = Number(flags.seconds);
const ROUNDS = Number(flags.rounds);
/**
 * Chunk length for the style rows: half the clip by default, so the two chunks keep both cores of
 * this machine busy, as a longer render's chunks do (`--chunk-duration 10`: the job's default,
 * one chunk for a 6-second clip).
 */
const CHUNKING = ['--chunk-duration', flags['chunk-duration'] ?? String(SECONDS / 2)];

/** The cached flower clip cut to SECONDS seconds (re-encoded so the cut is exact). */
async function shortClip(height: number): Promise<string> {
  const path = join(CACHE, `flower-${height}p-${SECONDS}s.mp4`);
  if (existsSync(path)) return path;
  const src = await flowerClip(height);
  await time([
    'ffmpeg',
    '-v',
    'error',
    '-y',
    '-i',
    src,
    '-t',
    String(SECONDS),
    '-c:v',
    'libx264',
    '-crf',
    '16',
    '-preset',
    'medium',
    '-c:a',
    'aac',
    path,
  ]);
  return path;
}

/** `framecraft render` with the baselines' encoder settings (libx264 veryfast, CRF 23, mb-tree on). */
async function ours(
  clip: string,
  style: string,
  extra: string[] = [],
): Promise<Timed & { done: Record<string, number> }> {
  const out = join(TMP, `ours-${style}.mp4`);
  const t = await time(
    [
      'bun',
      CLI,
      'render',
      clip,
      out,
      '--style',
      style,
      '--codec',
      'libx264',
      '--encoder-preset',
      'veryfast',
      '--crf',
      '23',
      '--no-reproducible',
      '--no-temporal',
      '--overwrite',
      '--json',
      ...extra,
    ],
    { FRAMECRAFT_HOME: join(TMP, 'home') },
  );
  const done = JSON.parse(t.stdout.trim().split('\n').pop()!) as Record<string, number>;
  return { ...t, done };
}

await mkdir(TMP, { recursive: true });
const report: Record<string, unknown>[] = [];
const fmt = (x: number): string => x.toFixed(2);
for (const h of heights) {
  const clip = await shortClip(h);
  const frames = Math.round((SECONDS * 30000) / 1001);
  const fps = (ms: number): number => frames / (ms / 1000);
  for (const style of styles) {
    // The sides of one style, run ROUNDS times in alternating order; medians are compared.
    const sides: Record<string, () => Promise<Timed & { done?: Record<string, number> }>> = {
      ours: () => ours(clip, style, CHUNKING),
      python: () =>
        time(['/usr/bin/python3', join(BASELINES, 'ref_styles.py'), style, clip, join(TMP, 'py.mp4')]),
      ffmpeg: () => time(['bash', join(BASELINES, 'ff_styles.sh'), style, clip, join(TMP, 'ff.mp4')]),
    };
    if (style === 'pencil')
      // The baselines' look: the classic dodge (contrast 1), no paper, no levels, a 10-pixel blur
      // whatever the height (our sigma is in pixels at 1080 lines). Same work, same kind of
      // picture for the encoder, so this row compares the machinery; the default row adds the
      // richer look, whose heavier strokes and paper cost the encoder more bits.
      sides.baseLook = () =>
        ours(clip, style, [
          ...CHUNKING,
          ...['--option', 'paper=none', '--option', 'levels=none', '--option', 'contrast=1'],
          ...['--option', `sigma=${((10 * 1080) / h).toFixed(3)}`],
        ]);
    // The FFmpeg CLI has no equivalent of some styles (comic): that side is left out.
    if (
      !(await sides.ffmpeg!().then(
        () => true,
        (err: Error) => (/unknown style/.test(err.message) ? false : Promise.reject(err)),
      ))
    )
      delete sides.ffmpeg;
    const ms: Record<string, number[]> = {};
    let peakRssMiB: number | undefined;
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? Object.keys(sides) : Object.keys(sides).reverse();
      for (const k of order) {
        const t = await sides[k]!();
        ms[k] = [...(ms[k] ?? []), t.ms];
        if (k === 'ours') peakRssMiB = t.done?.peakRssMiB;
      }
    }
    const med = Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, median(v)])) as Record<
      string,
      number
    >;
    const row = {
      height: h,
      style,
      rounds: ROUNDS,
      oursFps: fps(med.ours!),
      pythonFps: fps(med.python!),
      ffmpegFps: med.ffmpeg !== undefined ? fps(med.ffmpeg) : null,
      vsPython: med.python! / med.ours!,
      vsFfmpeg: med.ffmpeg !== undefined ? med.ffmpeg / med.ours! : null,
      peakRssMiB,
      ms,
    };
    report.push(row);
    console.log(
      `${h}p ${style.padEnd(9)} pipeline ${fmt(row.oursFps)} fps | python ${fmt(row.pythonFps)} fps (${fmt(row.vsPython)}x, goal 1.5) | ffmpeg ${row.ffmpegFps === null ? 'n/a' : `${fmt(row.ffmpegFps)} fps (${fmt(row.vsFfmpeg!)}x, goal 1.0)`} | peak RSS ${row.peakRssMiB} MiB`,
    );
    if (med.baseLook !== undefined && med.ffmpeg !== undefined) {
      const b = {
        height: h,
        style: 'pencil (baseline look)',
        oursFps: fps(med.baseLook),
        vsPython: med.python! / med.baseLook,
        vsFfmpeg: med.ffmpeg / med.baseLook,
      };
      report.push(b);
      console.log(
        `${h}p pencil, baseline look: pipeline ${fmt(b.oursFps)} fps | ${fmt(b.vsPython)}x python | ${fmt(b.vsFfmpeg)}x ffmpeg`,
      );
    }
  }
  // Identity through the pipeline vs a bare transcode with the same encoder settings.
  // Default chunking (10 s): this clip is one chunk.
  const id = await ours(clip, 'identity', ['--chunk-duration', '10']);
  const bare = await time(['ffmpeg', ...bareTranscodeArgs(clip, join(TMP, 'bare.mp4'))]);
  report.push({ height: h, identityMs: id.ms, bareMs: bare.ms, ratio: id.ms / bare.ms });
  console.log(
    `${h}p identity: pipeline ${fmt(id.ms / 1000)} s vs bare ffmpeg transcode ${fmt(bare.ms / 1000)} s = ${fmt(id.ms / bare.ms)}x time (goal <= 1.10)`,
  );
  // Chunks on 2 workers vs 1 (two chunks of half the clip).
  for (const style of ['pencil', 'cinematic']) {
    const half = ['--chunk-duration', String(SECONDS / 2)];
    const one = await ours(clip, style, [...half, '--workers', '1']);
    const two = await ours(clip, style, [...half, '--workers', '2']);
    report.push({ height: h, style, workers1Ms: one.ms, workers2Ms: two.ms, speedup: one.ms / two.ms });
    console.log(
      `${h}p ${style} 2 workers vs 1: ${fmt(one.ms / two.ms)}x (${fmt(one.ms / 1000)} s -> ${fmt(two.ms / 1000)} s)`,
    );
  }
}
if (!flags['skip-rss']) {
  // Peak memory must not grow with the clip: 1 minute vs 10 minutes of generated 640x360 video.
  const rss: number[] = [];
  for (const minutes of [1, 10]) {
    const clip = join(CACHE, `generated-${minutes}min.mp4`);
    if (!existsSync(clip))
      await writeTestClip(clip, { width: 640, height: 360, frames: minutes * 60 * 30, audio: true, crf: 28 });
    const o = await ours(clip, 'pencil', ['--chunk-duration', '10']);
    rss.push(o.done.peakRssMiB ?? Number.NaN);
    console.log(
      `${minutes} min clip: pencil render ${fmt(o.ms / 1000)} s, peak RSS ${o.done.peakRssMiB} MiB`,
    );
  }
  report.push({ rss1min: rss[0], rss10min: rss[1], ratio: rss[1]! / rss[0]! });
  console.log(`peak RSS 10 min / 1 min = ${fmt(rss[1]! / rss[0]!)} (goal within 1.10)`);
}
await mkdir(join(import.meta.dir, 'results'), { recursive: true });
await writeFile(
  join(import.meta.dir, 'results', `pipeline-${new Date().toISOString().replace(/[:.]/g, '-')}.json`),
  JSON.stringify(report, null, 2),
);
await rm(TMP, { recursive: true, force: true });

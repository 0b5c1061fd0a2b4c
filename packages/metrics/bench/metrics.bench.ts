// Micro-benchmark: SSIM on 1080p luma (ours) next to FFmpeg's ssim filter (Debian ffmpeg CLI,
// -f null, per-frame cost with decoding subtracted), plus the other per-frame metrics, and how far
// our SSIM value is from FFmpeg's on real frames. Usage: bun packages/metrics/bench/metrics.bench.ts
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VideoReader } from '@framecraft/io';
import {
  createSsimScratch,
  edgeCoherence,
  lumaOf,
  mse,
  ParallelSsim,
  sharpness,
  ssim,
} from '@framecraft/metrics';
import { Bench } from 'tinybench';

const flower = join(import.meta.dir, '../../../../shared/media/flower.mp4');
if (!existsSync(flower)) {
  console.log('../shared/media/flower.mp4 not found: this benchmark needs the real clip');
  process.exit(0);
}
const dir = mkdtempSync(join(tmpdir(), 'framecraft-metrics-bench-'));
const hd = join(dir, 'flower-1080p.mp4');
const crf = join(dir, 'flower-1080p-crf35.mp4');
spawnSync('ffmpeg', [
  '-v',
  'error',
  '-y',
  '-i',
  flower,
  '-vf',
  'scale=1920:1080',
  '-c:v',
  'libx264',
  '-crf',
  '12',
  '-an',
  hd,
]);
spawnSync('ffmpeg', ['-v', 'error', '-y', '-i', hd, '-c:v', 'libx264', '-crf', '35', '-an', crf]);

async function frames(file: string, count: number) {
  await using r = await VideoReader.open(file);
  const out = [];
  for await (const f of r.frames({ format: 'gray8', copy: true, end: { frame: count } })) out.push(f);
  return out;
}
const a = await frames(hd, 30);
const b = await frames(crf, 30);
const scratch = createSsimScratch(1920, 1080);

// Our SSIM against FFmpeg's on the same 30 frame pairs (FFmpeg's per-frame Y values from its stats
// file: its summary line may include a frame past -frames:v).
let ours = 0;
for (let i = 0; i < a.length; i++) ours += ssim(lumaOf(a[i]!), lumaOf(b[i]!), scratch, { step: 1 });
ours /= a.length;
const statsFile = join(dir, 'ssim.log');
spawnSync('ffmpeg', [
  '-v',
  'error',
  '-i',
  crf,
  '-i',
  hd,
  '-lavfi',
  `ssim=stats_file=${statsFile}`,
  '-f',
  'null',
  '-',
]);
const perFrame = readFileSync(statsFile, 'utf8')
  .split('\n')
  .slice(0, a.length)
  .map((line) => Number(/Y:([\d.]+)/.exec(line)?.[1]));
const theirs = perFrame.reduce((s, v) => s + v, 0) / perFrame.length;
console.log(
  `SSIM over 30 frames (CRF 35 vs CRF 12 at 1080p): ours (Gaussian, step 1) ${ours.toFixed(4)}, FFmpeg ${theirs.toFixed(4)}, |diff| ${Math.abs(ours - theirs).toFixed(4)}`,
);

const bench = new Bench({ name: '1080p luma metrics', time: 3000 });
const la = lumaOf(a[10]!);
const lb = lumaOf(b[10]!);
for (const step of [1, 2, 4]) bench.add(`ssim step ${step}`, () => void ssim(la, lb, scratch, { step }));
bench.add('ssim box', () => void ssim(la, lb, scratch, { window: 'box' }));
bench
  .add('mse', () => void mse(la, lb))
  .add('sharpness', () => void sharpness(lb))
  .add('edge coherence', () => void edgeCoherence(la, lb));
await bench.run();
console.table(bench.table());

// FFmpeg's ssim filter cost per frame, on raw gray frames so decoding is not in it.
const rawA = join(dir, 'a.gray');
const rawB = join(dir, 'b.gray');
const n = 150;
spawnSync('ffmpeg', [
  '-v',
  'error',
  '-y',
  '-i',
  hd,
  '-frames:v',
  String(n),
  '-pix_fmt',
  'gray',
  '-f',
  'rawvideo',
  rawA,
]);
spawnSync('ffmpeg', [
  '-v',
  'error',
  '-y',
  '-i',
  crf,
  '-frames:v',
  String(n),
  '-pix_fmt',
  'gray',
  '-f',
  'rawvideo',
  rawB,
]);
// The raw files are read 8 times over (1200 frames), so the difference of the two runs is well
// above the noise of starting FFmpeg.
const loops = 8;
const raw = (f: string): string[] => [
  '-stream_loop',
  String(loops - 1),
  '-f',
  'rawvideo',
  '-pix_fmt',
  'gray',
  '-s',
  '1920x1080',
  '-i',
  f,
];
const time = (args: string[]): number => {
  const t0 = performance.now();
  spawnSync('ffmpeg', ['-v', 'error', ...args]);
  return performance.now() - t0;
};
// Ours the same way: read each frame pair of the raw files (readSync from the page cache, as
// FFmpeg's rawvideo demuxer does) and score it, minus the same loop without scoring. Read into
// buffers of our own (the pool copies them in) or straight into the pool's `inputs()` planes.
const size = 1920 * 1080;
const pool = await ParallelSsim.create({ threads: 2 });
const planes = pool.inputs(1920, 1080);
const own = { a: Buffer.allocUnsafe(size), b: Buffer.allocUnsafe(size) };
const ownViews = {
  a: { data: own.a, width: 1920, height: 1080, stride: 1920 },
  b: { data: own.b, width: 1920, height: 1080, stride: 1920 },
};
const fdA = openSync(rawA, 'r');
const fdB = openSync(rawB, 'r');
type Mode = 'read' | 'read+copy' | 'inputs' | 'read+ssim box';
const ourLoop = (mode: Mode): number => {
  const into = mode === 'inputs' ? { a: planes.a.data, b: planes.b.data } : own;
  const t0 = performance.now();
  for (let l = 0; l < loops; l++)
    for (let i = 0; i < n; i++) {
      readSync(fdA, into.a, 0, size, i * size);
      readSync(fdB, into.b, 0, size, i * size);
      if (mode === 'inputs') pool.ssim(planes.a, planes.b);
      else if (mode === 'read+copy') pool.ssim(ownViews.a, ownViews.b);
      else if (mode === 'read+ssim box') ssim(ownViews.a, ownViews.b, scratch, { window: 'box' });
    }
  return (performance.now() - t0) / (n * loops);
};
// Alternate every run five times and keep each one's fastest, so machine noise hits all alike.
const runs = new Map<string, number[]>();
const keep = (name: string, ms: number): void => void runs.set(name, [...(runs.get(name) ?? []), ms]);
for (let k = 0; k < 5; k++) {
  keep('ffmpeg ssim', time([...raw(rawB), ...raw(rawA), '-lavfi', '[0:v][1:v]ssim', '-f', 'null', '-']));
  keep(
    'ffmpeg ssim, 1 filter thread',
    time(['-filter_threads', '1', ...raw(rawB), ...raw(rawA), '-lavfi', '[0:v][1:v]ssim', '-f', 'null', '-']),
  );
  keep('ffmpeg read', time([...raw(rawB), ...raw(rawA), '-map', '0:v', '-map', '1:v', '-f', 'null', '-']));
  for (const mode of ['read', 'read+copy', 'inputs', 'read+ssim box'] as const) keep(mode, ourLoop(mode));
}
closeSync(fdA);
closeSync(fdB);
await pool.close();
const best = (name: string): number => Math.min(...(runs.get(name) ?? [Number.NaN]));
const ffmpegMs = (best('ffmpeg ssim') - best('ffmpeg read')) / (n * loops);
const ffmpegOneMs = (best('ffmpeg ssim, 1 filter thread') - best('ffmpeg read')) / (n * loops);
const ourMs = (mode: Mode): number => best(mode) - best('read');
const fps = (name: string): number => {
  const r = bench.getTask(name)?.result;
  return r && r.state === 'completed' ? 1000 / r.latency.p50 : Number.NaN;
};
console.log(
  `FFmpeg ssim filter: ${ffmpegMs.toFixed(3)} ms per 1080p frame (${(1000 / ffmpegMs).toFixed(0)} fps, raw input, reading subtracted; its default slice threads); with -filter_threads 1: ${ffmpegOneMs.toFixed(3)} ms`,
);
for (const step of [1, 2, 4]) {
  const ours = fps(`ssim step ${step}`);
  let v = 0;
  for (let i = 0; i < a.length; i++) v += ssim(lumaOf(a[i]!), lumaOf(b[i]!), scratch, { step });
  console.log(
    `ours, Gaussian, step ${step}: ${ours.toFixed(1)} fps (${((ours * ffmpegMs) / 1000).toFixed(2)}x FFmpeg), mean SSIM ${(v / a.length).toFixed(4)}`,
  );
}
let boxMean = 0;
for (let i = 0; i < a.length; i++) boxMean += ssim(lumaOf(a[i]!), lumaOf(b[i]!), scratch, { window: 'box' });
console.log(
  `ours, box (FFmpeg's algorithm), mean SSIM ${(boxMean / a.length).toFixed(6)} vs FFmpeg ${theirs.toFixed(6)}`,
);
const sameFrame = fps('ssim box');
console.log(
  `  one thread, same frame repeated: ${sameFrame.toFixed(0)} fps (${((sameFrame * ffmpegMs) / 1000).toFixed(2)}x FFmpeg)`,
);
for (const [mode, label] of [
  ['read+ssim box', 'one thread, frames just read'],
  ['read+copy', 'ParallelSsim, 2 threads, frames just read (copied in)'],
  ['inputs', "ParallelSsim, 2 threads, frames read into the pool's inputs()"],
] as const)
  console.log(
    `  ${label}: ${ourMs(mode).toFixed(3)} ms (${(1000 / ourMs(mode)).toFixed(0)} fps, ${(ffmpegMs / ourMs(mode)).toFixed(2)}x FFmpeg, ${(ffmpegOneMs / ourMs(mode)).toFixed(2)}x FFmpeg on 1 filter thread)`,
  );
rmSync(dir, { recursive: true, force: true });

// Micro-benchmark: SSIM on 1080p luma (ours) next to FFmpeg's ssim filter (Debian ffmpeg CLI,
// -f null, per-frame cost with decoding subtracted), plus the other per-frame metrics, and how far
// our SSIM value is from FFmpeg's on real frames. Usage: bun packages/metrics/bench/metrics.bench.ts
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
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
// Alternate the two runs five times and keep each one's fastest, so machine noise hits both alike.
const withRuns: number[] = [];
const withoutRuns: number[] = [];
for (let k = 0; k < 5; k++) {
  withRuns.push(time([...raw(rawB), ...raw(rawA), '-lavfi', '[0:v][1:v]ssim', '-f', 'null', '-']));
  withoutRuns.push(time([...raw(rawB), ...raw(rawA), '-map', '0:v', '-map', '1:v', '-f', 'null', '-']));
}
const withSsim = Math.min(...withRuns);
const without = Math.min(...withoutRuns);
const ffmpegMs = (withSsim - without) / (n * loops);
// Ours over the same 150 distinct frames in turn: FFmpeg never scores a frame that is still in
// cache either.
const planeA = readFileSync(rawA);
const planeB = readFileSync(rawB);
const size = 1920 * 1080;
const rawView = (buf: Buffer, i: number) => ({
  data: new Uint8Array(buf.buffer, buf.byteOffset + i * size, size),
  width: 1920,
  height: 1080,
  stride: 1920,
});
const viewsA = Array.from({ length: n }, (_, i) => rawView(planeA, i));
const viewsB = Array.from({ length: n }, (_, i) => rawView(planeB, i));
const distinct = new Bench({ name: 'box SSIM over distinct 1080p frames', time: 3000 });
let next = 0;
distinct.add('ssim box, distinct frames', () => {
  const i = next++ % n;
  void ssim(viewsA[i]!, viewsB[i]!, scratch, { window: 'box' });
});
const pool = await ParallelSsim.create({ threads: 2 });
let nextPooled = 0;
distinct.add('ParallelSsim, 2 threads, distinct frames', () => {
  const i = nextPooled++ % n;
  void pool.ssim(viewsA[i]!, viewsB[i]!);
});
await distinct.run();
await pool.close();
console.table(distinct.table());
const fps = (name: string): number => {
  const r = (bench.getTask(name) ?? distinct.getTask(name))?.result;
  return r && r.state === 'completed' ? 1000 / r.latency.p50 : Number.NaN;
};
console.log(
  `FFmpeg ssim filter: ${ffmpegMs.toFixed(2)} ms per 1080p frame (${(1000 / ffmpegMs).toFixed(0)} fps, raw input, reading subtracted)`,
);
for (const step of [1, 2, 4]) {
  const ours = fps(`ssim step ${step}`);
  let v = 0;
  for (let i = 0; i < a.length; i++) v += ssim(lumaOf(a[i]!), lumaOf(b[i]!), scratch, { step });
  console.log(
    `ours, Gaussian, step ${step}: ${ours.toFixed(1)} fps (${((ours * ffmpegMs) / 1000).toFixed(2)}x FFmpeg), mean SSIM ${(v / a.length).toFixed(4)}`,
  );
}
for (const [name, label] of [
  ['ssim box', 'one thread, same frame repeated'],
  ['ssim box, distinct frames', 'one thread'],
  ['ParallelSsim, 2 threads, distinct frames', 'ParallelSsim, 2 threads'],
] as const) {
  const ours = fps(name);
  let v = 0;
  for (let i = 0; i < a.length; i++) v += ssim(lumaOf(a[i]!), lumaOf(b[i]!), scratch, { window: 'box' });
  console.log(
    `ours, box (FFmpeg's algorithm), ${label}: ${ours.toFixed(1)} fps (${((ours * ffmpegMs) / 1000).toFixed(2)}x FFmpeg), mean SSIM ${(v / a.length).toFixed(6)} vs FFmpeg ${theirs.toFixed(6)}`,
  );
}

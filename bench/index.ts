// End-to-end benchmarks of @framecraft/io against Debian's ffmpeg CLI on the same clips, in one
// run, reported as ratios (ours / baseline wall time, and fps ratios). Benchmarks never gate CI.
// Each command runs as a child process (both sides pay process start-up), the two sides
// alternate ABBA-style so drift on a shared machine hits both, and medians are reported.
// Micro-benchmarks (tinybench) live in packages/<pkg>/bench.
// Usage: bun bench/index.ts [--iterations 4] [--quick]
// Needs: apt-get install ffmpeg (the baseline). Clips: ../shared/media (real footage, scaled to
// 720p and 1080p once into bench/.cache) plus a generated 1080p clip.
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { probe } from '@framecraft/io';
import { writeTestClip } from '@framecraft/io/testing';
import { bareTranscodeArgs, CACHE, flowerClip, SHARED_MEDIA } from './clips.ts';
import { median } from './stats.ts';

const ROOT = join(import.meta.dir, '..');
const RESULTS = join(import.meta.dir, 'results');

const { values: flags } = parseArgs({
  options: { iterations: { type: 'string', default: '4' }, quick: { type: 'boolean', default: false } },
});
const iterations = Number(flags.iterations) || 4;
const quick = flags.quick;
const CLI = join(ROOT, 'packages/cli/src/bin.ts');

interface Run {
  ms: number;
  maxRssMiB: number;
}

/** Peak resident memory of a running process (VmHWM), in KiB; 0 once it has exited. */
async function peakRssKiB(pid: number): Promise<number> {
  try {
    const status = await Bun.file(`/proc/${pid}/status`).text();
    return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

async function run(cmd: string[]): Promise<Run> {
  const t0 = performance.now();
  const proc = Bun.spawn(cmd, { stdout: 'pipe', stderr: 'pipe' });
  let peak = 0;
  const poll = setInterval(async () => {
    peak = Math.max(peak, await peakRssKiB(proc.pid));
  }, 25);
  const code = await proc.exited;
  const ms = performance.now() - t0;
  clearInterval(poll);
  if (code !== 0) throw new Error(`${cmd.join(' ')} failed:\n${await new Response(proc.stderr).text()}`);
  return { ms, maxRssMiB: peak / 1024 };
}

async function ensureClips(): Promise<{ name: string; path: string; frames: number; height: number }[]> {
  await mkdir(CACHE, { recursive: true });
  const clips: { name: string; path: string }[] = [];
  const flower = join(SHARED_MEDIA, 'flower.mp4');
  if (existsSync(flower)) {
    for (const h of quick ? [720] : [720, 1080]) {
      const path = await flowerClip(h);
      clips.push({ name: `flower ${h}p (real)`, path });
    }
    if (!quick) {
      const car = join(SHARED_MEDIA, 'car-detection.mp4');
      if (existsSync(car)) clips.push({ name: 'car-detection 432p (real)', path: car });
    }
  } else {
    console.warn(`../shared/media not found: benchmarking generated clips only`);
  }
  const gen = join(CACHE, 'generated-1080p.mp4');
  if (!existsSync(gen)) await writeTestClip(gen, { width: 1920, height: 1080, frames: 300, crf: 18 });
  if (!quick) clips.push({ name: 'generated 1080p', path: gen });
  const out = [];
  for (const c of clips) {
    const info = await probe(c.path, { keyframes: true });
    const v = info.streams.find((s) => s.type === 'video');
    if (v?.type !== 'video') continue;
    out.push({ ...c, frames: v.frameCount, height: v.height });
  }
  return out;
}

interface Row {
  clip: string;
  case: string;
  oursMs: number;
  baselineMs: number;
  ratio: number;
  oursFps: number;
  baselineFps: number;
  oursRssMiB: number;
  baselineRssMiB: number;
}

const rows: Row[] = [];
const clips = await ensureClips();
const tmp = join(CACHE, 'out');
await mkdir(tmp, { recursive: true });

for (const clip of clips) {
  const cases: { name: string; ours: string[]; baseline: string[]; goal: string }[] = [
    {
      name: 'identity transcode (libx264 veryfast crf 23)',
      ours: [
        'bun',
        CLI,
        'transcode',
        clip.path,
        join(tmp, 'ours.mp4'),
        '--overwrite',
        '--preset',
        'veryfast',
        '--crf',
        '23',
      ],
      baseline: ['ffmpeg', ...bareTranscodeArgs(clip.path, join(tmp, 'ffmpeg.mp4'))],
      goal: '<= 1.10x wall time',
    },
    {
      name: 'decode only (native YUV)',
      ours: ['bun', join(import.meta.dir, 'cases/decode.ts'), clip.path, 'native'],
      baseline: ['ffmpeg', '-v', 'error', '-i', clip.path, '-map', '0:v:0', '-f', 'null', '-'],
      goal: 'report',
    },
    {
      name: 'decode to gray8 (Y plane)',
      ours: ['bun', join(import.meta.dir, 'cases/decode.ts'), clip.path, 'gray8'],
      baseline: ['ffmpeg', '-v', 'error', '-i', clip.path, '-map', '0:v:0', '-f', 'null', '-'],
      goal: '>= 0.9x of ffmpeg decode fps',
    },
    {
      name: 'decode to rgb24',
      ours: ['bun', join(import.meta.dir, 'cases/decode.ts'), clip.path, 'rgb24'],
      baseline: [
        'ffmpeg',
        '-v',
        'error',
        '-i',
        clip.path,
        '-map',
        '0:v:0',
        '-pix_fmt',
        'rgb24',
        '-f',
        'null',
        '-',
      ],
      goal: 'report',
    },
  ];
  for (const c of cases) {
    const runs: { ours: Run[]; baseline: Run[] } = { ours: [], baseline: [] };
    await run(c.ours); // warm the page cache and the module cache
    await run(c.baseline);
    for (let i = 0; i < iterations; i++) {
      const order = i % 2 === 0 ? (['ours', 'baseline'] as const) : (['baseline', 'ours'] as const);
      for (const side of order) runs[side].push(await run(side === 'ours' ? c.ours : c.baseline));
    }
    const ours = median(runs.ours.map((r) => r.ms));
    const base = median(runs.baseline.map((r) => r.ms));
    const rss = (rs: Run[]): number => Math.max(...rs.map((r) => r.maxRssMiB));
    const row: Row = {
      clip: clip.name,
      case: c.name,
      oursMs: ours,
      baselineMs: base,
      ratio: ours / base,
      oursFps: clip.frames / (ours / 1000),
      baselineFps: clip.frames / (base / 1000),
      oursRssMiB: rss(runs.ours),
      baselineRssMiB: rss(runs.baseline),
    };
    rows.push(row);
    console.log(
      `${clip.name.padEnd(26)} ${c.name.padEnd(44)} ours ${row.oursMs.toFixed(0).padStart(6)} ms (${row.oursFps.toFixed(0).padStart(4)} fps, ${row.oursRssMiB.toFixed(0)} MiB)  ffmpeg ${row.baselineMs.toFixed(0).padStart(6)} ms (${row.baselineFps.toFixed(0).padStart(4)} fps, ${row.baselineRssMiB.toFixed(0)} MiB)  time ratio ${row.ratio.toFixed(2)}x  fps ratio ${(row.oursFps / row.baselineFps).toFixed(2)}x  [goal ${c.goal}]`,
    );
  }
}

await mkdir(RESULTS, { recursive: true });
const file = join(RESULTS, `io-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
await writeFile(file, JSON.stringify({ iterations, node: process.versions, rows }, null, 2));
await rm(tmp, { recursive: true, force: true });
console.log(`results: ${file}`);

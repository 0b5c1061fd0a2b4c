// Temporal coherence, judged by an independent flow: the neural style (the built-in mosaic model)
// on real clips, per frame, with the EMA default, and with the flow stabilizer, side by side in one
// run. The judge is bench/temporal_judge.py (OpenCV's DIS from Debian's python3-opencv), so our
// flow never grades itself: warping error (Lai et al. 2018), texture kept (variance of the
// Laplacian), SSIM to the per-frame style where the input moved. Frames of every variant are
// written under bench/.cache/temporal/<clip>/ for looking at.
// Usage: bun bench/temporal.ts [--frames 30] [--height 270] [--clips flower,friday,car-detection]
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cloneFrame, type Frame } from '@framecraft/core';
import { VideoFilter, VideoReader } from '@framecraft/io';
import { getStylizer, parseStylizerOptions } from '@framecraft/stylizers';
import '@framecraft/stylizers/neural';
import { EmaStabilizer, FlowStabilizer } from '@framecraft/temporal';
import { CACHE, SHARED_MEDIA } from './clips.ts';

const args = process.argv.slice(2);
const opt = (name: string, def: string): string =>
  args.includes(name) ? args[args.indexOf(name) + 1]! : def;
const FRAMES = Number(opt('--frames', '30'));
const HEIGHT = Number(opt('--height', '270'));
const CLIPS = opt('--clips', 'flower,friday,car-detection').split(',');
const STYLE = opt('--style', 'neural');
const JUDGE = '/usr/bin/python3';

async function frames(clip: string): Promise<Frame[]> {
  await using reader = await VideoReader.open(clip);
  const w = Math.round((reader.stream.width * HEIGHT) / reader.stream.height / 2) * 2;
  using scale = await VideoFilter.create(`scale=${w}:${HEIGHT}:flags=area,format=rgb24`);
  const out: Frame[] = [];
  for await (const f of reader.frames({ format: 'rgb24', end: { frame: FRAMES } }))
    for (const s of scale.process(f)) out.push(cloneFrame(s));
  return out;
}

const rows: Record<string, unknown>[] = [];
for (const name of CLIPS) {
  const clip = join(SHARED_MEDIA, `${name}.mp4`);
  if (!existsSync(clip)) {
    console.log(`${clip} is missing; skipped`);
    continue;
  }
  const input = await frames(clip);
  const { width, height } = input[0]!;
  const style = getStylizer(STYLE);
  const instance = await style.create(parseStylizerOptions(style, {}) as never, { width, height, seed: 1 });
  const dir = join(CACHE, 'temporal', name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const ema = EmaStabilizer.create({ strength: 0.85, motionThreshold: 128 });
  const flow = FlowStabilizer.create();
  const write = (v: string, i: number, f: Frame) =>
    writeFile(join(dir, `${v}-${String(i).padStart(4, '0')}.rgb`), f.planes[0]!.data as Uint8Array);
  let styleMs = 0;
  let flowMs = 0;
  for (const [i, f] of input.entries()) {
    let t = performance.now();
    const styled = cloneFrame(await instance.process(f));
    styleMs += performance.now() - t;
    await write('input', i, f);
    await write('perframe', i, styled);
    await write('ema', i, ema.process(styled));
    t = performance.now();
    const out = flow.process(f, styled, i);
    flowMs += performance.now() - t;
    await write('flow', i, out);
  }
  instance.dispose();
  await writeFile(
    join(dir, 'meta.json'),
    JSON.stringify({ width, height, frames: input.length, variants: ['perframe', 'ema', 'flow'] }),
  );
  const judge = Bun.spawn([JUDGE, join(import.meta.dir, 'temporal_judge.py'), dir], { stdout: 'pipe' });
  const res = JSON.parse(await new Response(judge.stdout).text()) as Record<
    string,
    { ewarp: number; laplacian: number; ssim_moving: number | null }
  >;
  const base = res.perframe!;
  const ema0 = res.ema!;
  for (const [v, r] of Object.entries(res)) {
    rows.push({
      clip: name,
      variant: v,
      ewarp: r.ewarp.toFixed(4),
      'vs per-frame': (r.ewarp / base.ewarp).toFixed(2),
      'vs EMA': (r.ewarp / ema0.ewarp).toFixed(2),
      'laplacian ratio': (r.laplacian / base.laplacian).toFixed(2),
      'SSIM where moving': r.ssim_moving?.toFixed(3) ?? '-',
    });
  }
  rows.push({
    clip: name,
    variant: `cost: style ${(styleMs / input.length).toFixed(1)} ms/frame, flow stage ${(flowMs / input.length).toFixed(1)} ms/frame (${((100 * flowMs) / styleMs).toFixed(1)} %)`,
  });
}
console.table(rows);

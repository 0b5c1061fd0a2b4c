// Temporal coherence, judged by an independent flow: each style per frame, with the EMA default,
// and with the flow stabilizer, side by side in one run, on real clips and a synthetic clip of
// known motion (a flower frame panned, rotated and zoomed a little each frame). The judge is
// bench/temporal_judge.py (OpenCV's DIS from Debian's python3-opencv), so our flow never grades
// itself: warping error (Lai et al. 2018), texture kept (variance of the Laplacian), SSIM to the
// per-frame style where the input moved. Frames of every variant are written under
// bench/.cache/temporal/<clip>-<style>/ for looking at.
// Usage: bun bench/temporal.ts [--frames 30] [--height 270]
//   [--clips flower,friday,car-detection,synthetic] [--styles neural,cartoon,comic,pencil] [--half]
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cloneFrame, createFrame, type Frame } from '@framecraft/core';
import { VideoFilter, VideoReader } from '@framecraft/io';
import { getStylizer, parseStylizerOptions } from '@framecraft/stylizers';
import { list } from './stats.ts';
import '@framecraft/stylizers/neural';
import { EmaStabilizer, FlowStabilizer } from '@framecraft/temporal';
import { CACHE, SHARED_MEDIA } from './clips.ts';

const { values: flags } = parseArgs({
  options: {
    frames: { type: 'string', default: '30' },
    height: { type: 'string', default: '270' },
    clips: { type: 'string', default: 'flower,friday,car-detection,synthetic' },
    styles: { type: 'string', default: 'neural' },
    half: { type: 'boolean', default: false },
  },
});
const FRAMES = Number(flags.frames);
const HEIGHT = Number(flags.height);
const CLIPS = list(flags.clips);
const STYLES = list(flags.styles);
const HALF = flags.half;
const JUDGE = '/usr/bin/python3';

async function frames(clip: string, count = FRAMES): Promise<Frame[]> {
  await using reader = await VideoReader.open(clip);
  const w = Math.round((reader.stream.width * HEIGHT) / reader.stream.height / 2) * 2;
  using scale = await VideoFilter.create(`scale=${w}:${HEIGHT}:flags=area,format=rgb24`);
  const out: Frame[] = [];
  for await (const f of reader.frames({ format: 'rgb24', end: { frame: count } }))
    for (const s of scale.process(f)) out.push(cloneFrame(s));
  return out;
}

/**
 * The synthetic clip: flower's first frame moved by a known smooth motion (a pan of 1.5 px and
 * 0.6 px per frame, a rotation of 0.15° and a zoom of 0.2 % per frame about the centre), bilinear.
 */
async function synthetic(): Promise<Frame[]> {
  const [src] = await frames(join(SHARED_MEDIA, 'flower.mp4'), 1);
  const { width: w, height: h } = src!;
  const s = src!.planes[0]!.data;
  const out: Frame[] = [];
  for (let t = 0; t < FRAMES; t++) {
    const f = createFrame({ width: w, height: h, format: 'rgb24' });
    const d = f.planes[0]!.data;
    const a = (t * 0.15 * Math.PI) / 180;
    const z = 1 + 0.002 * t;
    const [cx, cy] = [w / 2, h / 2];
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        // Where this pixel was in the source: undo the pan, rotation and zoom.
        const u0 = x - 1.5 * t - cx;
        const v0 = y - 0.6 * t - cy;
        const u = (Math.cos(a) * u0 + Math.sin(a) * v0) / z + cx;
        const v = (-Math.sin(a) * u0 + Math.cos(a) * v0) / z + cy;
        const x0 = Math.min(w - 2, Math.max(0, Math.floor(u)));
        const y0 = Math.min(h - 2, Math.max(0, Math.floor(v)));
        const fx = Math.min(1, Math.max(0, u - x0));
        const fy = Math.min(1, Math.max(0, v - y0));
        for (let c = 0; c < 3; c++) {
          const p = (yy: number, xx: number) => s[(yy * w + xx) * 3 + c]!;
          const top = p(y0, x0) + fx * (p(y0, x0 + 1) - p(y0, x0));
          const bot = p(y0 + 1, x0) + fx * (p(y0 + 1, x0 + 1) - p(y0 + 1, x0));
          d[(y * w + x) * 3 + c] = Math.round(top + fy * (bot - top));
        }
      }
    }
    out.push(f);
  }
  return out;
}

/** An rgb24 frame in a style's input format. */
async function convert(f: Frame, format: string): Promise<Frame> {
  using conv = await VideoFilter.create(`format=${format === 'gray8' ? 'gray' : format}`);
  return cloneFrame(conv.process(f)[0]!);
}

/** A frame as rgb24 for the judge (gray and YUV styles converted). */
async function rgb(f: Frame): Promise<Uint8Array> {
  if (f.format === 'rgb24') return f.planes[0]!.data as Uint8Array;
  if (f.format === 'gray8') {
    const out = new Uint8Array(f.width * f.height * 3);
    const g = f.planes[0]!;
    for (let y = 0; y < f.height; y++)
      for (let x = 0; x < f.width; x++)
        out.fill(g.data[y * g.stride + x]!, (y * f.width + x) * 3, (y * f.width + x) * 3 + 3);
    return out;
  }
  using conv = await VideoFilter.create('format=rgb24');
  return conv.process(f)[0]!.planes[0]!.data as Uint8Array;
}

const rows: Record<string, unknown>[] = [];
for (const name of CLIPS) {
  const clip = join(SHARED_MEDIA, `${name}.mp4`);
  if (name !== 'synthetic' && !existsSync(clip)) {
    console.log(`${clip} is missing; skipped`);
    continue;
  }
  const input = name === 'synthetic' ? await synthetic() : await frames(clip);
  const { width, height } = input[0]!;
  for (const styleName of STYLES) {
    const style = getStylizer(styleName);
    const instance = await style.create(parseStylizerOptions(style, {}) as never, { width, height, seed: 1 });
    const dir = join(CACHE, 'temporal', `${name}-${styleName}`);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    // The EMA as the pipeline runs it for this style (its own settings when it declares them).
    const ema = EmaStabilizer.create({
      strength: style.temporal?.strength ?? 0.5,
      motionThreshold: style.temporal?.motionThreshold ?? 24,
    });
    const flow = FlowStabilizer.create({
      flowResolution: 'full',
      ...JSON.parse(process.env.FLOW_OPTIONS ?? '{}'),
    });
    // With --half: the flow at half resolution beside it (is E_warp within 10 % of full?).
    const half = HALF ? FlowStabilizer.create({ flowResolution: 'half' }) : null;
    let halfMs = 0;
    const write = async (v: string, i: number, f: Frame) =>
      writeFile(join(dir, `${v}-${String(i).padStart(4, '0')}.rgb`), await rgb(f));
    let styleMs = 0;
    let flowMs = 0;
    for (const [i, f] of input.entries()) {
      const source = style.inputFormat === 'rgb24' ? f : await convert(f, style.inputFormat);
      let t = performance.now();
      const styled = cloneFrame(await instance.process(source));
      styleMs += performance.now() - t;
      await write('input', i, f);
      await write('perframe', i, styled);
      await write('ema', i, ema.process(styled));
      t = performance.now();
      const out = flow.process(source, styled, i);
      flowMs += performance.now() - t;
      await write('flow', i, out);
      if (half !== null) {
        t = performance.now();
        const h = half.process(source, styled, i);
        halfMs += performance.now() - t;
        await write('flow-half', i, h);
      }
    }
    instance.dispose();
    await writeFile(
      join(dir, 'meta.json'),
      JSON.stringify({
        width,
        height,
        frames: input.length,
        variants: ['perframe', 'ema', 'flow', ...(half !== null ? ['flow-half'] : [])],
      }),
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
        style: styleName,
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
      style: styleName,
      variant:
        `cost: style ${(styleMs / input.length).toFixed(1)} ms/frame, flow stage ${(flowMs / input.length).toFixed(1)} ms/frame (${((100 * flowMs) / styleMs).toFixed(1)} %)` +
        (half !== null
          ? `, at half resolution ${(halfMs / input.length).toFixed(1)} ms (${((100 * halfMs) / styleMs).toFixed(1)} %)`
          : ''),
    });
  }
}
console.table(rows);

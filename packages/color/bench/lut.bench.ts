// Micro-benchmark: 3D LUT on a 1080p rgb24 frame, ours vs FFmpeg's lut3d filter running in the
// same process through node-av (same frame, same LUT). The FFmpeg CLI figure (Debian ffmpeg,
// -f null) is printed when ffmpeg is installed. Usage: bun packages/color/bench/lut.bench.ts
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyLut3d, bakeLut3d, prepareLut3d, writeCube } from '@framecraft/color';
import { createFrame } from '@framecraft/core';
import { VideoFilter, VideoReader } from '@framecraft/io';
import { drawTestPattern } from '@framecraft/io/testing';
import { Bench } from 'tinybench';

const W = 1920;
const H = 1080;
const dir = mkdtempSync(join(tmpdir(), 'framecraft-lut-bench-'));
const lut = bakeLut3d(33, (r, g, b) => [Math.min(1, r * 1.05 + 0.02), g * 0.98, Math.max(0, b * 0.9 - 0.01)]);
const cube = join(dir, 'grade33.cube');
writeFileSync(cube, writeCube({ lut3d: lut }));
// A real frame (flower.mp4 scaled to 1080p) when ../shared/media is there, else the test pattern.
const flower = join(import.meta.dir, '../../../../shared/media/flower.mp4');
let frame = drawTestPattern(5, W, H);
if (existsSync(flower)) {
  await using reader = await VideoReader.open(flower);
  const still = await reader.frameAt({ frame: 60 }, 'rgb24');
  using scale = await VideoFilter.create(`scale=${W}:${H},format=rgb24`);
  frame = scale.process(still)[0]!;
  console.log('frame: flower.mp4 #60 scaled to 1080p');
} else console.log('frame: generated test pattern (../shared/media not found)');
const out = createFrame({ width: W, height: H, format: 'rgb24' });
const filters = {
  trilinear: await VideoFilter.create(`lut3d=file=${cube}:interp=trilinear,format=rgb24`),
  tetrahedral: await VideoFilter.create(`lut3d=file=${cube}:interp=tetrahedral,format=rgb24`),
};

const bench = new Bench({ name: '3D LUT (33³) on 1080p rgb24', time: 3000 });
for (const interp of ['trilinear', 'tetrahedral'] as const) {
  bench.add(`ours ${interp}`, () => {
    applyLut3d(frame, lut, { interpolation: interp }, out);
  });
  const prepared = prepareLut3d(lut, { interpolation: interp });
  bench.add(`ours ${interp}, prepared table`, () => {
    applyLut3d(frame, prepared, {}, out);
  });
  bench.add(`FFmpeg lut3d ${interp} (in-process)`, () => {
    filters[interp].process(frame);
  });
}
await bench.run();
console.table(bench.table());
const fps = (name: string): number => {
  const r = bench.getTask(name)?.result;
  return r && r.state === 'completed' ? 1000 / r.latency.p50 : Number.NaN;
};
for (const interp of ['trilinear', 'tetrahedral']) {
  const ours = fps(`ours ${interp}`);
  const prepared = fps(`ours ${interp}, prepared table`);
  const theirs = fps(`FFmpeg lut3d ${interp} (in-process)`);
  console.log(
    `${interp}: ours ${ours.toFixed(1)} fps (${(ours / theirs).toFixed(2)}x), prepared ${prepared.toFixed(1)} fps (${(prepared / theirs).toFixed(2)}x), FFmpeg ${theirs.toFixed(1)} fps`,
  );
}
const t0 = performance.now();
prepareLut3d(lut);
console.log(`prepareLut3d: ${(performance.now() - t0).toFixed(0)} ms, 48 MiB`);

const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
if (hasFfmpeg) {
  const frames = 120;
  // Wall time of the CLI on a generated source through a filter chain, in ms.
  const cli = (vf: string): number => {
    const t0 = performance.now();
    const src = [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=${W}x${H}:rate=30`,
      '-frames:v',
      String(frames),
    ];
    spawnSync('ffmpeg', [...src, '-vf', vf, '-f', 'null', '-']);
    return performance.now() - t0;
  };
  for (const interp of ['trilinear', 'tetrahedral']) {
    const withLut = cli(`format=rgb24,lut3d=file=${cube}:interp=${interp}`);
    const without = cli('format=rgb24');
    const lutMs = (withLut - without) / frames;
    console.log(
      `FFmpeg CLI lut3d ${interp}: ${(1000 / lutMs).toFixed(1)} fps for the filter alone (source and conversion subtracted)`,
    );
  }
} else console.log('ffmpeg CLI not installed: skipping the CLI figure');
for (const f of Object.values(filters)) f.close();

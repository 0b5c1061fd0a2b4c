// Grade frames with a .cube 3D LUT using @framecraft/color on frames read by @framecraft/io, and
// write the graded video. Without a .cube file, a warm grade is baked in code and saved as one.
// Usage: bun examples/lut-grade/index.ts <in> <out.mp4> [grade.cube]
import { readFile, writeFile } from 'node:fs/promises';
import { applyLut3d, bakeLut3d, type Lut3D, parseCube, prepareLut3d, writeCube } from '@framecraft/color';
import { createFrame } from '@framecraft/core';
import { VideoReader, VideoWriter } from '@framecraft/io';

const [input, output, cubeFile] = process.argv.slice(2);
if (input === undefined || output === undefined) {
  console.error('Usage: bun examples/lut-grade/index.ts <in> <out.mp4> [grade.cube]');
  process.exit(2);
}
let lut: Lut3D;
if (cubeFile !== undefined) {
  const parsed = parseCube(await readFile(cubeFile, 'utf8'), { file: cubeFile });
  if (parsed.lut3d === null) throw new Error(`${cubeFile} holds no 3D LUT`);
  lut = parsed.lut3d;
} else {
  // A warm grade: lift reds, lower blues, a little contrast.
  lut = bakeLut3d(33, (r, g, b) => [Math.min(1, r * 1.08 + 0.02), g, Math.max(0, b * 0.9)]);
  const saved = output.replace(/\.[^.]+$/, '.cube');
  await writeFile(saved, writeCube({ title: 'warm', lut3d: lut }));
  console.log(`baked a 33³ warm grade into ${saved}`);
}
const table = prepareLut3d(lut, { interpolation: 'tetrahedral' });
await using reader = await VideoReader.open(input);
const s = reader.stream;
const graded = createFrame({ width: s.width, height: s.height, format: 'rgb24' });
const writer = await VideoWriter.create(output, {
  width: s.width,
  height: s.height,
  timeBase: s.timeBase,
  frameRate: s.avgFrameRate,
  preset: 'veryfast',
  color: s.color,
});
let n = 0;
for await (const frame of reader.frames({ format: 'rgb24' })) {
  await writer.write(applyLut3d(frame, table, {}, graded));
  n++;
}
const res = await writer.close();
console.log(`${res.path}: ${n} frames graded with ${lut.size}³ tetrahedral LUT`);

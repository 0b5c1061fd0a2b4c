// One style, end to end, for the benchmark runner: decode (in the style's input format) → style →
// encode (libx264 veryfast, like the baselines). Run as a child process so both sides pay start-up.
// Usage: bun bench/cases/style.ts <style> <in> <out.mp4> <frames>
import type { Frame } from '@framecraft/core';
import { createFrame } from '@framecraft/core';
import { VideoReader, VideoWriter } from '@framecraft/io';
import { getStylizer, parseStylizerOptions } from '@framecraft/stylizers';

const [styleName, input, output, framesArg] = process.argv.slice(2);
if (!styleName || !input || !output)
  throw new Error('Usage: bun bench/cases/style.ts <style> <in> <out.mp4> <frames>');
const frames = Number(framesArg ?? 120);
const style = getStylizer(styleName);
await using reader = await VideoReader.open(input);
const s = reader.stream;
const instance = await style.create(parseStylizerOptions(style), {
  width: s.width,
  height: s.height,
  seed: 1,
});
const out = createFrame({ width: s.width, height: s.height, format: instance.outputFormat });
const writer = await VideoWriter.create(output, {
  width: s.width,
  height: s.height,
  timeBase: s.timeBase,
  frameRate: s.avgFrameRate,
  codec: 'libx264',
  preset: 'veryfast',
  crf: 23,
  color: s.color,
});
let styleMs = 0;
let n = 0;
for await (const frame of reader.frames({ format: style.inputFormat, end: { frame: frames } })) {
  const t0 = performance.now();
  const styled: Frame = await instance.processInto(frame, out);
  styleMs += performance.now() - t0;
  await writer.write(styled);
  n++;
}
await writer.close();
instance.dispose();
process.stdout.write(`${JSON.stringify({ frames: n, styleMs })}\n`);

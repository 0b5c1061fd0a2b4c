// Probe a video, then run the identity pass (decode every frame in TypeScript, encode it again,
// carry audio and subtitles over) and compare the two files.
// Usage: bun examples/probe-and-transcode/index.ts <in> <out> [--crf 20] [--codec libx264]
import { probe, type TranscodeProgress, transcode } from '@framecraft/io';

const [input, output, ...rest] = process.argv.slice(2);
if (input === undefined || output === undefined) {
  console.error('Usage: bun examples/probe-and-transcode/index.ts <in> <out> [--crf 20] [--codec libx264]');
  process.exit(2);
}
const flag = (name: string): string | undefined => {
  const i = rest.indexOf(name);
  return i >= 0 ? rest[i + 1] : undefined;
};

const before = await probe(input);
const video = before.streams.find((s) => s.type === 'video');
if (video?.type !== 'video') throw new Error(`${input} has no video`);
console.log(
  `${input}: ${before.duration.toFixed(2)} s, ${video.width}x${video.height} ${video.codec}, ` +
    `${before.streams.length} stream(s), ${video.vfr ? 'variable' : 'constant'} frame rate`,
);

let last = 0;
const result = await transcode(input, output, {
  crf: Number(flag('--crf') ?? 20),
  codec: flag('--codec') ?? 'libx264',
  preset: 'veryfast',
  onProgress: (p: TranscodeProgress) => {
    if (p.frames - last >= 50 || p.stage !== 'encode') {
      last = p.frames;
      console.log(`  ${p.stage}: ${p.frames}/${p.totalFrames} frames at ${p.fps.toFixed(0)} fps`);
    }
  },
});

const after = await probe(output);
console.log(
  `${output}: ${after.duration.toFixed(2)} s, ${result.frames} frames with ${result.encoder}, ` +
    `${result.copiedStreams.length} stream(s) copied, ${(result.frames / result.seconds).toFixed(0)} fps overall`,
);

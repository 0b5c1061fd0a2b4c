// Stylize a clip with one style through the pipeline API: chunks on worker threads, progress,
// audio carried over. Usage: bun examples/stylize-clip/index.ts <in> <out> [style] [key=value …]
import { render } from '@framecraft/pipeline';

const [input, output, style = 'pencil', ...pairs] = process.argv.slice(2);
if (input === undefined || output === undefined) {
  console.error('Usage: bun examples/stylize-clip/index.ts <in> <out> [style] [key=value …]');
  process.exit(2);
}
// Style options from key=value pairs; numbers and booleans as JSON.
const styleOptions = Object.fromEntries(
  pairs.map((p) => {
    const [k, v = ''] = p.split('=');
    let value: unknown = v;
    try {
      value = JSON.parse(v);
    } catch {}
    return [k, value];
  }),
);
const result = await render(
  { input, output, style, styleOptions, encoderPreset: 'veryfast', chunkDuration: 1 },
  {
    overwrite: true,
    onProgress: (p) => {
      if (p.stage !== 'render') console.log(`${p.stage}: ${p.framesDone}/${p.totalFrames} frames`);
    },
    onWarning: (m) => console.warn(`warning: ${m}`),
  },
);
console.log(
  `${result.output}: ${result.frames} frames of ${style} in ${result.chunks} chunks, ${result.seconds.toFixed(2)} s`,
);

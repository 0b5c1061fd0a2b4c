// tinybench over every registered style on one real frame of a clip (style alone: no decode or
// encode). Usage: bun examples/benchmark-styles/index.ts <clip> [--time 500]
import { VideoReader } from '@framecraft/io';
import { getStylizer, listStylizers, parseStylizerOptions } from '@framecraft/stylizers';
import { Bench } from 'tinybench';

const [clip, ...rest] = process.argv.slice(2);
if (clip === undefined) {
  console.error('Usage: bun examples/benchmark-styles/index.ts <clip> [--time 500]');
  process.exit(2);
}
const time = Number(rest[rest.indexOf('--time') + 1] ?? 500) || 500;
await using reader = await VideoReader.open(clip);
const { width, height } = reader.stream;
const bench = new Bench({ name: `styles on one ${width}x${height} frame`, time });
const instances = [];
for (const name of listStylizers()) {
  const style = getStylizer(name);
  const frame = await reader.frameAt({ frame: 0 }, style.inputFormat);
  const instance = await style.create(parseStylizerOptions(style), { width, height, seed: 1 });
  instances.push(instance);
  bench.add(name, async () => {
    await instance.process(frame);
  });
}
await bench.run();
console.table(bench.table());
for (const i of instances) i.dispose();

// One decode pass through VideoReader, for the benchmark runner (run as a child process so the
// baseline and ours both pay process start-up).
// Usage: bun bench/cases/decode.ts <in> <native|gray8|rgb24>
import type { ReadFormat } from '@framecraft/io';
import { VideoReader } from '@framecraft/io';

const [input, format = 'native'] = process.argv.slice(2);
if (input === undefined) throw new Error('Usage: bun bench/cases/decode.ts <in> <native|gray8|rgb24>');
await using reader = await VideoReader.open(input);
let frames = 0;
for await (const _ of reader.frames({ format: format as ReadFormat })) frames++;
process.stdout.write(`${JSON.stringify({ frames })}\n`);

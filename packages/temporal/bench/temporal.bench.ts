// Micro-benchmark: EMA stabilizer and deflicker on 1080p frames (goal: >= 300 fps each, since
// they sit inside every frame's budget). Usage: bun packages/temporal/bench/temporal.bench.ts
import { createFrame, type Frame } from '@framecraft/core';
import { Deflicker, EmaStabilizer } from '@framecraft/temporal';
import { Bench } from 'tinybench';

function frame(format: 'gray8' | 'yuv420p' | 'rgb24', seed: number): Frame {
  const f = createFrame({ width: 1920, height: 1080, format });
  let s = seed;
  for (const p of f.planes) {
    const d = p.data as Uint8Array;
    for (let i = 0; i < d.length; i++) {
      s = (s * 1664525 + 1013904223) >>> 0;
      d[i] = 100 + (s >>> 28);
    }
  }
  return f;
}

const bench = new Bench({ name: '1080p temporal filters', time: 2000 });
for (const format of ['gray8', 'yuv420p', 'rgb24'] as const) {
  const frames = [frame(format, 1), frame(format, 2)];
  const ema = EmaStabilizer.create();
  const portable = EmaStabilizer.create({ kernel: 'typescript' });
  const df = Deflicker.create();
  const dfPortable = Deflicker.create({ kernel: 'typescript' });
  const out = createFrame({ width: 1920, height: 1080, format });
  let i = 0;
  bench.add(`EMA ${format} (${ema.kernel})`, () => void ema.process(frames[i++ & 1]!, out));
  bench.add(`EMA ${format} (typescript)`, () => void portable.process(frames[i++ & 1]!, out));
  const what = format === 'yuv420p' ? ' (Y corrected, chroma copied)' : '';
  bench.add(`deflicker ${format}${what} (${df.kernel})`, () => void df.process(frames[i++ & 1]!, out));
  bench.add(`deflicker ${format}${what} (typescript)`, () => void dfPortable.process(frames[i++ & 1]!, out));
}
await bench.run();
console.table(bench.table());
for (const t of bench.tasks) {
  const r = t.result;
  if (r.state === 'completed') console.log(`${t.name}: ${(1000 / r.latency.p50).toFixed(0)} fps`);
}

// Micro-benchmark: what it costs to hand a 1080p frame between FFmpeg and TypeScript.
// Wrapping decoder memory (views) vs copying into fresh or reused buffers, and copying a
// Framecraft frame into an encoder frame. Usage: bun packages/io/bench/frame-copy.bench.ts
import { cloneFrame, createFrame } from '@framecraft/core';
import { loadNodeAv } from '@framecraft/io';
import { Bench } from 'tinybench';
import { copyIntoAvFrame, pixelFormatToAv, wrapAvFrame } from '../src/convert.ts';

const av = await loadNodeAv();
const W = 1920;
const H = 1080;
const avFrame = new av.Frame();
avFrame.alloc();
avFrame.width = W;
avFrame.height = H;
avFrame.format = pixelFormatToAv('yuv420p') as never;
avFrame.getBuffer(32);
const color = { range: 'limited', primaries: 'bt709', transfer: 'bt709', matrix: 'bt709' } as const;
const wrapped = wrapAvFrame(avFrame, { format: 'yuv420p', timeBase: { num: 1, den: 30 }, color });
const reused = createFrame({ width: W, height: H, format: 'yuv420p' });
const source = createFrame({ width: W, height: H, format: 'yuv420p' });

const bench = new Bench({ name: '1080p yuv420p frame hand-off', time: 1000 });
bench
  .add('wrap decoder memory (views, no copy)', () => {
    wrapAvFrame(avFrame, { format: 'yuv420p', timeBase: { num: 1, den: 30 }, color });
  })
  .add('copy into a fresh frame', () => {
    cloneFrame(wrapped);
  })
  .add('copy into a reused frame', () => {
    cloneFrame(wrapped, reused);
  })
  .add('copy a frame into an encoder frame', () => {
    avFrame.makeWritable();
    copyIntoAvFrame(source, avFrame);
  });
await bench.run();
console.table(bench.table());
avFrame.free();

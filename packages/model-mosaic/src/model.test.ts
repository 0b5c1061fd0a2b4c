import { expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createFrame, type Frame } from '@framecraft/core';
import { OnnxSession, runTiled } from '@framecraft/ml';
import { mosaic } from './index.ts';

/** An rgb24 picture with structure at every scale: rings around the centre over a diagonal ramp. */
function rings(width: number, height: number): Frame {
  const f = createFrame({ width, height, format: 'rgb24' });
  const d = f.planes[0]!.data;
  for (let i = 0; i < width * height; i++) {
    const x = i % width;
    const y = Math.floor(i / width);
    const r = Math.hypot(x - width / 2, y - height / 2);
    d[i * 3] = 128 + 100 * Math.sin(r / 6);
    d[i * 3 + 1] = ((x + y) * 2) & 255;
    d[i * 3 + 2] = 255 - ((x * 3) & 255);
  }
  return f;
}

test('the shipped file is the one described: size, sha256, inputs, and it runs in ONNX Runtime', async () => {
  const bytes = readFileSync(mosaic.path);
  expect(bytes.length).toBe(mosaic.size);
  expect(createHash('sha256').update(bytes).digest('hex')).toBe(mosaic.sha256);
  const session = await OnnxSession.create(mosaic.path, { provider: 'cpu', threads: 1 });
  expect(session.inputs.map((i) => ({ name: i.name, shape: i.shape }))).toEqual([...mosaic.inputs]);
  // A flat grey 32x32 picture comes out the same size, in range, and no longer flat (a style).
  const out = await session.run(new Float32Array(3 * 32 * 32).fill(128), [1, 3, 32, 32]);
  expect(out.dims).toEqual([1, 3, 32, 32]);
  const values = Array.from(out.data);
  expect(Math.max(...values) - Math.min(...values)).toBeGreaterThan(20);
  await session.close();
});

test('runs repeatedly under this runtime; tiled output stays close to whole-frame output; tiny frames run', async () => {
  const s = await OnnxSession.create(mosaic.path, { provider: 'cpu' });
  await s.warmUp();
  // Odd sizes: the model's stride-2 layers need multiples of 4, so inputs are padded and cropped.
  const f = rings(203, 137);
  let whole: Frame | undefined;
  for (let i = 0; i < 5; i++) whole = await runTiled(s, f, { tile: 4096 });
  const tiled = await runTiled(s, f, { tile: 128, overlap: 32 });
  expect([tiled.width, tiled.height, whole!.width, whole!.height]).toEqual([203, 137, 203, 137]);
  let diff = 0;
  const a = whole!.planes[0]!.data;
  const b = tiled.planes[0]!.data;
  for (let i = 0; i < a.length; i++) diff += Math.abs(a[i]! - b[i]!);
  // Instance normalisation sees each tile's statistics: close, not identical.
  expect(diff / a.length).toBeLessThan(25);
  // Its first reflection padding (4 pixels) cannot pad 4-pixel inputs: small frames are padded up.
  for (const [w, h] of [
    [1, 1],
    [3, 3],
    [5, 200],
  ] as const) {
    const out = await runTiled(s, rings(w, h), {});
    expect([out.width, out.height]).toEqual([w, h]);
  }
  await s.close();
}, 60_000);

import { afterAll, describe, expect, test } from 'bun:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createFrame } from '@framecraft/core';
import { affineModel, tempDir } from '@framecraft/test-utils';
import { ModelNotFoundError, neural } from './neural.ts';
import { getStylizer, loadStylizer } from './registry.ts';
import { parseStylizerOptions } from './stylizer.ts';
import { contractFrame, testStylizer } from './testing.ts';

// A model the test writes itself: output = 0.5 · input + 60 (a "style" that washes colours out).
const { dir, cleanup } = await tempDir();
afterAll(() => cleanup());
const model = join(dir, 'wash.onnx');
await writeFile(model, affineModel(0.5, 60));

testStylizer(neural, { describe, test, expect }, { options: { model, tile: 64, overlap: 8 } });
testStylizer(neural, { describe, test, expect }, { options: { model, tile: 64, overlap: 8, scale: 0.5 } });

describe('neural', () => {
  test('runs the model in tiles over the frame, colours as the model says', async () => {
    const s = await neural.create(parseStylizerOptions(neural, { model, tile: 64, overlap: 8 }), {
      width: 150,
      height: 100,
      seed: 1,
    });
    const input = contractFrame('rgb24', 150, 100, 0);
    const out = await s.process(input);
    const a = input.planes[0]!.data;
    const b = out.planes[0]!.data;
    for (const i of [0, 1000, 20000, a.length - 1]) expect(b[i]).toBe(Math.round(0.5 * a[i]! + 60));
    s.dispose();
  });

  test('scale: the model paints a reduced frame, the output keeps the input size at odd sizes', async () => {
    for (const scale of [0.25, 0.5, 0.8]) {
      const s = await neural.create(parseStylizerOptions(neural, { model, tile: 64, overlap: 8, scale }), {
        width: 151,
        height: 99,
        seed: 1,
      });
      const input = contractFrame('rgb24', 151, 99, 0);
      const out = await s.process(input);
      expect([out.width, out.height]).toEqual([151, 99]);
      // The washed-out colours of the model (0.5 · v + 60) everywhere, within what the reduction moves.
      const a = input.planes[0]!.data;
      const b = out.planes[0]!.data;
      let err = 0;
      for (let i = 0; i < a.length; i++) err += Math.abs(b[i]! - (0.5 * a[i]! + 60));
      expect(err / a.length).toBeLessThan(6);
      s.dispose();
    }
    // Below scale 1 the instance offers its two steps, for a temporal stage between them; run one
    // after the other they give processInto's frame exactly.
    const s = await neural.create(parseStylizerOptions(neural, { model, tile: 64, overlap: 8, scale: 0.5 }), {
      width: 151,
      height: 99,
      seed: 1,
    });
    const r = s.reduced!;
    expect([r.width, r.height]).toEqual([76, 50]);
    const input = contractFrame('rgb24', 151, 99, 3);
    const small = createFrame({ width: 76, height: 50, format: 'rgb24' });
    const painted = createFrame({ width: 76, height: 50, format: 'rgb24' });
    await r.paint(input, small, painted);
    const two = r.upsample(painted, small, input, createFrame({ width: 151, height: 99, format: 'rgb24' }));
    expect(two.planes[0]!.data).toEqual((await s.process(input)).planes[0]!.data);
    expect(two.pts).toBe(input.pts);
    s.dispose();
    const whole = await neural.create(parseStylizerOptions(neural, { model, scale: 1 }), {
      width: 8,
      height: 8,
      seed: 1,
    });
    expect(whole.reduced).toBeUndefined();
    whole.dispose();
    expect(() => parseStylizerOptions(neural, { model, scale: 0.1 })).toThrow(/scale/);
    expect(() => parseStylizerOptions(neural, { model, scale: 1.5 })).toThrow(/scale/);
  });

  test('device: the GPU only when CUDA loads; on a machine without one it says cpu, like create()', async () => {
    const { OnnxSession } = await import('@framecraft/ml');
    // What ONNX Runtime does here decides the expected answer: no GPU, no CUDA library → cpu.
    const probe = await OnnxSession.create(model, { provider: 'auto' });
    const expected = {
      device: probe.provider === 'cuda' ? ('gpu' as const) : ('cpu' as const),
      reason: probe.providerReason,
    };
    await probe.close();
    expect(await neural.device!(parseStylizerOptions(neural, { model }))).toEqual(expected);
    expect(await neural.device!(parseStylizerOptions(neural, { model, provider: 'cpu' }))).toEqual({
      device: 'cpu',
      reason: 'asked for CPU',
    });
  });

  test('without CUDA the model runs in the calling thread and calls do not overlap; with it, on its own thread', async () => {
    const { cudaSupport } = await import('@framecraft/ml');
    const s = await neural.create(parseStylizerOptions(neural, { model }), {
      width: 16,
      height: 16,
      seed: 1,
    });
    expect(s.concurrent).toBe(cudaSupport().available);
    s.dispose();
    const cpu = await neural.create(parseStylizerOptions(neural, { model, provider: 'cpu' }), {
      width: 16,
      height: 16,
      seed: 1,
    });
    expect(cpu.concurrent).toBe(false);
    cpu.dispose();
  });

  test('a missing model is ERR_MODEL_NOT_FOUND naming it', async () => {
    const missing = join(dir, 'gone.onnx');
    const err = await Promise.resolve(
      neural.create(parseStylizerOptions(neural, { model: missing }), { width: 8, height: 8, seed: 1 }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelNotFoundError);
    expect((err as Error).message).toBe(`Model ${missing} not found`);
  });

  test('with no model option it runs the built-in mosaic model', async () => {
    const o = parseStylizerOptions(neural, {});
    expect(o.model).toBe('mosaic');
    const s = await neural.create(o, { width: 48, height: 32, seed: 1 });
    const input = contractFrame('rgb24', 48, 32, 0);
    const out = await s.process(input);
    // The mosaic look, not the input: most values move by more than a few code values.
    const a = input.planes[0]!.data;
    const b = out.planes[0]!.data;
    let moved = 0;
    for (let i = 0; i < a.length; i++) if (Math.abs(a[i]! - b[i]!) > 8) moved++;
    expect(moved / a.length).toBeGreaterThan(0.5);
    s.dispose();
  });

  test('the package root does not load it; loadStylizer imports the subpath on demand', async () => {
    expect(await loadStylizer('neural')).toBe(neural);
    expect(getStylizer('neural')).toBe(neural);
  });
});

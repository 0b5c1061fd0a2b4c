import { describe, expect, test } from 'bun:test';
import { createFrame, type Frame } from '@framecraft/core';
import { MetricsCollector } from './collector.ts';
import { WarpingErrorMeter, warpingError } from './warping.ts';

const W = 128;
const H = 80;

/** A smooth textured scene, shifted right by `dx` pixels (whole or not), as rgb24 or gray8. */
function scene(dx: number, format: 'rgb24' | 'gray8' = 'rgb24', tint = 0): Frame {
  const f = createFrame({ width: W, height: H, format });
  const d = f.planes[0]!.data;
  const c = format === 'rgb24' ? 3 : 1;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const u = x - dx;
      const v = 120 + 50 * Math.sin(u * 0.21 + y * 0.13) + 35 * Math.cos(y * 0.29 - u * 0.07);
      for (let j = 0; j < c; j++) d[(y * W + x) * c + j] = Math.max(0, Math.min(255, v + j * 20 + tint));
    }
  }
  return f;
}

/** Per-pixel noise of ±amp over a frame, seeded. */
function noisy(f: Frame, seed: number, amp: number): Frame {
  const out = createFrame({ width: f.width, height: f.height, format: f.format });
  const s = f.planes[0]!.data;
  const d = out.planes[0]!.data;
  let r = seed * 2654435761;
  for (let i = 0; i < d.length; i++) {
    r = (r * 1103515245 + 12345) >>> 0;
    d[i] = Math.max(0, Math.min(255, s[i]! + ((r >>> 16) % (2 * amp + 1)) - amp));
  }
  return out;
}

describe('warpingError', () => {
  test('0 for an output that moves exactly as its input', () => {
    // The "style" is a tinted copy of the input: it moves with the content by construction.
    const e = warpingError(scene(0, 'rgb24', 30), scene(3, 'rgb24', 30), scene(0), scene(3));
    expect(e).toBeLessThan(2e-4);
  });

  test('a style repainted differently on a still scene scores high; a steady one does not', () => {
    const still = scene(0);
    const flicker = warpingError(noisy(still, 1, 40), noisy(still, 2, 40), still, still);
    const steady = warpingError(noisy(still, 1, 40), noisy(still, 1, 40), still, still);
    expect(steady).toBe(0);
    // Two independent uniform noises of ±40: E[(a − b)²] = 2·40·41/3 ≈ 1093 code values², /255².
    expect(flicker).toBeGreaterThan(0.014);
    expect(flicker).toBeLessThan(0.02);
  });

  test('a moving texture is not counted as change, unlike a flow-free difference', () => {
    const [a, b] = [scene(0, 'gray8'), scene(2.5, 'gray8')];
    expect(warpingError(a, b, a, b)).toBeLessThan(5e-4);
    // The same frames unwarped differ by far more.
    const da = a.planes[0]!.data;
    const db = b.planes[0]!.data;
    let se = 0;
    for (let i = 0; i < da.length; i++) se += (da[i]! - db[i]!) ** 2;
    expect(se / da.length / 255 ** 2).toBeGreaterThan(0.004);
  });

  test('the meter over a sequence: null on the first frame and after a gap, same values as pairs', () => {
    const meter = WarpingErrorMeter.create();
    const frames = [0, 2, 4, 6].map((dx) => scene(dx));
    const outs = frames.map((f, i) => noisy(f, i + 1, 10));
    expect(meter.next(frames[0]!, outs[0]!, 0)).toBeNull();
    const e1 = meter.next(frames[1]!, outs[1]!, 1);
    expect(e1).toBeCloseTo(warpingError(outs[0]!, outs[1]!, frames[0]!, frames[1]!), 10);
    expect(meter.next(frames[2]!, outs[2]!, 5)).toBeNull();
    expect(meter.next(frames[3]!, outs[3]!, 6)).toBeCloseTo(
      warpingError(outs[2]!, outs[3]!, frames[2]!, frames[3]!),
      10,
    );
  });

  test('bad input: formats, sizes, presets', () => {
    const a = scene(0);
    const small = createFrame({ width: 64, height: 80, format: 'rgb24' });
    const float = createFrame({ width: W, height: H, format: 'rgbf32' });
    expect(() => warpingError(a, small, a, a)).toThrow(/for output but received "?64x80/);
    expect(() => warpingError(float, float, a, a)).toThrow(/prevOutput\.format/);
    expect(() => warpingError(a, createFrame({ width: W, height: H, format: 'gray8' }), a, a)).toThrow(
      /the output.s format/,
    );
    expect(() => warpingError(a, a, float, a)).toThrow(/prevInput\.format/);
    expect(() => WarpingErrorMeter.create({ preset: 'slow' as never })).toThrow(/preset/);
  });
});

describe('MetricsCollector', () => {
  test('logs the warping error from the second frame, and only for sampled frames', async () => {
    const every = await MetricsCollector.create({ style: 't' });
    const sampled = await MetricsCollector.create({ style: 't', sampleEvery: 3 });
    const off = await MetricsCollector.create({ style: 't', metrics: { warpingError: false } });
    const records: (number | undefined)[][] = [[], [], []];
    for (let i = 0; i < 7; i++) {
      const input = scene(i * 2);
      const output = noisy(input, i + 1, 20);
      for (const [k, c] of [every, sampled, off].entries()) {
        const rec = await c.record(i, input, output, 0);
        if (rec !== null) records[k]!.push(rec.warping_error);
      }
    }
    expect(records[0]![0]).toBeUndefined();
    for (const e of records[0]!.slice(1)) expect(e).toBeGreaterThan(0.004);
    // Frames 0, 3, 6 sampled: 3 and 6 measured against frames 2 and 5.
    expect(records[1]!.length).toBe(3);
    expect(records[1]![0]).toBeUndefined();
    expect(records[1]![1]).toBeCloseTo(records[0]![3]!, 10);
    expect(records[1]![2]).toBeCloseTo(records[0]![6]!, 10);
    expect(records[2]!.every((e) => e === undefined)).toBe(true);
    expect((await every.close()).metrics.warping_error?.count).toBe(6);
  });
});

import { describe, expect, test } from 'bun:test';
import { createFrame, type Frame } from '@framecraft/core';
import { affineModel, psnr } from '@framecraft/test-utils';
import { cubicResize, downscaleArea, guidedUpsample, scaledSize } from './guided.ts';
import { OnnxSession } from './session.ts';
import { runTiled } from './tiled.ts';

/** Flat-coloured shapes with hard edges at off-grid positions, plus a soft gradient. */
function shapes(width: number, height: number): Frame {
  const f = createFrame({ width, height, format: 'rgb24', pts: 11 });
  const d = f.planes[0]!.data as Uint8Array;
  const s = f.planes[0]!.stride;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = y * s + x * 3;
      const inDisc = (x - width * 0.37) ** 2 + (y - height * 0.41) ** 2 < (height * 0.23) ** 2;
      const inBar = x > width * 0.61 && x < width * 0.61 + 7 && y > 3;
      const base = Math.round((x * 90) / width + 40);
      d[i] = inDisc ? 220 : inBar ? 20 : base;
      d[i + 1] = inDisc ? 60 : inBar ? 30 : base + 20;
      d[i + 2] = inDisc ? 40 : inBar ? 200 : 120;
    }
  return f;
}

/** Fraction of pixels next to a hard edge of `truth` whose value `got` matches within 12 code values. */
function edgeFidelity(truth: Frame, got: Frame): number {
  const a = truth.planes[0]!.data;
  const b = got.planes[0]!.data;
  const s = truth.planes[0]!.stride;
  let near = 0;
  let ok = 0;
  for (let y = 1; y < truth.height - 1; y++)
    for (let x = 1; x < truth.width - 1; x++) {
      const i = y * s + x * 3;
      if (Math.abs(a[i]! - a[i + 3]!) + Math.abs(a[i]! - a[i - 3]!) + Math.abs(a[i]! - a[i + s]!) < 60)
        continue;
      near++;
      if (Math.abs(a[i]! - b[i]!) <= 12) ok++;
    }
  return ok / near;
}

describe('area downscale', () => {
  test('each output pixel is the mean of the area it covers, fractional pixels weighted', () => {
    const f = createFrame({ width: 4, height: 2, format: 'rgb24' });
    (f.planes[0]!.data as Uint8Array).set([
      0, 0, 0, 10, 10, 10, 100, 100, 100, 200, 200, 200, 20, 20, 20, 30, 30, 30, 60, 60, 60, 40, 40, 40,
    ]);
    const half = downscaleArea(f, 2, 1);
    expect(Array.from(half.planes[0]!.data)).toEqual([15, 15, 15, 100, 100, 100]);
    // Three pixels into two: the middle one split in halves, weights 2/3 and 1/3.
    const g = createFrame({ width: 3, height: 1, format: 'rgb24' });
    (g.planes[0]!.data as Uint8Array).set([0, 0, 0, 90, 90, 90, 180, 180, 180]);
    expect(Array.from(downscaleArea(g, 2, 1).planes[0]!.data)).toEqual([30, 30, 30, 150, 150, 150]);
    // A flat frame stays flat at any ratio.
    const flat = createFrame({ width: 37, height: 23, format: 'rgb24' });
    (flat.planes[0]!.data as Uint8Array).fill(77);
    expect(downscaleArea(flat, 11, 7).planes[0]!.data.every((v) => v === 77)).toBe(true);
    expect(() => downscaleArea(flat, 38, 7)).toThrow(RangeError);
  });

  test('scaledSize rounds each side and refuses scales outside (0, 1]', () => {
    expect(scaledSize(1920, 1080, 0.5)).toEqual({ width: 960, height: 540 });
    expect(scaledSize(37, 23, 0.25)).toEqual({ width: 9, height: 6 });
    expect(scaledSize(3, 3, 0.1)).toEqual({ width: 1, height: 1 });
    for (const bad of [0, -0.5, 1.5, Number.NaN]) expect(() => scaledSize(10, 10, bad)).toThrow(RangeError);
  });
});

describe('guided upsample', () => {
  test("a style that keeps the input's colours gets its hard edges back; a cubic upsample blurs them", () => {
    const full = shapes(161, 97);
    for (const scale of [0.5, 0.25]) {
      const { width, height } = scaledSize(full.width, full.height, scale);
      const small = downscaleArea(full, width, height);
      // The identity "style": the reduced input itself.
      const guided = guidedUpsample(small, small, full);
      const cubic = cubicResize(small, full.width, full.height);
      expect(guided.width).toBe(161);
      expect(guided.height).toBe(97);
      expect(guided.pts).toBe(11);
      const g = edgeFidelity(full, guided);
      const c = edgeFidelity(full, cubic);
      expect(g).toBeGreaterThan(0.6);
      expect(g).toBeGreaterThan(c + 0.3);
      expect(psnr(full, guided)).toBeGreaterThan(psnr(full, cubic) + 5);
    }
  });

  test('where the input is flat the result is the cubic upsample of the style (its strokes kept as they are)', () => {
    const full = createFrame({ width: 64, height: 48, format: 'rgb24' });
    (full.planes[0]!.data as Uint8Array).fill(128);
    const small = downscaleArea(full, 32, 24);
    // Strokes the input does not have: a checker of 2-pixel cells.
    const styled = createFrame({ width: 32, height: 24, format: 'rgb24' });
    const d = styled.planes[0]!.data as Uint8Array;
    for (let y = 0; y < 24; y++)
      for (let x = 0; x < 32; x++)
        d.fill(((x >> 1) + (y >> 1)) & 1 ? 230 : 30, (y * 32 + x) * 3, (y * 32 + x) * 3 + 3);
    expect(guidedUpsample(styled, small, full).planes[0]!.data).toEqual(
      cubicResize(styled, 64, 48).planes[0]!.data,
    );
  });

  test('refuses mismatched frames and a bad sigma', () => {
    const full = shapes(40, 30);
    const small = downscaleArea(full, 20, 15);
    expect(() => guidedUpsample(downscaleArea(full, 21, 15), small, full)).toThrow(RangeError);
    expect(() => guidedUpsample(small, small, full, { sigma: 0 })).toThrow(RangeError);
    // A guide smaller than the reduced frame.
    expect(() => guidedUpsample(small, small, downscaleArea(full, 10, 8))).toThrow(RangeError);
  });
});

describe('tiled inference at a style scale', () => {
  test('output size equals the input size at odd sizes and every scale; tiles and the whole frame agree', async () => {
    const s = await OnnxSession.create(affineModel(0.75, 20), { provider: 'cpu' });
    for (const [w, h] of [
      [97, 61],
      [33, 17],
      [130, 45],
    ] as const) {
      const f = shapes(w, h);
      for (const scale of [0.125, 0.25, 0.33, 0.5, 0.75, 1]) {
        const whole = await runTiled(s, f, { tile: 4096, scale });
        expect([whole.width, whole.height]).toEqual([w, h]);
        expect(whole.pts).toBe(11);
        // A position-independent model: tiles of the reduced frame blend back to the whole-frame result.
        const tiled = await runTiled(s, f, { tile: 16, overlap: 4, scale });
        expect(tiled.planes[0]!.data).toEqual(whole.planes[0]!.data);
      }
      // The model really ran on the reduced frame, and the guided upsample brought the edges back:
      // closer to the model's full-size output than a cubic upsample of its reduced output.
      const ref = await runTiled(s, f, { tile: 4096 });
      const half = scaledSize(w, h, 0.5);
      const small = downscaleArea(f, half.width, half.height);
      const cubic = cubicResize(await runTiled(s, small, { tile: 4096 }), w, h);
      const guided = await runTiled(s, f, { tile: 4096, scale: 0.5 });
      expect(psnr(ref, guided)).toBeGreaterThan(psnr(ref, cubic));
    }
    await expect(runTiled(s, shapes(20, 20), { scale: 0 })).rejects.toThrow(RangeError);
    await expect(runTiled(s, shapes(20, 20), { scale: 1.5 })).rejects.toThrow(RangeError);
    await s.close();
  });
});

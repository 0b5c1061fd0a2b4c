import { describe, expect, test } from 'bun:test';
import { createFrame } from '@framecraft/core';
import { meanLuma, mse, psnr, sharpness } from './basic.ts';
import { edgeCoherence, edgeMap } from './edges.ts';
import { type LumaView, lumaOf } from './luma.ts';
import { globalFlicker, temporalConsistency } from './temporal.ts';

function image(width: number, height: number, fn: (x: number, y: number) => number): LumaView {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) data[y * width + x] = Math.max(0, Math.min(255, Math.round(fn(x, y))));
  return { data, stride: width, width, height };
}

const squares = image(48, 48, (x, y) => (((x >> 3) + (y >> 3)) % 2 ? 200 : 40));

test('mse and psnr', () => {
  const plus4 = image(48, 48, (x, y) => squares.data[y * 48 + x]! + 4);
  expect(mse(squares, squares)).toBe(0);
  expect(psnr(0)).toBe(Infinity);
  expect(mse(squares, plus4)).toBe(16);
  expect(psnr(16)).toBeCloseTo(36.09, 2);
});

test('sharpness: flat is 0, blur lowers it', () => {
  expect(sharpness(image(16, 16, () => 90))).toBe(0);
  const blurred = image(48, 48, (x, y) => {
    let s = 0;
    for (let dy = -2; dy <= 2; dy++)
      for (let dx = -2; dx <= 2; dx++)
        s += squares.data[Math.min(47, Math.max(0, y + dy)) * 48 + Math.min(47, Math.max(0, x + dx))]!;
    return s / 25;
  });
  expect(sharpness(blurred)).toBeLessThan(sharpness(squares) / 4);
});

describe('edge coherence (F1 of Sobel edge maps)', () => {
  test('same edges score 1, a 1-pixel shift is forgiven only with tolerance', () => {
    expect(edgeCoherence(squares, squares)).toBe(1);
    const shifted = image(48, 48, (x, y) => squares.data[y * 48 + Math.max(0, x - 1)]!);
    expect(edgeCoherence(squares, shifted, { tolerance: 1 })).toBeGreaterThan(0.95);
    expect(edgeCoherence(squares, shifted, { tolerance: 0 })).toBeLessThan(0.8);
  });

  test('unrelated edges score low; no edges anywhere scores 1; edges on one side only score 0', () => {
    const disc = image(48, 48, (x, y) => ((x - 21) ** 2 + (y - 26) ** 2 < 15 ** 2 ? 230 : 20));
    expect(edgeCoherence(squares, disc)).toBeLessThan(0.4);
    const flat = image(48, 48, () => 100);
    expect(edgeCoherence(flat, flat)).toBe(1);
    expect(edgeCoherence(squares, flat)).toBe(0);
    expect(edgeMap(squares).reduce((s, v) => s + v, 0)).toBeGreaterThan(100);
  });
});

describe('temporal measures', () => {
  const a = image(32, 32, (x, y) => x * 4 + y);
  const b = image(32, 32, (x, y) => x * 4 + y + 10);

  test('temporal consistency is 0 when the output moves like the input, |ΔI| when it freezes', () => {
    expect(temporalConsistency(a, b, a, b)).toBe(0);
    expect(temporalConsistency(a, a, a, b)).toBe(10);
    const flickered = image(32, 32, (x, y) => x * 4 + y + 25);
    expect(temporalConsistency(a, flickered, a, b)).toBe(15);
  });

  test('global flicker compares mean-luma movement of output and input', () => {
    const input = [100, 101, 102, 103, 104];
    expect(globalFlicker(input, input)).toBe(1);
    expect(globalFlicker([100, 110, 100, 110, 100], input)).toBe(10);
    expect(globalFlicker([5, 5, 5], [7, 7, 7])).toBe(0);
    expect(() => globalFlicker([1, 2], [1])).toThrow(RangeError);
  });
});

test('lumaOf views YUV and gray planes and converts rgb24', () => {
  const yuv = createFrame({ width: 4, height: 2, format: 'yuv420p' });
  yuv.planes[0]!.data.fill(77);
  expect(lumaOf(yuv).data).toBe(yuv.planes[0]!.data as Uint8Array);
  const rgb = createFrame({ width: 2, height: 1, format: 'rgb24' });
  (rgb.planes[0]!.data as Uint8Array).set([255, 255, 255, 255, 0, 0]);
  expect(Array.from(lumaOf(rgb).data)).toEqual([255, 76]);
  expect(meanLuma(lumaOf(yuv))).toBe(77);
  expect(() => lumaOf(createFrame({ width: 2, height: 2, format: 'rgbf32' }))).toThrow(TypeError);
});

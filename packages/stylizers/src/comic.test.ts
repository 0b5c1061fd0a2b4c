import { describe, expect, test } from 'bun:test';
import { createFrame, type Frame } from '@framecraft/core';
import { comic } from './comic.ts';
import { parseStylizerOptions } from './stylizer.ts';
import { testStylizer } from './testing.ts';

testStylizer(comic, { describe, test, expect });

const W = 120;
const H = 90;
const fill = (r: number, g: number, b: number): Frame => {
  const f = createFrame({ width: W, height: H, format: 'rgb24' });
  const d = f.planes[0]!.data as Uint8Array;
  for (let i = 0; i < d.length; i += 3) d.set([r, g, b], i);
  return f;
};
const stats = (f: Frame) => {
  const d = f.planes[0]!.data;
  let white = 0;
  let sum = [0, 0, 0];
  for (let i = 0; i < d.length; i += 3) {
    if (d[i]! > 240 && d[i + 1]! > 240 && d[i + 2]! > 240) white++;
    sum = [sum[0]! + d[i]!, sum[1]! + d[i + 1]!, sum[2]! + d[i + 2]!];
  }
  const n = d.length / 3;
  return { white: white / n, mean: sum.map((s) => s / n) };
};

describe('comic', () => {
  test('white stays paper, black becomes solid ink', async () => {
    const s = await comic.create(parseStylizerOptions(comic, { dotSize: 20 }), {
      width: W,
      height: H,
      seed: 1,
    });
    expect(stats(await s.process(fill(255, 255, 255))).white).toBe(1);
    expect(stats(await s.process(fill(0, 0, 0))).mean.every((m) => m < 20)).toBe(true);
  });

  test('a pink is printed as magenta and yellow dots on paper, keeping its average colour', async () => {
    const s = await comic.create(parseStylizerOptions(comic, { dotSize: 20, saturation: 0 }), {
      width: W,
      height: H,
      seed: 1,
    });
    const out = stats(await s.process(fill(230, 140, 140)));
    // Dots with paper between them, not a flat fill.
    expect(out.white).toBeGreaterThan(0.05);
    expect(out.white).toBeLessThan(0.8);
    // Red stays dominant and the mean lands near the source colour.
    expect(out.mean[0]!).toBeGreaterThan(out.mean[1]! + 50);
    expect(Math.abs(out.mean[0]! - 230)).toBeLessThan(30);
    expect(Math.abs(out.mean[1]! - 140)).toBeLessThan(30);
  });

  test('edges get black outlines', async () => {
    const s = await comic.create(parseStylizerOptions(comic, { dotSize: 20 }), {
      width: W,
      height: H,
      seed: 1,
    });
    const f = fill(255, 255, 255);
    const d = f.planes[0]!.data as Uint8Array;
    for (let y = 0; y < H; y++) for (let x = 60; x < W; x++) d.set([40, 40, 200], (y * W + x) * 3);
    const out = (await s.process(f)).planes[0]!.data;
    const at = (x: number, y: number) => Array.from(out.subarray((y * W + x) * 3, (y * W + x) * 3 + 3));
    expect(at(60, 45)).toEqual([0, 0, 0]);
    expect(at(20, 45)).toEqual([255, 255, 255]);
  });
});

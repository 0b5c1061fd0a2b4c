import { describe, expect, test } from 'bun:test';
import { createFrame, type Frame } from '@framecraft/core';
import { applyLut1d, applyLut3d, applyLut3dFloat, bakeLut3d, identityLut3d, prepareLut3d } from './lut.ts';

function randomRgb(width: number, height: number, seed = 7): Frame {
  const f = createFrame({ width, height, format: 'rgb24' });
  const d = f.planes[0]!.data as Uint8Array;
  let s = seed;
  for (let i = 0; i < d.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    d[i] = s >>> 24;
  }
  return f;
}

describe('3D LUTs', () => {
  test('the identity LUT returns the input exactly, both interpolations', () => {
    const f = randomRgb(64, 32);
    for (const size of [2, 17, 33, 65]) {
      for (const interpolation of ['trilinear', 'tetrahedral'] as const) {
        const out = applyLut3d(f, identityLut3d(size), { interpolation });
        expect(out.planes[0]!.data).toEqual(f.planes[0]!.data);
      }
    }
  });

  test('a LUT of an affine function is exact at any size (both schemes are exact on linear maps)', () => {
    const fn = (r: number, g: number, b: number): [number, number, number] => [
      0.5 * r + 0.25 * g + 0.1,
      0.2 * r + 0.7 * g + 0.1 * b,
      0.9 * b + 0.05,
    ];
    const lut = bakeLut3d(9, fn);
    const f = randomRgb(32, 16, 3);
    const s = f.planes[0]!.data;
    for (const interpolation of ['trilinear', 'tetrahedral'] as const) {
      const out = applyLut3d(f, lut, { interpolation }).planes[0]!.data;
      for (let i = 0; i < s.length; i += 3) {
        const want = fn(s[i]! / 255, s[i + 1]! / 255, s[i + 2]! / 255).map((v) => Math.round(v * 255));
        expect(Math.abs(out[i]! - want[0]!)).toBeLessThanOrEqual(1);
        expect(Math.abs(out[i + 1]! - want[1]!)).toBeLessThanOrEqual(1);
        expect(Math.abs(out[i + 2]! - want[2]!)).toBeLessThanOrEqual(1);
      }
    }
  });

  test('trilinear and tetrahedral differ on a non-linear grade, both close to the function', () => {
    const fn = (r: number, g: number, b: number): [number, number, number] => [r * g, Math.sqrt(g), b * b];
    const lut = bakeLut3d(5, fn);
    const f = randomRgb(64, 64, 11);
    const tri = applyLut3d(f, lut, { interpolation: 'trilinear' }).planes[0]!.data;
    const tet = applyLut3d(f, lut, { interpolation: 'tetrahedral' }).planes[0]!.data;
    let differ = 0;
    for (let i = 0; i < tri.length; i++) if (tri[i] !== tet[i]) differ++;
    expect(differ).toBeGreaterThan(100);
  });

  test('a prepared LUT gives exactly the interpolated result', () => {
    const lut = bakeLut3d(9, (r, g, b) => [r * g + 0.1, Math.sqrt(g) * 0.9, b * b * 1.2]);
    const f = randomRgb(64, 48, 5);
    for (const interpolation of ['trilinear', 'tetrahedral'] as const) {
      const prepared = prepareLut3d(lut, { interpolation });
      expect(prepared.table.length).toBe(256 ** 3 * 3);
      expect(applyLut3d(f, prepared).planes[0]!.data).toEqual(
        applyLut3d(f, lut, { interpolation }).planes[0]!.data,
      );
    }
  });

  test('clamps output, writes in place, and applies the domain', () => {
    const boost = bakeLut3d(3, (r, g, b) => [r * 2, g * 2 - 0.5, b]);
    const f = randomRgb(8, 8);
    const copy = new Uint8Array(f.planes[0]!.data);
    const out = applyLut3d(f, boost, {}, f);
    expect(out.planes[0]!.data).toBe(f.planes[0]!.data);
    expect(Math.max(...out.planes[0]!.data)).toBe(255);
    expect(Array.from(out.planes[0]!.data)).not.toEqual(Array.from(copy));
    // Domain [0, 2]: input 1.0 sits in the middle of the lattice.
    const half = bakeLut3d(3, (r, g, b) => [r, g, b], { min: [0, 0, 0], max: [2, 2, 2] });
    const v = applyLut3dFloat(new Float32Array([1, 0.5, 2]), half);
    expect(Array.from(v).map((x) => Math.round(x * 1e6) / 1e6)).toEqual([1, 0.5, 2]);
  });

  test('rejects non-rgb24 frames and broken LUTs with the one message format', () => {
    const gray = createFrame({ width: 2, height: 2, format: 'gray8' });
    expect(() => applyLut3d(gray, identityLut3d(2))).toThrow(
      'Expected an rgb24 frame for frame.format but received "gray8"',
    );
    expect(() => applyLut3d(randomRgb(2, 2), { ...identityLut3d(3), size: 4 })).toThrow(/3D LUT/);
    expect(() => bakeLut3d(1, (r, g, b) => [r, g, b])).toThrow(RangeError);
  });
});

test('1D LUT applies per channel with interpolation', () => {
  const lut = {
    kind: '1d' as const,
    size: 2,
    domainMin: [0, 0, 0] as const,
    domainMax: [1, 1, 1] as const,
    data: new Float32Array([1, 0, 0, 0, 1, 1]),
  };
  const f = createFrame({ width: 2, height: 1, format: 'rgb24' });
  (f.planes[0]!.data as Uint8Array).set([0, 0, 0, 255, 128, 51]);
  const out = applyLut1d(f, lut).planes[0]!.data;
  // Red inverted, green and blue straight.
  expect(Array.from(out)).toEqual([255, 0, 0, 0, 128, 51]);
});

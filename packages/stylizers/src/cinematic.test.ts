import { describe, expect, test } from 'bun:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bakeLut3d, writeCube } from '@framecraft/color';
import { createFrame, type Frame, FramecraftError } from '@framecraft/core';
import { tempDir } from '@framecraft/test-utils';
import { cinematic } from './cinematic.ts';
import { parseStylizerOptions } from './stylizer.ts';
import { contractFrame, testStylizer } from './testing.ts';

testStylizer(cinematic, { describe, test, expect });

const W = 96;
const H = 64;
const make = async (opts: object, seed = 1) =>
  await cinematic.create(parseStylizerOptions(cinematic, opts), { width: W, height: H, seed });
const flat = (v: number, pts = 0): Frame => {
  const f = createFrame({ width: W, height: H, format: 'rgb24', pts });
  f.planes[0]!.data.fill(v);
  return f;
};

describe('cinematic', () => {
  test('with every effect off, frames pass through unchanged', async () => {
    const s = await make({ grade: 'none', curve: 0, bloom: 0, grain: 0, vignette: 0 });
    const input = contractFrame('rgb24', W, H, 2);
    expect((await s.process(input)).planes[0]!.data).toEqual(input.planes[0]!.data);
  });

  test('vignette darkens the corners, not the centre', async () => {
    const s = await make({ grade: 'none', curve: 0, bloom: 0, grain: 0, vignette: 0.6 });
    const out = (await s.process(flat(200))).planes[0]!.data;
    expect(out[((H >> 1) * W + (W >> 1)) * 3]).toBe(200);
    expect(out[0]!).toBeLessThan(140);
  });

  test('grain is fixed by seed and timestamp, differs between frames, averages out', async () => {
    const a = await make({ grade: 'none', curve: 0, bloom: 0, vignette: 0, grain: 8 });
    const b = await make({ grade: 'none', curve: 0, bloom: 0, vignette: 0, grain: 8 });
    const f0 = (await a.process(flat(128, 0))).planes[0]!.data.slice() as Uint8Array;
    expect((await b.process(flat(128, 0))).planes[0]!.data).toEqual(f0);
    expect((await a.process(flat(128, 1))).planes[0]!.data).not.toEqual(f0);
    expect((await a.process(flat(128, 0))).planes[0]!.data).toEqual(f0);
    let sum = 0;
    for (const v of f0) sum += v;
    const mean = sum / f0.length;
    expect(Math.abs(mean - 128)).toBeLessThan(1.5);
  });

  test('bloom brightens the surroundings of a bright area', async () => {
    const s = await make({ grade: 'none', curve: 0, grain: 0, vignette: 0, bloom: 1, bloomThreshold: 0.5 });
    const f = flat(40);
    const d = f.planes[0]!.data as Uint8Array;
    for (let y = 28; y < 36; y++)
      for (let x = 44; x < 52; x++) d.fill(255, (y * W + x) * 3, (y * W + x) * 3 + 3);
    const out = (await s.process(f)).planes[0]!.data;
    expect(out[(32 * W + 40) * 3]!).toBeGreaterThan(45);
    expect(out[(2 * W + 2) * 3]).toBe(40);
  });

  test('grades with a .cube file; a missing or broken file is a clear error', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const cube = join(dir, 'red.cube');
      await writeFile(cube, writeCube({ lut3d: bakeLut3d(9, (r, g, b) => [Math.min(1, r + 0.2), g, b]) }));
      const s = await make({ lut: cube, curve: 0, bloom: 0, grain: 0, vignette: 0 });
      const out = (await s.process(flat(100))).planes[0]!.data;
      expect(out[0]!).toBeGreaterThan(145);
      expect(out[1]).toBe(100);
      const missing = await make({ lut: join(dir, 'nope.cube') }).catch((e: unknown) => e);
      expect(FramecraftError.is(missing, 'ERR_LUT_NOT_FOUND')).toBe(true);
      await writeFile(join(dir, 'bad.cube'), 'LUT_3D_SIZE 2\n0 0 0\n');
      const broken = await make({ lut: join(dir, 'bad.cube') }).catch((e: unknown) => e);
      expect(FramecraftError.is(broken, 'ERR_LUT_PARSE')).toBe(true);
      expect((broken as Error).message).toContain('bad.cube');
      // check() finds the same errors without building an instance (and its 48 MiB table).
      const options = (lut: string) => parseStylizerOptions(cinematic, { lut });
      const checked = await cinematic.check!(options(join(dir, 'nope.cube'))).catch((e: unknown) => e);
      expect(FramecraftError.is(checked, 'ERR_LUT_NOT_FOUND')).toBe(true);
      const parsed = await cinematic.check!(options(join(dir, 'bad.cube'))).catch((e: unknown) => e);
      expect(FramecraftError.is(parsed, 'ERR_LUT_PARSE')).toBe(true);
      await cinematic.check!(options(cube));
    } finally {
      await cleanup();
    }
  });
});

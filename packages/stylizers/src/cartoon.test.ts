import { describe, expect, test } from 'bun:test';
import { createFrame, type Frame } from '@framecraft/core';
import { cartoon } from './cartoon.ts';
import { parseStylizerOptions } from './stylizer.ts';
import { contractFrame, testStylizer } from './testing.ts';

testStylizer(cartoon, { describe, test, expect });

const W = 128;
const H = 96;

function colours(f: Frame): Set<number> {
  const d = f.planes[0]!.data;
  const set = new Set<number>();
  for (let i = 0; i < d.length; i += 3) set.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
  return set;
}

describe('cartoon', () => {
  test('quantises to at most k colours plus black outlines', async () => {
    const s = await cartoon.create(parseStylizerOptions(cartoon, { colors: 6 }), {
      width: W,
      height: H,
      seed: 1,
    });
    const out = await s.process(contractFrame('rgb24', W, H, 1));
    const set = colours(out);
    set.delete(0);
    expect(set.size).toBeLessThanOrEqual(6);
    expect(set.size).toBeGreaterThan(1);
    s.dispose();
  });

  test('outlines follow strong edges', async () => {
    const s = await cartoon.create(parseStylizerOptions(cartoon), { width: W, height: H, seed: 1 });
    const f = createFrame({ width: W, height: H, format: 'rgb24' });
    const d = f.planes[0]!.data as Uint8Array;
    // A slanted boundary, as real footage has (a perfectly vertical step is a tie for Canny).
    const edgeX = (y: number): number => 40 + y * 0.45;
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) d.set(x < edgeX(y) ? [230, 200, 40] : [30, 60, 200], (y * W + x) * 3);
    const out = (await s.process(f)).planes[0]!.data;
    let rowsWithLine = 0;
    for (let y = 10; y < H - 10; y++) {
      let hit = false;
      for (let x = Math.floor(edgeX(y)) - 3; x <= Math.ceil(edgeX(y)) + 3; x++) {
        if (out[(y * W + x) * 3] === 0 && out[(y * W + x) * 3 + 2] === 0) hit = true;
      }
      if (hit) rowsWithLine++;
    }
    expect(rowsWithLine).toBeGreaterThan((H - 20) * 0.8);
    expect(Array.from(out.subarray((48 * W + 20) * 3, (48 * W + 20) * 3 + 3))).not.toEqual([0, 0, 0]);
    s.dispose();
  });

  test('the palette stays stable across frames of one shot', async () => {
    const s = await cartoon.create(parseStylizerOptions(cartoon), { width: W, height: H, seed: 1 });
    // The same picture on consecutive frames must not shimmer: identical output.
    const still = contractFrame('rgb24', W, H, 1);
    const first = (await s.process(still)).planes[0]!.data.slice();
    for (let i = 1; i < 4; i++)
      expect((await s.process({ ...still, pts: i })).planes[0]!.data).toEqual(first);
    // A small change elsewhere keeps most colours exactly as they were.
    const a = colours(await s.process(contractFrame('rgb24', W, H, 1)));
    const b = colours(await s.process(contractFrame('rgb24', W, H, 2)));
    let shared = 0;
    for (const c of b) if (a.has(c)) shared++;
    expect(shared).toBeGreaterThanOrEqual(b.size - 3);
    s.dispose();
  });

  test("a small vivid subject keeps its colour instead of taking the background's", async () => {
    // Olive and brown foliage in a smooth luma ramp, a red patch (4 % of the frame) of mid luma.
    const f = createFrame({ width: W, height: H, format: 'rgb24' });
    const d = f.planes[0]!.data as Uint8Array;
    const red = (x: number, y: number) => Math.hypot(x - 90, y - 40) < 7;
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const i = (y * W + x) * 3;
        const l = 40 + ((x + y) * 160) / (W + H);
        const [r, g, b] = red(x, y)
          ? [200, 40, 35]
          : (x >> 3) % 2
            ? [l * 1.05, l, l * 0.6]
            : [l, l * 0.85, l * 0.6];
        d[i] = Math.round(r);
        d[i + 1] = Math.round(g);
        d[i + 2] = Math.round(b);
      }
    const s = await cartoon.create(parseStylizerOptions(cartoon), { width: W, height: H, seed: 1 });
    const out = (await s.process(f)).planes[0]!.data;
    // The patch's centre (outlines aside) is drawn red, far from any foliage colour.
    const [r, g, b] = [out[(40 * W + 90) * 3]!, out[(40 * W + 90) * 3 + 1]!, out[(40 * W + 90) * 3 + 2]!];
    expect(r).toBeGreaterThan(150);
    expect(r - g).toBeGreaterThan(100);
    expect(r - b).toBeGreaterThan(100);
    s.dispose();
  });

  test('a render that starts mid-shot matches one from the shot start after 15 frames of pre-roll', async () => {
    // A slowly panning picture with more colour clusters than the palette has (several k-means optima).
    const frameAt = (t: number) => {
      const f = createFrame({ width: W, height: H, format: 'rgb24', pts: t });
      const d = f.planes[0]!.data as Uint8Array;
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const i = (y * W + x) * 3;
          const u = x + t;
          d[i] = (u * 2 + y) & 255;
          d[i + 1] = (y * 3 + (u >> 4) * 37) & 255;
          d[i + 2] = (255 - u * 2) & 255;
        }
      return f;
    };
    const make = () => cartoon.create(parseStylizerOptions(cartoon), { width: W, height: H, seed: 1 });
    const [whole, chunk] = await Promise.all([make(), make()]);
    const fromStart: Uint8Array[] = [];
    for (let t = 0; t < 60; t++)
      fromStart.push((await whole.process(frameAt(t))).planes[0]!.data.slice() as Uint8Array);
    let worst = 0;
    for (let t = 30; t < 60; t++) {
      const out = (await chunk.process(frameAt(t))).planes[0]!.data;
      if (t < 45) continue;
      for (let i = 0; i < out.length; i++) worst = Math.max(worst, Math.abs(out[i]! - fromStart[t]![i]!));
    }
    // At most the shown colours' hysteresis (3 code values), never another palette.
    expect(worst).toBeLessThanOrEqual(3);
    whole.dispose();
    chunk.dispose();
  });

  test('after a flash (or a brief cut-away) the shot comes back in its own colours', async () => {
    const s = await cartoon.create(parseStylizerOptions(cartoon), { width: W, height: H, seed: 1 });
    // A picture with more colour clusters than the palette has, so k-means has several optima.
    const shot = createFrame({ width: W, height: H, format: 'rgb24' });
    const d = shot.planes[0]!.data as Uint8Array;
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const i = (y * W + x) * 3;
        d[i] = (x * 2 + y) & 255;
        d[i + 1] = (y * 3 + (x >> 4) * 37) & 255;
        d[i + 2] = (255 - x * 2) & 255;
      }
    const before: Uint8Array[] = [];
    for (let i = 0; i < 6; i++)
      before.push((await s.process({ ...shot, pts: i })).planes[0]!.data.slice() as Uint8Array);
    const flash = createFrame({ width: W, height: H, format: 'rgb24', pts: 6 });
    flash.planes[0]!.data.fill(250);
    await s.process(flash);
    for (let i = 7; i < 10; i++)
      expect((await s.process({ ...shot, pts: i })).planes[0]!.data).toEqual(before.at(-1)!);
    s.dispose();
  });
});

import { describe, expect, test } from 'bun:test';
import { createFrame } from '@framecraft/core';
import { edgeCoherence, lumaOf, meanLuma } from '@framecraft/metrics';
import { pencil } from './pencil.ts';
import { parseStylizerOptions } from './stylizer.ts';
import { contractFrame, testStylizer } from './testing.ts';

testStylizer(pencil, { describe, test, expect });

describe('pencil', () => {
  test('a flat area turns to paper white, edges turn to dark strokes that follow the content', async () => {
    const s = await pencil.create(parseStylizerOptions(pencil, { paper: 'none' }), {
      width: 96,
      height: 64,
      seed: 1,
    });
    const flat = createFrame({ width: 96, height: 64, format: 'gray8' });
    flat.planes[0]!.data.fill(150);
    const white = await s.process(flat);
    expect(Math.min(...white.planes[0]!.data)).toBeGreaterThanOrEqual(250);
    const input = contractFrame('gray8', 96, 64, 1);
    const sketch = await s.process(input);
    expect(Math.min(...sketch.planes[0]!.data)).toBeLessThan(200);
    expect(meanLuma(lumaOf(sketch))).toBeGreaterThan(meanLuma(lumaOf(input)));
    expect(edgeCoherence(lumaOf(input), lumaOf(sketch), { threshold: 0.05, tolerance: 2 })).toBeGreaterThan(
      0.3,
    );
    s.dispose();
  });

  test('paper grain is seeded: same seed, same grain; another seed, other grain; static over frames', async () => {
    const mk = (seed: number) => pencil.create(parseStylizerOptions(pencil), { width: 64, height: 48, seed });
    const flat = createFrame({ width: 64, height: 48, format: 'gray8' });
    flat.planes[0]!.data.fill(128);
    const [a, b, c] = await Promise.all([mk(5), mk(5), mk(6)]);
    const first = (await a.process(flat)).planes[0]!.data.slice();
    expect((await b.process(flat)).planes[0]!.data).toEqual(first);
    expect((await c.process(flat)).planes[0]!.data).not.toEqual(first);
    expect((await a.process({ ...flat, pts: 9 })).planes[0]!.data).toEqual(first);
    for (const s of [a, b, c]) s.dispose();
  });
});

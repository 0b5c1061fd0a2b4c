import { afterAll, describe, expect, test } from 'bun:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createFrame, type Frame } from '@framecraft/core';
import { edgeCoherence, lumaOf, meanLuma } from '@framecraft/metrics';
import { tempDir } from '@framecraft/test-utils';
import sharp from 'sharp';
import { DodgeBlender } from './dodge.ts';
import { StylizerOptionsError } from './errors.ts';
import { colorPencil, PaperImageError, pencil } from './pencil.ts';
import { parseStylizerOptions } from './stylizer.ts';
import { contractFrame, testStylizer } from './testing.ts';

testStylizer(pencil, { describe, test, expect });
testStylizer(colorPencil, { describe, test, expect });

const { dir, cleanup } = await tempDir();
afterAll(() => cleanup());

/** A gray8 frame from a function of (x, y). */
function gray(width: number, height: number, fn: (x: number, y: number) => number, pts = 0): Frame {
  const f = createFrame({ width, height, format: 'gray8', pts });
  const d = f.planes[0]!.data as Uint8Array;
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) d[y * width + x] = fn(x, y);
  return f;
}

/** Dark pixels (strokes) in a sketch. */
const strokes = (f: Frame): number => f.planes[0]!.data.filter((v) => v < 200).length;

/** Spread (standard deviation) of rows 8–55, columns 4–31 of a 96-wide plane: speckle in a flat area. */
function speckle(d: ArrayLike<number>): number {
  const v: number[] = [];
  for (let y = 8; y < 56; y++) for (let x = 4; x < 32; x++) v.push(d[y * 96 + x]!);
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  return Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length);
}

/** Seeded noise of 0–6 code values (±3 around 3), the same sequence for the same seed. */
function noiseFrom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) >>> 0;
    return (state >>> 16) % 7;
  };
}

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

describe('pencil paper from an image', () => {
  test('a paper scan shows through where the picture is flat, scaled to the frame', async () => {
    // 40×30 scan: bright paper with a dark horizontal band in the middle third.
    const scan = Buffer.alloc(40 * 30);
    for (let y = 0; y < 30; y++) scan.fill(y >= 10 && y < 20 ? 120 : 240, y * 40, (y + 1) * 40);
    const file = join(dir, 'paper.png');
    await sharp(scan, { raw: { width: 40, height: 30, channels: 1 } })
      .png()
      .toFile(file);
    const s = await pencil.create(
      parseStylizerOptions(pencil, { paper: 'image', paperImage: file, paperStrength: 0.5, levels: 'none' }),
      { width: 80, height: 60, seed: 1 },
    );
    const out = (await s.process(gray(80, 60, () => 150))).planes[0]!.data;
    // Bare paper (the scan's white) stays white; the band is darkened by half its depth.
    expect(out[5 * 80 + 40]).toBeGreaterThanOrEqual(250);
    const band = out[30 * 80 + 40]!;
    expect(band).toBeGreaterThan(180);
    expect(band).toBeLessThan(200);
    s.dispose();
  });

  test('a missing or unreadable scan and a missing path are clear errors', async () => {
    const ctx = { width: 32, height: 24, seed: 1 };
    const missing = join(dir, 'nope.png');
    const err = await Promise.resolve(
      pencil.create(parseStylizerOptions(pencil, { paper: 'image', paperImage: missing }), ctx),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PaperImageError);
    expect((err as Error).message).toBe(`Paper image "${missing}": file not found`);
    const text = join(dir, 'paper.txt');
    await writeFile(text, 'not an image');
    await expect(
      Promise.resolve(pencil.create(parseStylizerOptions(pencil, { paper: 'image', paperImage: text }), ctx)),
    ).rejects.toThrow(`Paper image "${text}": not a readable image`);
    // check() finds the same errors without building an instance.
    await expect(
      pencil.check!(parseStylizerOptions(pencil, { paper: 'image', paperImage: missing })),
    ).rejects.toThrow(`Paper image "${missing}": file not found`);
    await expect(
      pencil.check!(parseStylizerOptions(pencil, { paper: 'image', paperImage: text })),
    ).rejects.toThrow(`Paper image "${text}": not a readable image`);
    expect(() => parseStylizerOptions(pencil, { paper: 'image' })).toThrow(StylizerOptionsError);
    expect(() => parseStylizerOptions(pencil, { paper: 'image' })).toThrow('paperImage');
  });
});

describe('pencil noise floor', () => {
  test('dark footage noise does not turn into speckle, and strokes still draw', async () => {
    // A dark frame (mean ~30) with ±3 of noise, and a strong vertical edge at x = 48.
    const noise = noiseFrom(9);
    const frame = gray(96, 64, (x) => (x < 48 ? 27 : 90) + noise());
    const make = (noiseFloor: number) =>
      pencil.create(parseStylizerOptions(pencil, { paper: 'none', levels: 'none', sigma: 60, noiseFloor }), {
        width: 96,
        height: 64,
        seed: 1,
      });
    const [raw, floored] = await Promise.all([make(0), make(4)]);
    const a = (await raw.process(frame)).planes[0]!.data;
    const b = (await floored.process(frame)).planes[0]!.data;
    // The flat dark area away from the edge.
    expect(speckle(a)).toBeGreaterThan(12);
    expect(speckle(b)).toBeLessThan(speckle(a) / 4);
    // The edge still draws: the dark side next to it is a stroke with or without the floor.
    for (const d of [a, b]) expect(d[32 * 96 + 46]!).toBeLessThan(150);
    raw.dispose();
    floored.dispose();
  });
});

describe('DodgeBlender', () => {
  test("the WebAssembly loop gives the TypeScript loop's bytes, with and without paper, on strided planes", () => {
    const w = 37;
    const h = 11;
    const plane = (stride: number, f: (i: number) => number) => {
      const data = new Uint8Array(stride * h);
      for (let i = 0; i < data.length; i++) data[i] = f(i) & 255;
      return { data, stride, width: w, height: h };
    };
    const s = plane(40, (i) => i * 7 + (i >> 3));
    const b = plane(37, (i) => i * 13 + 5);
    const table = new Uint8Array(65536).map((_, i) => (i * 31) ^ (i >> 8));
    const paper = new Uint16Array(w * h).map((_, i) => 180 + (i % 77));
    for (const p of [null, paper]) {
      const outs = [new DodgeBlender(w, h), new DodgeBlender(w, h, true)].map((blender) => {
        blender.setTable(table);
        blender.setPaper(p);
        const out = plane(45, () => 0);
        blender.blend(s, b, out);
        return out.data;
      });
      expect(new DodgeBlender(w, h).kernel).toBe('wasm');
      expect(outs[0]).toEqual(outs[1]!);
      // Row 2, column 3 by hand (planes of strides 40, 37 and 45).
      const t = table[(s.data[2 * 40 + 3]! << 8) | b.data[2 * 37 + 3]!]!;
      expect(outs[0]![2 * 45 + 3]).toBe(p === null ? t : (t * p[2 * w + 3]!) >> 8);
    }
  });
});

describe('pencil auto levels', () => {
  // Low-contrast footage: a soft diagonal edge between 118 and 138.
  const flat = (lift: number, pts: number) =>
    gray(96, 64, (x, y) => (x + y / 2 > 48 ? 138 : 118) + lift + ((x * 7 + y * 3) % 5), pts);
  // sigma is in pixels at 1080 lines: 60 gives a 3.6-pixel blur on these 64-line frames.
  const opts = (levels: 'auto' | 'none') =>
    parseStylizerOptions(pencil, { paper: 'none', sigma: 60, levels });

  test('stretches flat footage so its edges draw, and leaves a static shot identical frame to frame', async () => {
    const mk = (levels: 'auto' | 'none') =>
      // No noise floor: the 0.6-pixel blur on these tiny frames draws the stretched edge faintly.
      pencil.create(parseStylizerOptions(pencil, { paper: 'none', levels, noiseFloor: 0 }), {
        width: 96,
        height: 64,
        seed: 1,
      });
    const [auto, none] = await Promise.all([mk('auto'), mk('none')]);
    const a = await auto.process(flat(0, 0));
    const first = a.planes[0]!.data.slice();
    const plain = await none.process(flat(0, 0));
    expect(strokes(plain)).toBe(0);
    expect(strokes(a)).toBeGreaterThan(10);
    expect(Math.min(...a.planes[0]!.data)).toBeLessThan(Math.min(...plain.planes[0]!.data) - 40);
    for (let i = 1; i < 6; i++) expect((await auto.process(flat(0, i))).planes[0]!.data).toEqual(first);
    auto.dispose();
    none.dispose();
  });

  test('levels creep after a small change and settle, and snap at a new shot', async () => {
    const ctx = { width: 96, height: 64, seed: 1 };
    const s = await pencil.create(opts('auto'), ctx);
    await s.process(flat(0, 0));
    // The light lifts by 12 code values: the levels follow over a few frames, then hold still.
    const seen: Frame['planes'][number]['data'][] = [];
    for (let i = 1; i < 12; i++) seen.push((await s.process(flat(12, i))).planes[0]!.data.slice());
    expect(seen[1]).not.toEqual(seen[0]!);
    expect(seen[10]).toEqual(seen[9]!);
    // A new shot spanning the full range: the levels jump at once and the picture is drawn as is.
    const full = gray(96, 64, (x, y) => Math.min(255, Math.round((x / 95) * 255 + (y % 2))), 20);
    const direct = await pencil.create(opts('none'), ctx);
    expect((await s.process(full)).planes[0]!.data).toEqual((await direct.process(full)).planes[0]!.data);
    s.dispose();
    direct.dispose();
  });
});

describe('pencil auto levels on footage that is not flat', () => {
  const ctx = { width: 96, height: 64, seed: 1 };
  const make = (levels: 'auto' | 'none', noiseFloor = 4) =>
    pencil.create(parseStylizerOptions(pencil, { paper: 'none', sigma: 60, levels, noiseFloor }), ctx);
  // A soft diagonal edge between `lo` and `hi`, with a little texture.
  const edge = (lo: number, hi: number) =>
    gray(96, 64, (x, y) => (x + y / 2 > 48 ? hi : lo) + ((x * 7 + y * 3) % 5));
  const mean = (f: Frame) =>
    Array.from(f.planes[0]!.data).reduce((s, v) => s + v, 0) / f.planes[0]!.data.length;

  test('a normal range (black to white over two thirds of the scale) is drawn as is', async () => {
    const [auto, none] = await Promise.all([make('auto'), make('none')]);
    // Y 30–196 (1st–99th percentile), 76 % of limited range (flower.mp4's Y spans 22–179, 72 %).
    const frame = gray(96, 64, (x, y) => 30 + Math.round((x / 95) * 164) + ((x * 7 + y * 3) % 5));
    expect((await auto.process(frame)).planes[0]!.data).toEqual((await none.process(frame)).planes[0]!.data);
    auto.dispose();
    none.dispose();
  });

  test('a range between flat and normal is stretched part way', async () => {
    const [auto, none] = await Promise.all([make('auto', 0), make('none', 0)]);
    // 1st–99th percentile 60–184, 57 % of limited range's 219: half way between full and none.
    const frame = edge(60, 180);
    const partial = mean(await auto.process(frame));
    const plain = mean(await none.process(frame));
    // The whole stretch by hand (60–184 to 0–255), drawn without levels.
    const d = frame.planes[0]!.data;
    const stretched = gray(96, 64, (x, y) =>
      Math.max(0, Math.min(255, Math.round(((d[y * 96 + x]! - 60) * 255) / 124))),
    );
    const full = mean(await none.process(stretched));
    expect(partial).toBeLessThan(plain - 1);
    expect(partial).toBeGreaterThan(full + 1);
    auto.dispose();
    none.dispose();
  });

  test("the noise floor counts the footage's code values, so a stretch does not turn its noise into speckle", async () => {
    // Flat footage (100 and 130, range ~36: stretched 3×) with ±3 of noise.
    const noise = noiseFrom(5);
    const frame = gray(96, 64, (x) => (x < 48 ? 100 : 130) + noise());
    const auto = await make('auto');
    const out = (await auto.process(frame)).planes[0]!.data;
    // The same stretch done to the footage beforehand: a floor of 4 in stretched code values.
    const none = await make('none');
    const d = frame.planes[0]!.data;
    const lo = 118.5 - 42.5;
    const pre = gray(96, 64, (x, y) =>
      Math.max(0, Math.min(255, Math.round(((d[y * 96 + x]! - lo) * 255) / 85))),
    );
    const unscaled = (await none.process(pre)).planes[0]!.data;
    expect(speckle(unscaled)).toBeGreaterThan(8);
    expect(speckle(out)).toBeLessThan(speckle(unscaled) / 4);
    // The edge between the two halves still draws.
    expect(Math.min(...out.slice(32 * 96 + 44, 32 * 96 + 48))).toBeLessThan(190);
    auto.dispose();
    none.dispose();
  });
});

describe('color-pencil', () => {
  function yuv(u: number, v: number, range: 'full' | 'limited'): Frame {
    const f = contractFrame('yuv420p', 64, 48, 0);
    f.planes[1]!.data.fill(u);
    f.planes[2]!.data.fill(v);
    return { ...f, color: { ...f.color, range } };
  }

  test("luma is the pencil sketch; chroma is the footage's, scaled by saturation", async () => {
    const ctx = { width: 64, height: 48, seed: 3 };
    const c = await colorPencil.create(parseStylizerOptions(colorPencil, { saturation: 1 }), ctx);
    const p = await pencil.create(parseStylizerOptions(pencil), ctx);
    const input = yuv(90, 170, 'full');
    const out = await c.process(input);
    expect(out.format).toBe('yuv420p');
    const yView: Frame = { ...input, format: 'gray8', planes: [input.planes[0]!] };
    expect(out.planes[0]!.data).toEqual((await p.process(yView)).planes[0]!.data);
    expect(out.planes[1]!.data[0]).toBe(90);
    expect(out.planes[2]!.data[0]).toBe(170);
    // Limited-range chroma is widened to the sketch's full range; saturation 0 is a grey sketch.
    const widened = await c.process(yuv(90, 170, 'limited'));
    expect(widened.planes[1]!.data[0]).toBe(Math.round(128 - 38 * (255 / 224)));
    const grey = await colorPencil.create(parseStylizerOptions(colorPencil, { saturation: 0 }), ctx);
    const g = await grey.process(input);
    expect(new Set(g.planes[1]!.data)).toEqual(new Set([128]));
    expect(new Set(g.planes[2]!.data)).toEqual(new Set([128]));
    for (const s of [c, p, grey]) s.dispose();
  });
});

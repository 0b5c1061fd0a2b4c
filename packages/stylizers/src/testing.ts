import { createFrame, type Frame, pixelFormatInfo, planeGeometry } from '@framecraft/core';
import { parseStylizerOptions, type Stylizer, type StylizerInputFormat } from './stylizer.ts';

/** The parts of a test runner the contract suite needs (bun:test, vitest and jest all fit). */
export interface ContractRunner {
  describe(name: string, fn: () => void): void;
  test(name: string, fn: () => unknown, timeoutMs?: number): void;
  expect(value: unknown): {
    toBe(expected: unknown): void;
    toEqual(expected: unknown): void;
    toBeGreaterThan(n: number): void;
    toThrow(): void;
    not: { toThrow(): void };
  };
}

/** Options of {@link testStylizer}. */
export interface ContractOptions {
  readonly width?: number;
  readonly height?: number;
  /** Style options to test with (defaults otherwise). */
  readonly options?: unknown;
}

/**
 * Draw a structured test frame (gradients, a bright square, edges) in a style's input format.
 *
 * @param format - gray8, yuv420p or rgb24.
 * @param width - Frame width.
 * @param height - Frame height.
 * @param index - Frame number; moves the square and sets the pts.
 * @returns The frame.
 */
export function contractFrame(
  format: StylizerInputFormat,
  width: number,
  height: number,
  index: number,
): Frame {
  const f = createFrame({
    width,
    height,
    format,
    pts: index,
    timeBase: { num: 1, den: 25 },
    duration: 1,
    color: { range: 'limited', primaries: 'bt709', transfer: 'bt709', matrix: 'bt709' },
  });
  const sq = Math.max(2, Math.floor(Math.min(width, height) / 4));
  const sx = (index * 3) % Math.max(1, width - sq);
  const sy = Math.floor((height - sq) / 2);
  planeGeometry(format, width, height).forEach((g, p) => {
    const plane = f.planes[p]!;
    const d = plane.data as Uint8Array;
    const scaleX = g.width / width;
    const scaleY = g.height / height;
    const comps = pixelFormatInfo(format).components;
    for (let y = 0; y < g.height; y++) {
      for (let x = 0; x < g.width; x++) {
        const inSquare =
          x >= sx * scaleX && x < (sx + sq) * scaleX && y >= sy * scaleY && y < (sy + sq) * scaleY;
        for (let c = 0; c < comps; c++) {
          const base =
            p === 0
              ? 40 + ((x * 150) / g.width + (y * 50) / g.height + c * 30)
              : 128 + ((x - g.width / 2) * 40) / g.width;
          d[y * plane.stride + x * comps + c] = inSquare ? (p === 0 ? 230 : 90) : Math.round(base);
        }
      }
    }
  });
  return f;
}

function samePlanes(a: Frame, b: Frame): boolean {
  if (a.format !== b.format || a.width !== b.width || a.height !== b.height) return false;
  return planeGeometry(a.format, a.width, a.height).every((g, p) => {
    const pa = a.planes[p]!;
    const pb = b.planes[p]!;
    for (let y = 0; y < g.height; y++) {
      for (let x = 0; x < g.rowSamples; x++)
        if (pa.data[y * pa.stride + x] !== pb.data[y * pb.stride + x]) return false;
    }
    return true;
  });
}

/**
 * The contract every style passes: output size, format and timing; values in range; the same
 * output for the same seed; `processInto`; `dispose` twice. Call it from a test file of the style.
 *
 * @param stylizer - The style under test.
 * @param runner - `{ describe, test, expect }` of the test runner.
 * @param options - Frame size and style options.
 * @example
 * ```ts
 * import { describe, expect, test } from 'bun:test'
 * testStylizer(pencil, { describe, test, expect })
 * ```
 */
export function testStylizer(
  stylizer: Stylizer,
  runner: ContractRunner,
  options: ContractOptions = {},
): void {
  const width = options.width ?? 96;
  const height = options.height ?? 64;
  const { describe, test, expect } = runner;
  const frames = [0, 1, 2].map((i) => contractFrame(stylizer.inputFormat, width, height, i));
  const make = async (seed: number) =>
    stylizer.create(parseStylizerOptions(stylizer, options.options ?? {}), { width, height, seed });

  describe(`stylizer contract: ${stylizer.name}`, () => {
    test('outputs frames of the input size, in its declared format, with the input timing', async () => {
      const s = await make(1);
      for (const f of frames) {
        const out = await s.process(f);
        expect(out.width).toBe(width);
        expect(out.height).toBe(height);
        expect(out.format).toBe(s.outputFormat);
        expect(out.pts).toBe(f.pts);
        expect(out.timeBase).toEqual(f.timeBase);
      }
      s.dispose();
    });

    test('keeps values in range and is not blank on a structured input', async () => {
      const s = await make(1);
      const out = await s.process(frames[1]!);
      const info = pixelFormatInfo(out.format);
      const max = info.sampleType === 'float32' ? Number.POSITIVE_INFINITY : 2 ** info.bitDepth - 1;
      let distinct = new Set<number>();
      for (const p of out.planes) {
        for (const v of p.data) {
          if (!(Number.isFinite(v) && v >= 0 && v <= max)) throw new Error(`sample ${v} out of range`);
          if (distinct.size < 3) distinct = distinct.add(v);
        }
      }
      expect(distinct.size).toBeGreaterThan(1);
      s.dispose();
    });

    test('gives identical output for the same seed', async () => {
      const a = await make(7);
      const b = await make(7);
      for (const f of frames) expect(samePlanes(await a.process(f), await b.process(f))).toBe(true);
      a.dispose();
      b.dispose();
    });

    test('an instance that says it is stateless gives each frame the same output whatever came before', async () => {
      const fresh = await make(5);
      const warmed = await make(5);
      if (fresh.stateful !== false) {
        fresh.dispose();
        warmed.dispose();
        return;
      }
      for (const f of frames.slice(0, -1)) await warmed.process(f);
      const last = frames.at(-1)!;
      expect(samePlanes(await warmed.process(last), await fresh.process(last))).toBe(true);
      fresh.dispose();
      warmed.dispose();
    });

    test('processInto writes into the frame it is given, with the same result as process', async () => {
      // Two instances with one seed: styles may keep state across frames (a palette, grain).
      const s = await make(3);
      const twin = await make(3);
      const out = createFrame({ width, height, format: s.outputFormat });
      const res = await s.processInto(frames[0]!, out);
      expect(res.planes[0]!.data === out.planes[0]!.data).toBe(true);
      expect(samePlanes(res, await twin.process(frames[0]!))).toBe(true);
      s.dispose();
      twin.dispose();
    });

    test('tiny and odd frame sizes (1x1, 1x3, 3x3, 17x1, 33x19) come out at their size', async () => {
      for (const [w, h] of [
        [1, 1],
        [1, 3],
        [3, 3],
        [17, 1],
        [33, 19],
      ] as const) {
        const s = await stylizer.create(parseStylizerOptions(stylizer, options.options ?? {}), {
          width: w,
          height: h,
          seed: 1,
        });
        for (const i of [0, 1]) {
          const out = await s.process(contractFrame(stylizer.inputFormat, w, h, i));
          expect([out.width, out.height]).toEqual([w, h]);
        }
        s.dispose();
      }
    });

    test('dispose twice is harmless and processing afterwards throws', async () => {
      const s = await make(1);
      s.dispose();
      expect(() => s.dispose()).not.toThrow();
      let threw = false;
      try {
        await s.process(frames[0]!);
      } catch {
        threw = true;
      }
      expect(threw).toBe(true);
    });

    test('check, when the style has one, passes for options that create an instance', async () => {
      if (stylizer.check === undefined) return;
      await stylizer.check(parseStylizerOptions(stylizer, options.options ?? {}));
      (await make(1)).dispose();
    });
  });
}

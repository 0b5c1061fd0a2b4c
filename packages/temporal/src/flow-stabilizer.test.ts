import { describe, expect, test } from 'bun:test';
import { createFrame, type Frame } from '@framecraft/core';
import { FlowStabilizer } from './flow-stabilizer.ts';

const W = 96;
const H = 64;

/** Textured background with a bright textured square whose left edge is at `sx`. */
function input(sx: number, shift = 0): Frame {
  const f = createFrame({ width: W, height: H, format: 'gray8' });
  const d = f.planes[0]!.data;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const inSquare = x >= sx && x < sx + 24 && y >= 20 && y < 44;
      const u = inSquare ? x - sx : x;
      d[y * W + x] = inSquare
        ? 200 + 30 * Math.sin(u * 0.9 + y * 0.7)
        : 90 + 40 * Math.sin((u + shift) * 0.31 + y * 0.2) + 25 * Math.cos(y * 0.45 - u * 0.13);
    }
  }
  return f;
}

/** A "style": the input as RGB, plus a per-frame flicker of ±amp (seeded). */
function styled(src: Frame, seed: number, amp: number): Frame {
  const f = createFrame({ width: W, height: H, format: 'rgb24' });
  const d = f.planes[0]!.data;
  let s = seed * 2654435761;
  const s0 = src.planes[0]!.data;
  for (let i = 0; i < W * H; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    const n = ((s >>> 16) % (2 * amp + 1)) - amp;
    for (let c = 0; c < 3; c++) d[3 * i + c] = Math.max(0, Math.min(255, s0[i]! + n + c * 10));
  }
  return f;
}

function meanAbsDiff(a: Frame, b: Frame, region?: (x: number, y: number) => boolean): number {
  let sum = 0;
  let n = 0;
  const da = a.planes[0]!.data;
  const db = b.planes[0]!.data;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (region && !region(x, y)) continue;
      for (let c = 0; c < 3; c++) sum += Math.abs(da[3 * (y * W + x) + c]! - db[3 * (y * W + x) + c]!);
      n += 3;
    }
  }
  return sum / n;
}

const clone = (f: Frame): Frame => ({ ...f, planes: f.planes.map((p) => ({ ...p, data: p.data.slice() })) });

describe('FlowStabilizer', () => {
  test('a still scene stops flickering', () => {
    const stab = FlowStabilizer.create();
    const src = input(30);
    let prevOut: Frame | null = null;
    let prevStyled: Frame | null = null;
    let outChange = 0;
    let styledChange = 0;
    for (let i = 0; i < 10; i++) {
      const s = styled(src, i, 6);
      const out = clone(stab.process(src, s, i));
      if (prevOut !== null && i > 2) {
        outChange += meanAbsDiff(out, prevOut);
        styledChange += meanAbsDiff(s, prevStyled!);
      }
      prevOut = out;
      prevStyled = s;
    }
    expect(stab.lastReliable).toBeGreaterThan(0.9);
    expect(outChange).toBeLessThan(styledChange * 0.5);
  });

  test('with the flow at half resolution a still scene keeps its history too', () => {
    const stab = FlowStabilizer.create({ flowResolution: 'half' });
    const src = input(30);
    const first = clone(stab.process(src, styled(src, 0, 6), 0));
    let out: Frame = first;
    for (let i = 1; i < 6; i++) out = stab.process(src, styled(src, i, 6), i);
    expect(stab.lastReliable).toBeGreaterThan(0.9);
    expect(meanAbsDiff(out, first)).toBeLessThan(1);
  });

  for (const occlusionCheck of [true, false])
    test(`a moving square is followed, with no trail where it was (occlusion check ${occlusionCheck ? 'on' : 'off'})`, () => {
      const stab = FlowStabilizer.create({ occlusionCheck });
      let out: Frame | null = null;
      let s: Frame | null = null;
      for (let i = 0; i < 8; i++) {
        const src = input(20 + 3 * i);
        s = styled(src, i, 0);
        out = stab.process(src, s, i);
      }
      // The square is now at x 41–64; where it was (x 20–40) the background shows, as in the style.
      const square = (x: number, y: number) => x >= 43 && x < 63 && y >= 22 && y < 42;
      const vacated = (x: number, y: number) => x >= 20 && x < 40 && y >= 22 && y < 42;
      // A trail or a square left behind would differ by ~110 code values; what remains is the
      // flow's sub-pixel error over eight frames on a texture of a 7-pixel period.
      expect(meanAbsDiff(out!, s!, square)).toBeLessThan(12);
      expect(meanAbsDiff(out!, s!, vacated)).toBeLessThan(12);
    });

  test('a slow sub-pixel pan neither slides the texture nor blurs it', () => {
    // A steady style of a scene panning 1.5 px a frame: rounding the motion slid the history half
    // a pixel a frame; resampling the history every frame blurred it a little more each time.
    // Two crossed gratings, so the motion is well defined (one alone is ambiguous along its lines).
    const scene = (shift: number): Frame => {
      const f = createFrame({ width: W, height: H, format: 'gray8' });
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const u = x + shift;
          f.planes[0]!.data[y * W + x] =
            120 + 40 * Math.sin(u * 0.31 + y * 0.2) + 40 * Math.sin(y * 0.27 - u * 0.25);
        }
      return f;
    };
    const stab = FlowStabilizer.create();
    let out: Frame | null = null;
    let s: Frame | null = null;
    for (let i = 0; i < 16; i++) {
      s = styled(scene(1.5 * i), 0, 0);
      out = stab.process(scene(1.5 * i), s, i);
    }
    const inner = (x: number, y: number) => x >= 8 && x < W - 8 && y >= 8 && y < H - 8;
    expect(meanAbsDiff(out!, s!, inner)).toBeLessThan(4);
    const laplacianEnergy = (f: Frame) => {
      const d = f.planes[0]!.data;
      let sum = 0;
      for (let y = 8; y < H - 8; y++)
        for (let x = 8; x < W - 8; x++) {
          const i = 3 * (y * W + x);
          sum += (4 * d[i]! - d[i - 3]! - d[i + 3]! - d[i - 3 * W]! - d[i + 3 * W]!) ** 2;
        }
      return sum;
    };
    expect(laplacianEnergy(out!)).toBeGreaterThan(0.9 * laplacianEnergy(s!));
  });

  test('a scene cut starts over with the new frame', () => {
    const stab = FlowStabilizer.create();
    for (let i = 0; i < 4; i++) stab.process(input(30), styled(input(30), i, 6), i);
    const other = createFrame({ width: W, height: H, format: 'gray8' });
    other.planes[0]!.data.fill(15);
    const s = styled(other, 9, 0);
    const out = stab.process(other, s, 4);
    expect(stab.lastWasReset).toBe(true);
    expect(out.planes[0]!.data).toEqual(s.planes[0]!.data);
  });

  test('starting `history` frames early gives exactly the frames of a run from the start', () => {
    const frames = Array.from({ length: 30 }, (_, i) => input(10 + 2 * i, i));
    const styles = frames.map((f, i) => styled(f, i, 5));
    const history = 8;
    const full = FlowStabilizer.create({ history });
    const whole = frames.map((f, i) => clone(full.process(f, styles[i]!, i)));
    for (const start of [5, 11]) {
      const chunk = FlowStabilizer.create({ history });
      for (let i = start; i < frames.length; i++) {
        const out = chunk.process(frames[i]!, styles[i]!, i);
        if (i >= start + history) expect(out.planes[0]!.data).toEqual(whole[i]!.planes[0]!.data);
      }
    }
    // Without the pre-roll it differs: the check above can fail.
    const cold = FlowStabilizer.create({ history });
    cold.process(frames[20]!, styles[20]!, 20);
    expect(cold.process(frames[21]!, styles[21]!, 21).planes[0]!.data).not.toEqual(
      whole[21]!.planes[0]!.data,
    );
  });

  test('exported state continues exactly', () => {
    const frames = Array.from({ length: 12 }, (_, i) => input(10 + 2 * i));
    const styles = frames.map((f, i) => styled(f, i, 5));
    const a = FlowStabilizer.create({ history: 8 });
    const ref = frames.map((f, i) => clone(a.process(f, styles[i]!, i)));
    const b = FlowStabilizer.create({ history: 8 });
    for (let i = 0; i < 6; i++) b.process(frames[i]!, styles[i]!, i);
    const c = FlowStabilizer.create({ history: 8 });
    c.restoreState(structuredClone(b.exportState()));
    for (let i = 6; i < 12; i++)
      expect(c.process(frames[i]!, styles[i]!, i).planes[0]!.data).toEqual(ref[i]!.planes[0]!.data);
  });

  test('bad input', () => {
    expect(() => FlowStabilizer.create({ strength: 1.5 })).toThrow(RangeError);
    expect(() => FlowStabilizer.create({ history: 7 })).toThrow(
      'Expected an even whole number in [4, 240] for options.history but received 7',
    );
    expect(() => FlowStabilizer.create({ errorThreshold: 0 })).toThrow(RangeError);
    expect(() => FlowStabilizer.create({ flowResolution: 'quarter' as never })).toThrow(
      "Expected 'full' or 'half' for options.flowResolution",
    );
    const stab = FlowStabilizer.create();
    const small = createFrame({ width: 32, height: 32, format: 'rgb24' });
    expect(() => stab.process(input(0), small, 0)).toThrow(
      'Expected a 96x64 stylized frame (the input\'s size) for styled but received "32x32"',
    );
    expect(() => stab.process(input(0), createFrame({ width: W, height: H, format: 'rgbf32' }), 0)).toThrow(
      TypeError,
    );
    expect(() => stab.process(input(0), styled(input(0), 1, 0), -1)).toThrow(RangeError);
  });
});

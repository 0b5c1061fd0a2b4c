import { describe, expect, test } from 'bun:test';
import { createFrame, type Frame, type PixelFormat } from '@framecraft/core';
import { resizeFlow } from './dis.ts';
import { consistencyMask, DisFlow, warpFrame } from './index.ts';
import { shrinkLuma } from './pyramid.ts';
import { SearchKernel } from './search-kernel.ts';
import { useWarpKernel } from './warp-kernel.ts';

/** A smooth, richly textured scene sampled at any real position (sums of sines: exact subpixel shifts). */
function scene(x: number, y: number): number {
  return (
    128 +
    40 * Math.sin(x * 0.21 + y * 0.05) +
    30 * Math.sin(y * 0.17 - x * 0.08 + 1.3) +
    25 * Math.sin((x + y) * 0.37) +
    15 * Math.cos(x * 0.61 - y * 0.43)
  );
}

/** Render the scene with each pixel x taken from scene(x + d(x)). */
function render(w: number, h: number, d: (x: number, y: number) => [number, number]): Uint8Array {
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [dx, dy] = d(x, y);
      out[y * w + x] = Math.max(0, Math.min(255, Math.round(scene(x + dx, y + dy))));
    }
  }
  return out;
}

/** Mean end-point error against a known field, leaving out a margin where content leaves the frame. */
function epe(
  flow: Float32Array,
  w: number,
  h: number,
  gt: (x: number, y: number) => [number, number],
): number {
  let sum = 0;
  let n = 0;
  for (let y = 12; y < h - 12; y++) {
    for (let x = 12; x < w - 12; x++) {
      const [gx, gy] = gt(x, y);
      const o = 2 * (y * w + x);
      sum += Math.hypot(flow[o]! - gx, flow[o + 1]! - gy);
      n++;
    }
  }
  return sum / n;
}

const W = 192;
const H = 128;
const base = render(W, H, () => [0, 0]);

describe('DisFlow on pairs with known motion', () => {
  // The pair (a, b) with a(x) = scene(x + d(x)) and b = scene: the flow from a to b is d.
  const cases: [string, (x: number, y: number) => [number, number]][] = [
    ['translation', () => [2.6, -1.3]],
    [
      'rotation by 2°',
      (x, y) => {
        const a = (2 * Math.PI) / 180;
        const cx = (W - 1) / 2;
        const cy = (H - 1) / 2;
        return [
          Math.cos(a) * (x - cx) - Math.sin(a) * (y - cy) + cx - x,
          Math.sin(a) * (x - cx) + Math.cos(a) * (y - cy) + cy - y,
        ];
      },
    ],
    ['zoom by 4 %', (x, y) => [0.04 * (x - (W - 1) / 2), 0.04 * (y - (H - 1) / 2)]],
    ['a smooth field', (x, y) => [2 * Math.sin(x / 40), 1.5 * Math.cos(y / 30)]],
  ];
  // Measured here: ultrafast 0.26–0.33, fast 0.14–0.21, medium 0.02–0.05 px (zero flow: 1.7–2.9).
  const bounds = { ultrafast: 0.4, fast: 0.3, medium: 0.08 };
  for (const preset of ['ultrafast', 'fast', 'medium'] as const) {
    const bound = bounds[preset];
    for (const [name, d] of cases) {
      test(`${preset}: ${name}`, () => {
        const dis = DisFlow.create({ preset });
        const a = dis.prepare({ data: render(W, H, d), width: W, height: H });
        const b = dis.prepare({ data: base, width: W, height: H });
        const flow = dis.calc(a, b);
        const e = epe(flow, W, H, d);
        // Zero flow would be this far off: the estimate must be far better than doing nothing.
        const none = epe(new Float32Array(W * H * 2), W, H, d);
        expect(e).toBeLessThan(bound);
        expect(e).toBeLessThan(none * 0.2);
      });
    }
  }

  test('a frame on its own gives zero flow, and results repeat exactly', () => {
    const dis = DisFlow.create();
    const a = dis.prepare({ data: base, width: W, height: H });
    const zero = dis.calc(a, a);
    expect(Math.max(...zero.map(Math.abs))).toBeLessThan(0.01);
    const moved = dis.prepare({ data: render(W, H, () => [1.5, 0.5]), width: W, height: H });
    const one = dis.calc(moved, a).slice();
    // Reusing prepared frames and the output buffer changes nothing.
    const again = dis.prepare({ data: render(W, H, () => [1.5, 0.5]), width: W, height: H }, moved);
    expect(again).toBe(moved);
    const out = new Float32Array(W * H * 2);
    expect(dis.calc(again, a, out)).toBe(out);
    expect(out).toEqual(one);
  });

  test('strided luma planes read only their own samples', () => {
    const stride = W + 13;
    const padded = new Uint8Array(stride * H).fill(255);
    for (let y = 0; y < H; y++) padded.set(base.subarray(y * W, (y + 1) * W), y * stride);
    const dis = DisFlow.create();
    const a = dis.prepare({ data: padded, width: W, height: H, stride });
    const b = dis.prepare({ data: base, width: W, height: H });
    expect(dis.calc(a, b)).toEqual(dis.calc(b, b));
  });

  test('the pyramid base is the block average of the luma (factors 1 to 4, strided)', () => {
    const [w, h, stride] = [13, 7, 61];
    const src = new Uint8Array(stride * 4 * h).map((_, i) => (i * 73) % 256);
    for (const f of [1, 2, 3, 4]) {
      const out = new Float32Array(w * h);
      shrinkLuma(src, stride, f, out, w, h);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          let sum = 0;
          for (let dy = 0; dy < f; dy++)
            for (let dx = 0; dx < f; dx++) sum += src[(y * f + dy) * stride + x * f + dx]!;
          expect(out[y * w + x]).toBeCloseTo(sum / (f * f), 4);
        }
      }
    }
  });

  test('frames smaller than a patch get zero flow; tiny frames work', () => {
    const dis = DisFlow.create();
    for (const [w, h] of [
      [1, 1],
      [3, 2],
      [7, 40],
      [17, 9],
    ] as const) {
      const data = new Uint8Array(w * h).map((_, i) => (i * 37) % 256);
      const a = dis.prepare({ data, width: w, height: h });
      const flow = dis.calc(a, a);
      expect(flow.length).toBe(w * h * 2);
      expect(flow.every((v) => Number.isFinite(v))).toBe(true);
    }
  });
});

describe('the SIMD kernels', () => {
  test('patch search and densification give the same flow as TypeScript (within 1e-4 px mean, 0.01 px max)', () => {
    // Large motion (patches reaching past the edges take the clamped path), patch sizes the
    // kernel specializes (8), runs generically (12) and leaves to TypeScript (6).
    const far = render(W, H, (x, y) => [9 + 3 * Math.sin(y / 30), -6 + 2 * Math.cos(x / 40)]);
    const settings = [
      { preset: 'ultrafast' },
      { preset: 'ultrafast', finestScale: 0 },
      { preset: 'ultrafast', patchSize: 12, patchStride: 5 },
      { preset: 'ultrafast', patchSize: 6, patchStride: 3 },
    ] as const;
    for (const o of settings) {
      const run = (dis: DisFlow) =>
        dis.calc(
          dis.prepare({ data: far, width: W, height: H }),
          dis.prepare({ data: base, width: W, height: H }),
        );
      const x = run(DisFlow.create(o));
      const y = run(DisFlow.create({ ...o, kernel: 'typescript' }));
      // Where content leaves the frame the match is ambiguous and f32 against f64 rounding may
      // tip a patch's descent either way: compared inside a margin wider than the motion.
      let sum = 0;
      let max = 0;
      let n = 0;
      for (let yy = 16; yy < H - 16; yy++) {
        for (let xx = 16; xx < W - 16; xx++) {
          for (let c = 0; c < 2; c++) {
            const d = Math.abs(x[2 * (yy * W + xx) + c]! - y[2 * (yy * W + xx) + c]!);
            sum += d;
            max = Math.max(max, d);
            n++;
          }
        }
      }
      expect(sum / n).toBeLessThan(1e-4);
      expect(max).toBeLessThan(0.01);
    }
  });

  test('the SIMD upsampling equals resizeFlow on a rough field, by 2 and 4, odd widths too', () => {
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 2 ** 32 - 0.5;
    };
    for (const [sw, sh, f] of [
      [37, 21, 2],
      [40, 22, 2],
      [37, 21, 4],
      [40, 22, 4],
    ] as const) {
      const ux = Float32Array.from({ length: sw * sh }, () => 8 * rnd());
      const uy = Float32Array.from({ length: sw * sh }, () => 8 * rnd());
      const expected = new Float32Array(2 * sw * f * sh * f);
      resizeFlow(ux, uy, sw, sh, expected, null, sw * f, sh * f, f);
      const got = new Float32Array(expected.length);
      SearchKernel.create(sw, sh, sw * f, sh * f)!.upsample(ux, uy, sw, sh, f, f, got);
      let max = 0;
      for (let i = 0; i < got.length; i++) max = Math.max(max, Math.abs(got[i]! - expected[i]!));
      expect(max).toBeLessThan(1e-4);
    }
  });

  test('the last upsampling gives the same flow as TypeScript at any size (odd level widths too)', () => {
    // 194 × 130: medium's half-size level is 97 × 65 (odd), fast's quarter size is not whole.
    for (const [w, h] of [
      [194, 130],
      [200, 120],
    ] as const) {
      const scene2 = (dx: number, dy: number) => {
        const out = new Uint8Array(w * h);
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++) out[y * w + x] = Math.round(scene(x + dx + Math.sin(y / 20), y + dy));
        return out;
      };
      const a = scene2(1.5, -0.7);
      const b = scene2(0, 0);
      for (const preset of ['fast', 'medium'] as const) {
        const run = (dis: DisFlow) =>
          dis.calc(
            dis.prepare({ data: a, width: w, height: h }),
            dis.prepare({ data: b, width: w, height: h }),
          );
        const x = run(DisFlow.create({ preset }));
        const y = run(DisFlow.create({ preset, kernel: 'typescript' }));
        let sum = 0;
        let max = 0;
        for (let i = 0; i < x.length; i++) {
          const d = Math.abs(x[i]! - y[i]!);
          sum += d;
          max = Math.max(max, d);
        }
        expect(sum / x.length).toBeLessThan(1e-4);
        expect(max).toBeLessThan(0.01);
      }
    }
  });

  test('WebAssembly SIMD and TypeScript sweeps give the same flow (within 1e-4 px mean, 0.01 px max)', () => {
    const a = render(W, H, (x, y) => [1.7 * Math.sin(y / 25), -1.1 * Math.cos(x / 35)]);
    for (const preset of ['fast', 'medium'] as const) {
      const simd = DisFlow.create({ preset });
      const portable = DisFlow.create({ preset, kernel: 'typescript' });
      expect(simd.kernel).toBe('wasm-simd');
      expect(portable.kernel).toBe('typescript');
      const run = (dis: DisFlow) =>
        dis.calc(
          dis.prepare({ data: a, width: W, height: H }),
          dis.prepare({ data: base, width: W, height: H }),
        );
      const x = run(simd);
      const y = run(portable);
      let max = 0;
      let sum = 0;
      for (let i = 0; i < x.length; i++) {
        const d = Math.abs(x[i]! - y[i]!);
        max = Math.max(max, d);
        sum += d;
      }
      expect(sum / x.length).toBeLessThan(1e-4);
      expect(max).toBeLessThan(0.01);
      // Not trivially equal: the refinement ran (without it the flows differ from these).
      const none = DisFlow.create({ preset, refinementIterations: 0 });
      expect(run(none).some((v, i) => Math.abs(v - x[i]!) > 0.01)).toBe(true);
    }
  });
});

describe('bad input', () => {
  const dis = DisFlow.create();
  test('an unknown kernel', () => {
    expect(() => DisFlow.create({ kernel: 'gpu' as never })).toThrow(
      "Expected 'auto' or 'typescript' for options.kernel",
    );
  });
  test('zero-size, short and non-byte planes', () => {
    expect(() => dis.prepare({ data: new Uint8Array(0), width: 0, height: 4 })).toThrow(
      'Expected a width >= 1 for luma.width but received 0',
    );
    expect(() => dis.prepare({ data: new Uint8Array(10), width: 4, height: 4 })).toThrow(
      'Expected at least 16 samples for a 4x4 plane with stride 4 for luma.data but received "10 samples"',
    );
    expect(() => dis.prepare({ data: new Float32Array(16) as never, width: 4, height: 4 })).toThrow(
      TypeError,
    );
    expect(() => dis.prepare({ data: new Uint8Array(16), width: 4, height: 4, stride: 3 })).toThrow(
      RangeError,
    );
  });
  test('pairs of different sizes and foreign frames', () => {
    const a = dis.prepare({ data: new Uint8Array(64 * 48), width: 64, height: 48 });
    const b = dis.prepare({ data: new Uint8Array(48 * 64), width: 48, height: 64 });
    expect(() => dis.calc(a, b)).toThrow('Expected a 64x48 frame for to but received "48x64"');
    // Prepared for another pyramid (medium's finest level is half size, fast's a quarter).
    const big = { data: new Uint8Array(640 * 360), width: 640, height: 360 };
    const other = DisFlow.create({ preset: 'medium' }).prepare(big);
    expect(() => dis.calc(dis.prepare(big), other)).toThrow(
      'Expected frames prepared by this estimator for from/to but received "frames prepared with other settings"',
    );
    expect(() => dis.calc(a, a, new Float32Array(10))).toThrow(RangeError);
  });
  test('options out of range', () => {
    expect(() => DisFlow.create({ preset: 'slow' as never })).toThrow(RangeError);
    expect(() => DisFlow.create({ patchSize: 32 })).toThrow(
      'Expected a whole number in [4, 16] for options.patchSize but received 32',
    );
    expect(() => DisFlow.create({ patchStride: 9 })).toThrow(RangeError);
    expect(() => DisFlow.create({ alpha: -1 })).toThrow(RangeError);
  });
  test('flows too short and frames of another size for warping', () => {
    const f = createFrame({ width: 8, height: 8, format: 'gray8' });
    expect(() => warpFrame(f, new Float32Array(10))).toThrow(
      'Expected at least 128 floats (a 8x8 flow) for flow but received "10 floats"',
    );
    expect(() =>
      warpFrame(f, new Float32Array(128), createFrame({ width: 4, height: 8, format: 'gray8' })),
    ).toThrow(RangeError);
    expect(() =>
      warpFrame(f, new Float32Array(128), createFrame({ width: 8, height: 8, format: 'rgb24' })),
    ).toThrow(TypeError);
    expect(() => consistencyMask(new Float32Array(128), new Float32Array(64), 8, 8)).toThrow(RangeError);
    expect(() => consistencyMask(new Float32Array(0), new Float32Array(0), 0, 8)).toThrow(RangeError);
  });
});

function filled(format: PixelFormat, w: number, h: number): Frame {
  const f = createFrame({ width: w, height: h, format });
  for (const [p, plane] of f.planes.entries()) {
    const d = plane.data;
    for (let i = 0; i < d.length; i++)
      d[i] = format === 'yuv420p10' ? (i * 7 + p * 101) % 1024 : (i * 7 + p * 101) % 256;
  }
  return f;
}

describe('warpFrame', () => {
  const formats: PixelFormat[] = [
    'gray8',
    'yuv420p',
    'yuv422p',
    'yuv444p',
    'yuv420p10',
    'rgb24',
    'rgba',
    'rgbf32',
  ];
  for (const format of formats) {
    test(`${format}: zero flow copies, a whole-pixel shift moves every plane`, () => {
      const w = 16;
      const h = 12;
      const f = filled(format, w, h);
      const copy = warpFrame(f, new Float32Array(w * h * 2));
      for (const [p, plane] of copy.planes.entries()) expect(plane.data).toEqual(f.planes[p]!.data);
      // out(x) = in(x + 2, y + 2) away from the far edges (even, so chroma moves by a whole sample too).
      const shift = new Float32Array(w * h * 2).fill(2);
      const moved = warpFrame(f, shift);
      const comps = format === 'rgb24' ? 3 : format === 'rgba' ? 4 : 1;
      for (const [p, plane] of moved.planes.entries()) {
        const chroma = p > 0 && format.startsWith('yuv');
        const sx = chroma && format !== 'yuv444p' ? 2 : 1;
        const sy = chroma && (format === 'yuv420p' || format === 'yuv420p10') ? 2 : 1;
        const src = f.planes[p]!;
        const pw = w / sx;
        const ph = h / sy;
        const dx = 2 / sx;
        const dy = 2 / sy;
        for (let y = 0; y < ph - dy; y++) {
          for (let x = 0; x < (pw - dx) * comps; x++) {
            expect(plane.data[y * plane.stride + x]).toBe(src.data[(y + dy) * src.stride + x + dx * comps]!);
          }
        }
      }
    });
  }

  test('warping a frame by a flow and back returns it where both warps stay inside', () => {
    const w = 40;
    const h = 30;
    const f = filled('gray8', w, h);
    const fwd = new Float32Array(w * h * 2);
    const back = new Float32Array(w * h * 2);
    for (let i = 0; i < w * h; i++) {
      fwd[2 * i] = 3;
      fwd[2 * i + 1] = -2;
      back[2 * i] = -3;
      back[2 * i + 1] = 2;
    }
    const round = warpFrame(warpFrame(f, fwd), back);
    for (let y = 3; y < h - 3; y++) {
      for (let x = 3; x < w - 3; x++)
        expect(round.planes[0]!.data[y * w + x]).toBe(f.planes[0]!.data[y * w + x]!);
    }
  });

  test('half-pixel shifts interpolate and keep the timing', () => {
    const f = { ...filled('gray8', 4, 1), pts: 1234, duration: 5 };
    f.planes[0]!.data.set([0, 100, 200, 250]);
    const out = warpFrame(f, new Float32Array([0.5, 0, 0.5, 0, 0.5, 0, 0.5, 0]));
    expect([...out.planes[0]!.data]).toEqual([50, 150, 225, 250]);
    expect(out.pts).toBe(1234);
    expect(out.duration).toBe(5);
  });
});

describe('the warp kernel', () => {
  // Rough flows, vectors far outside the frame and non-finite ones: every clamp is exercised.
  const [w, h] = [67, 41];
  let seed = 3;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };
  const rough = () => {
    const f = Float32Array.from({ length: 2 * w * h }, () => 9 * rnd());
    f[10] = Number.NaN;
    f[21] = Number.POSITIVE_INFINITY;
    f[40] = -200;
    f[2 * w * h - 1] = 150;
    return f;
  };
  const both = <T>(run: () => T): [T, T] => {
    const kernel = run();
    useWarpKernel(false);
    try {
      return [kernel, run()];
    } finally {
      useWarpKernel(true);
    }
  };

  test('warps 8-bit frames exactly as the TypeScript loops do', () => {
    const flow = rough();
    for (const format of ['gray8', 'rgb24', 'rgba', 'yuv420p', 'yuv444p'] as PixelFormat[]) {
      const frame = createFrame({ width: w, height: h, format });
      for (const p of frame.planes)
        for (let i = 0; i < p.data.length; i++) p.data[i] = Math.floor((rnd() + 0.5) * 256);
      const [a, b] = both(() => warpFrame(frame, flow));
      for (let p = 0; p < a.planes.length; p++) expect(a.planes[p]!.data).toEqual(b.planes[p]!.data);
    }
  });

  test('gives the consistency mask exactly as the TypeScript loops do', () => {
    // A smooth motion (mostly consistent) with outliers, vectors leaving the frame and NaN.
    const back = Float32Array.from(
      { length: 2 * w * h },
      (_, i) => 2 * Math.sin(i / 97) + (i % 13 === 0 ? 6 * rnd() : 0),
    );
    back[10] = Number.NaN;
    back[40] = -200;
    const fwd = Float32Array.from(back, (v, i) => (i % 11 === 0 ? 4 * rnd() : -v + 0.1 * rnd()));
    for (const motionBoundaries of [true, false]) {
      const [a, b] = both(() => consistencyMask(back, fwd, w, h, undefined, { motionBoundaries }));
      expect(a).toEqual(b);
      expect(a.some((v) => v === 255)).toBe(true);
      expect(a.some((v) => v === 0)).toBe(true);
    }
  });
});

describe('consistencyMask', () => {
  test('marks the background uncovered by a moving square, and nothing else', () => {
    // A textured background holds still while a bright square moves 6 px to the right.
    const w = 160;
    const h = 120;
    const frame = (sx: number): Uint8Array => {
      const img = render(w, h, () => [0, 0]);
      for (let y = 40; y < 80; y++)
        for (let x = sx; x < sx + 40; x++) img[y * w + x] = 220 + ((x - sx + y) % 3) * 10;
      return img;
    };
    const dis = DisFlow.create({ preset: 'medium' });
    const prev = dis.prepare({ data: frame(50), width: w, height: h });
    const cur = dis.prepare({ data: frame(56), width: w, height: h });
    const backward = dis.calc(cur, prev);
    const forward = dis.calc(prev, cur);
    const mask = consistencyMask(backward, forward, w, h);
    let strip = 0;
    let stripN = 0;
    let bg = 0;
    let bgN = 0;
    for (let y = 44; y < 76; y++) {
      // Background next to the square's new left edge: hidden under the square in the previous frame.
      for (let x = 50; x < 55; x++, stripN++) if (mask[y * w + x] === 0) strip++;
    }
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (y > 30 && y < 90 && x > 40 && x < 106) continue;
        bgN++;
        if (mask[y * w + x] === 255) bg++;
      }
    }
    expect(strip / stripN).toBeGreaterThan(0.6);
    expect(bg / bgN).toBeGreaterThan(0.95);
  });

  test('a flow that is its own inverse is consistent everywhere; one that is not is flagged', () => {
    const w = 20;
    const h = 10;
    const f = new Float32Array(w * h * 2);
    const b = new Float32Array(w * h * 2);
    for (let i = 0; i < w * h; i++) {
      f[2 * i] = 1;
      b[2 * i] = -1;
    }
    const mask = consistencyMask(b, f, w, h, undefined, { motionBoundaries: false });
    // Column 0 maps outside the previous frame.
    for (let y = 0; y < h; y++) {
      expect(mask[y * w]).toBe(0);
      for (let x = 1; x < w; x++) expect(mask[y * w + x]).toBe(255);
    }
    const wrong = consistencyMask(
      new Float32Array(w * h * 2).fill(-1),
      new Float32Array(w * h * 2).fill(-1),
      w,
      h,
    );
    expect(wrong.filter((v) => v === 255).length).toBe(0);
  });
});

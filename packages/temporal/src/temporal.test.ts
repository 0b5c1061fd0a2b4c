import { describe, expect, test } from 'bun:test';
import { createFrame, type Frame } from '@framecraft/core';
import { lumaOf, meanLuma, temporalConsistency } from '@framecraft/metrics';
import { Deflicker } from './deflicker.ts';
import { EdgeStabilizer } from './edge-stabilizer.ts';
import { EmaStabilizer } from './ema.ts';
import { SceneCutDetector } from './scene-cut.ts';

const W = 64;
const H = 48;

function gray(fn: (x: number, y: number) => number, pts = 0): Frame {
  const f = createFrame({ width: W, height: H, format: 'gray8', pts });
  const d = f.planes[0]!.data as Uint8Array;
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) d[y * W + x] = Math.max(0, Math.min(255, Math.round(fn(x, y))));
  return f;
}

function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return (s >>> 16) / 65536 - 0.5;
  };
}

const scene = (x: number, y: number): number => 60 + x + y;
const noisyScene = (seed: number): Frame => {
  const r = rng(seed);
  return gray((x, y) => scene(x, y) + r() * 30, seed);
};

function copy(f: Frame): Frame {
  const c = createFrame({ width: f.width, height: f.height, format: f.format, pts: f.pts });
  for (const [i, p] of c.planes.entries()) p.data.set(f.planes[i]!.data.subarray(0, p.data.length));
  return c;
}

describe('EmaStabilizer', () => {
  test('reduces temporal noise on a static scene', () => {
    const ema = EmaStabilizer.create({ strength: 0.8, motionThreshold: 40 });
    const ins: Frame[] = [];
    const outs: Frame[] = [];
    for (let i = 1; i <= 20; i++) {
      ins.push(noisyScene(i));
      outs.push(copy(ema.process(ins.at(-1)!)));
    }
    const rawTc = temporalConsistency(lumaOf(ins[18]!), lumaOf(ins[19]!), lumaOf(ins[18]!), lumaOf(ins[18]!));
    const smoothTc = temporalConsistency(
      lumaOf(outs[18]!),
      lumaOf(outs[19]!),
      lumaOf(ins[18]!),
      lumaOf(ins[18]!),
    );
    expect(smoothTc).toBeLessThan(rawTc / 2);
  });

  test('moving edges are not ghosted: a moving bar stays sharp', () => {
    const ema = EmaStabilizer.create({ strength: 0.9, motionThreshold: 24 });
    let last: Frame | undefined;
    let input: Frame | undefined;
    for (let i = 0; i < 10; i++) {
      input = gray((x) => (x >= i * 4 && x < i * 4 + 8 ? 230 : 30));
      last = ema.process(input);
    }
    const a = last!.planes[0]!.data;
    const b = input!.planes[0]!.data;
    let worst = 0;
    for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k]! - b[k]!));
    expect(worst).toBeLessThanOrEqual(1);
    const fixed = EmaStabilizer.create({ strength: 0.9, motionThreshold: 0, sceneCut: false });
    for (let i = 0; i < 10; i++) last = fixed.process(gray((x) => (x >= i * 4 && x < i * 4 + 8 ? 230 : 30)));
    // Without motion adaptation the old bar positions leave a trail.
    expect(Math.max(...last!.planes[0]!.data.subarray(0, 20))).toBeGreaterThan(60);
  });

  test('a scene cut resets the state: the first frame of the new shot passes through unchanged', () => {
    const ema = EmaStabilizer.create({ strength: 0.9 });
    for (let i = 0; i < 5; i++) ema.process(gray(() => 40));
    const next = gray((x, y) => 200 - x - y);
    const out = ema.process(next);
    expect(ema.lastWasReset).toBe(true);
    expect(out.planes[0]!.data).toEqual(next.planes[0]!.data);
  });

  test('export and restore continue exactly as an uninterrupted run', () => {
    const frames = Array.from({ length: 12 }, (_, i) => noisyScene(100 + i));
    const whole = EmaStabilizer.create({ strength: 0.7 });
    const expected = frames.map((f) => copy(whole.process(f)));
    const first = EmaStabilizer.create({ strength: 0.7 });
    for (const f of frames.slice(0, 6)) first.process(f);
    const state = structuredClone(first.exportState());
    const second = EmaStabilizer.create({ strength: 0.7 });
    second.restoreState(state);
    for (const [i, f] of frames.slice(6).entries()) {
      expect(second.process(f).planes[0]!.data).toEqual(expected[6 + i]!.planes[0]!.data);
    }
  });

  test('works on every plane of YUV and on rgb24, and as an async transform', async () => {
    const ema = EmaStabilizer.create();
    const yuv = createFrame({ width: 16, height: 16, format: 'yuv420p' });
    yuv.planes[2]!.data.fill(90);
    expect(ema.process(yuv).planes[2]!.data[0]).toBe(90);
    const rgb = createFrame({ width: 8, height: 8, format: 'rgb24' });
    expect(EmaStabilizer.create().process(rgb).format).toBe('rgb24');
    async function* three(): AsyncGenerator<Frame> {
      for (let i = 0; i < 3; i++) yield gray(() => 100, i);
    }
    const pts: number[] = [];
    for await (const f of EmaStabilizer.create().transform(three())) pts.push(f.pts);
    expect(pts).toEqual([0, 1, 2]);
    expect(() => EmaStabilizer.create({ strength: 1.5 })).toThrow(RangeError);
    expect(() => ema.process(createFrame({ width: 4, height: 4, format: 'rgbf32' }))).toThrow(TypeError);
  });
});

test('SceneCutDetector flags a shot change once, not motion within a shot', () => {
  const d = SceneCutDetector.create();
  const flags: boolean[] = [];
  for (let i = 0; i < 6; i++) flags.push(d.process(gray((x, y) => 50 + ((x + i * 3 + y) % 40))));
  for (let i = 0; i < 6; i++) flags.push(d.process(gray((x) => 180 + ((x * 2 + i) % 60))));
  expect(flags.filter(Boolean)).toHaveLength(1);
  expect(flags[6]).toBe(true);
});

test('Deflicker evens out brightness pumping but keeps a static scene as it is', () => {
  const df = Deflicker.create({ window: 5 });
  const outMeans: number[] = [];
  const inMeans: number[] = [];
  for (let i = 0; i < 20; i++) {
    const input = gray((x, y) => scene(x, y) + (i % 2 ? 12 : -12));
    inMeans.push(meanLuma(lumaOf(input)));
    outMeans.push(meanLuma(lumaOf(df.process(input))));
  }
  const swing = (s: number[]): number => Math.max(...s.slice(10)) - Math.min(...s.slice(10));
  expect(swing(outMeans)).toBeLessThan(swing(inMeans) / 3);
  const steady = Deflicker.create();
  const still = gray(scene);
  for (let i = 0; i < 5; i++) expect(steady.process(still).planes[0]!.data).toEqual(still.planes[0]!.data);
});

test('EdgeStabilizer holds an outline that blinks and follows one that really moves', () => {
  const es = EdgeStabilizer.create();
  const edge = (col: number): Frame => gray((x) => (x === col ? 255 : 0));
  const blank = gray(() => 0);
  let out = es.process(edge(10));
  const seen: number[] = [];
  for (let i = 0; i < 7; i++) {
    out = es.process(i % 2 ? edge(10) : blank);
    seen.push(out.planes[0]!.data[10]!);
  }
  // The blinking column stays on in every output, the blank frames included (the last one is blank).
  expect(seen).toEqual([255, 255, 255, 255, 255, 255, 255]);
  es.process(blank);
  out = es.process(blank);
  out = es.process(blank);
  expect(out.planes[0]!.data[10]).toBe(0);
  expect(() => EdgeStabilizer.create({ low: 200, high: 100 })).toThrow(RangeError);
});

test('the WebAssembly SIMD kernel and the TypeScript kernel give identical frames', () => {
  // Extreme settings included: full-range values with large jumps, threshold 1, motion off.
  for (const options of [
    { strength: 0.8, motionThreshold: 30 },
    { strength: 0.95, motionThreshold: 1 },
    { strength: 0.95, motionThreshold: 255 },
    { strength: 0.3, motionThreshold: 0 },
  ]) {
    const simd = EmaStabilizer.create(options);
    const portable = EmaStabilizer.create({ ...options, kernel: 'typescript' });
    expect(simd.kernel).toBe('wasm-simd');
    expect(portable.kernel).toBe('typescript');
    for (let i = 0; i < 12; i++) {
      // Odd sizes (not a multiple of 16) exercise the padded tail; motion and a cut at frame 8.
      const f = createFrame({ width: 37, height: 23, format: 'yuv420p', pts: i });
      const r = rng(i + 1);
      for (const p of f.planes) {
        const d = p.data as Uint8Array;
        for (let k = 0; k < d.length; k++)
          d[k] =
            i % 3 === 2
              ? r() < 0.5
                ? 0
                : 255
              : Math.max(0, Math.min(255, (i < 8 ? 90 : 200) + (k % 37) * 2 + r() * 60));
      }
      const a = simd.process(f);
      const b = portable.process(f);
      for (let p = 0; p < 3; p++) expect(a.planes[p]!.data).toEqual(b.planes[p]!.data);
      const sa = simd.exportState()!;
      const sb = portable.exportState()!;
      for (let p = 0; p < 3; p++) expect(sa.planes[p]).toEqual(sb.planes[p]!);
    }
  }
});

test('the deflicker SIMD kernel and the TypeScript path give identical frames, strided or not', () => {
  for (const format of ['rgb24', 'gray8', 'yuv420p'] as const) {
    const simd = Deflicker.create({ window: 4, maxGain: 1.6 });
    const portable = Deflicker.create({ window: 4, maxGain: 1.6, kernel: 'typescript' });
    expect(simd.kernel).toBe('wasm-simd');
    expect(portable.kernel).toBe('typescript');
    for (let i = 0; i < 8; i++) {
      // Brightness pumps by ±30 % every other frame; 37×23 leaves a tail after 16-byte chunks.
      const f = createFrame({ width: 37, height: 23, format, pts: i });
      const r = rng(i + 7);
      for (const p of f.planes) {
        const d = p.data as Uint8Array;
        for (let k = 0; k < d.length; k++)
          d[k] = Math.min(255, Math.round((40 + r() * 200) * (i % 2 ? 1.3 : 0.7)));
      }
      const strided = createFrame({ width: 37, height: 23, format, pts: i, align: 64 });
      const a = simd.process(f);
      const b = portable.process(f, strided);
      expect(simd.lastGain).toBe(portable.lastGain);
      const pa = a.planes[0]!;
      const pb = b.planes[0]!;
      const cols = format === 'rgb24' ? 37 * 3 : 37;
      for (let y = 0; y < 23; y++) {
        expect(pa.data.subarray(y * pa.stride, y * pa.stride + cols)).toEqual(
          pb.data.subarray(y * pb.stride, y * pb.stride + cols),
        );
      }
    }
  }
  expect(() => Deflicker.create({ maxGain: 8 })).toThrow(RangeError);
});

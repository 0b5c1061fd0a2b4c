import { describe, expect, test } from 'bun:test';
import type { LumaView } from './luma.ts';
import { ssimBox } from './ssim-box.ts';
import { band, ParallelSsim } from './ssim-parallel.ts';

function noisy(width: number, height: number, seed: number, stride = width): LumaView {
  const data = new Uint8Array(stride * height);
  let s = seed;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      s = (s * 1664525 + 1013904223) >>> 0;
      data[y * stride + x] = (100 + 60 * Math.sin(x / 7) * Math.cos(y / 5) + (s >>> 27)) | 0;
    }
  return { data, stride, width, height };
}

describe('ParallelSsim', () => {
  test('bands cover every scored block row once, whatever the share', () => {
    for (const bh of [2, 3, 5, 17, 270])
      for (const threads of [2, 3, 4, 8])
        for (const share of [0, 0.3, 0.46, 1]) {
          const scored: number[] = [];
          for (let t = 0; t < threads; t++) {
            const [by0, by1] = band(bh, t, threads, share);
            for (let by = by0 + 1; by < by1; by++) scored.push(by);
          }
          expect(scored).toEqual(Array.from({ length: bh - 1 }, (_, i) => i + 1));
        }
  });

  test('gives exactly the single-threaded box SSIM for 1 to 4 threads, sizes and strides', async () => {
    const cases: [number, number, number][] = [
      [8, 8, 8],
      [13, 9, 16],
      [96, 40, 96],
      [211, 131, 240],
      [640, 360, 640],
    ];
    for (const threads of [1, 2, 3, 4]) {
      await using pool = await ParallelSsim.create({ threads });
      expect(pool.threads).toBe(threads);
      for (const [w, h, stride] of cases) {
        const a = noisy(w, h, 1, stride);
        const b = noisy(w, h, 2);
        // The same images again after a larger one: buffers sized for the largest stay correct.
        expect(pool.ssim(a, b)).toBe(ssimBox(a, b));
        expect(pool.ssim(a, a)).toBe(1);
      }
      const [w, h] = [96, 40];
      expect(pool.ssim(noisy(w, h, 3), noisy(w, h, 4))).toBe(ssimBox(noisy(w, h, 3), noisy(w, h, 4)));
    }
  });

  test('scores frames written into inputs() without copying them, alone or next to an outside frame', async () => {
    for (const threads of [1, 2, 3]) {
      await using pool = await ParallelSsim.create({ threads });
      for (const [w, h] of [
        [640, 362],
        [13, 9],
        [211, 131],
      ] as const) {
        const a = noisy(w, h, 5);
        const b = noisy(w, h, 6);
        const expected = ssimBox(a, b);
        const planes = pool.inputs(w, h);
        expect(planes.a.data.length).toBe(w * h);
        expect(planes.a.stride).toBe(w);
        planes.a.data.set(a.data);
        planes.b.data.set(b.data);
        expect(pool.ssim(planes.a, planes.b)).toBe(expected);
        // The planes are scored in place: a change there changes the score.
        planes.b.data.fill(0, 0, w * 4);
        const changed = new Uint8Array(b.data);
        changed.fill(0, 0, w * 4);
        expect(pool.ssim(planes.a, planes.b)).toBe(ssimBox(a, { ...b, data: changed }));
        planes.b.data.set(b.data);
        // The planes in swapped roles, one plane for both: scored in place, nothing written.
        expect(pool.ssim(planes.b, planes.a)).toBe(ssimBox(b, a));
        expect(pool.ssim(planes.a, planes.a)).toBe(1);
        expect(planes.a.data).toEqual(a.data);
        expect(planes.b.data).toEqual(b.data);
        // One plane in place, an outside frame copied into the other plane (either one).
        const c = noisy(w, h, 11);
        expect(pool.ssim(planes.a, c)).toBe(ssimBox(a, c));
        // (The rows SSIM reads are copied: all but the last height % 4.)
        const read = Math.floor(h / 4) * 4 * w;
        expect(planes.a.data).toEqual(a.data);
        expect(planes.b.data.subarray(0, read)).toEqual(c.data.subarray(0, read));
        planes.b.data.set(b.data);
        expect(pool.ssim(c, planes.b)).toBe(ssimBox(c, b));
        expect(planes.b.data).toEqual(b.data);
        expect(planes.a.data.subarray(0, read)).toEqual(c.data.subarray(0, read));
      }
    }
  });

  test('inputs() planes stay usable after larger frames grew the memory', async () => {
    await using pool = await ParallelSsim.create({ threads: 2 });
    const small = pool.inputs(64, 48);
    const [a, b] = [noisy(64, 48, 7), noisy(64, 48, 8)];
    small.a.data.set(a.data);
    small.b.data.set(b.data);
    expect(pool.ssim(small.a, small.b)).toBe(ssimBox(a, b));
    const [bigA, bigB] = [noisy(1280, 720, 9), noisy(1280, 720, 10)];
    expect(pool.ssim(bigA, bigB)).toBe(ssimBox(bigA, bigB));
    // The larger pair overwrote the planes' contents; written again, they score right again.
    small.a.data.set(a.data);
    small.b.data.set(b.data);
    expect(pool.ssim(small.a, small.b)).toBe(ssimBox(a, b));
    expect(() => pool.inputs(7, 48)).toThrow(/8x8/);
    expect(() => pool.inputs(64.5, 48)).toThrow(/8x8/);
    await pool.close();
    expect(() => pool.inputs(64, 48)).toThrow(/closed/);
  });

  test('a frame that cannot be read mid-copy throws, and the pool scores the next pair right', async () => {
    await using pool = await ParallelSsim.create({ threads: 2 });
    const [a, b] = [noisy(640, 360, 12), noisy(640, 360, 13)];
    const gone = noisy(640, 360, 14);
    const buffer = gone.data.buffer as ArrayBuffer;
    structuredClone(buffer, { transfer: [buffer] }); // detaches the frame's buffer
    expect(() => pool.ssim(a, gone)).toThrow(/detached/);
    expect(pool.ssim(a, b)).toBe(ssimBox(a, b));
  });

  test('rejects bad thread counts, mismatched or tiny images, and use after close; closes twice', async () => {
    await expect(ParallelSsim.create({ threads: 0 })).rejects.toThrow(/options\.threads/);
    await expect(ParallelSsim.create({ threads: 1.5 })).rejects.toThrow(/options\.threads/);
    const pool = await ParallelSsim.create({ threads: 2 });
    expect(() => pool.ssim(noisy(16, 16, 1), noisy(16, 17, 1))).toThrow(/16x16 frame for b/);
    expect(() => pool.ssim(noisy(7, 16, 1), noisy(7, 16, 1))).toThrow(/8x8/);
    await pool.close();
    await pool.close();
    expect(() => pool.ssim(noisy(16, 16, 1), noisy(16, 16, 1))).toThrow(/closed/);
  });
});

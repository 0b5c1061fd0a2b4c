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

import { describe, expect, test } from 'bun:test';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createFrame } from '@framecraft/core';
import { VideoFilter } from '@framecraft/io';
import { tempDir } from '@framecraft/test-utils';
import type { LumaView } from './luma.ts';
import { ssim } from './ssim.ts';
import { boxKernelName, ssimBox } from './ssim-box.ts';

/** A smooth picture with texture and a distorted copy (noise, blur-like shift, contrast change). */
function pair(width: number, height: number, amount: number, seed: number): [LumaView, LumaView] {
  const a = new Uint8Array(width * height);
  const b = new Uint8Array(width * height);
  let s = seed;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = 128 + 70 * Math.sin(x / 9 + y / 23) * Math.cos(y / 6) + ((x * 7 + y * 13) % 17) - 8;
      s = (s * 1103515245 + 12345) >>> 0;
      const n = ((s >>> 16) / 65536 - 0.5) * 2 * amount;
      a[y * width + x] = Math.max(0, Math.min(255, Math.round(v)));
      b[y * width + x] = Math.max(0, Math.min(255, Math.round(0.9 * v + 10 + n)));
    }
  }
  return [
    { data: a, stride: width, width, height },
    { data: b, stride: width, width, height },
  ];
}

/** FFmpeg's own `ssim` filter, run in-process on the pair stacked into one frame. */
async function ffmpegSsim(a: LumaView, b: LumaView, dir: string): Promise<number> {
  const { width: w, height: h } = a;
  const stacked = createFrame({ width: w, height: 2 * h, format: 'gray8' });
  const p = stacked.planes[0]!;
  const d = p.data as Uint8Array;
  for (let y = 0; y < h; y++) {
    d.set(a.data.subarray(y * a.stride, y * a.stride + w), y * p.stride);
    d.set(b.data.subarray(y * b.stride, y * b.stride + w), (y + h) * p.stride);
  }
  const stats = join(dir, `ssim-${w}x${h}.log`);
  const graph = `split[x][y];[x]crop=${w}:${h}:0:0[a];[y]crop=${w}:${h}:0:${h}[b];[a][b]ssim=stats_file=${stats}`;
  {
    using filter = await VideoFilter.create(graph);
    filter.process(stacked);
  }
  const line = await readFile(stats, 'utf8');
  const y = /Y:([\d.]+)/.exec(line);
  if (y === null) throw new Error(`no SSIM in FFmpeg's stats: ${line}`);
  return Number(y[1]);
}

describe('ssim with box windows', () => {
  test('gives FFmpeg ssim filter values (odd sizes, several distortions)', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      for (const [w, h, amount] of [
        [64, 48, 5],
        [203, 117, 20],
        [8, 8, 30],
        [330, 61, 60],
      ] as const) {
        const [a, b] = pair(w, h, amount, w + h);
        const theirs = await ffmpegSsim(a, b, dir);
        // FFmpeg prints six decimals.
        expect(Math.abs(ssim(a, b, undefined, { window: 'box' }) - theirs)).toBeLessThan(2e-6);
      }
    } finally {
      await cleanup();
    }
  });

  test('the WebAssembly kernel and the TypeScript path agree; strided views work', () => {
    expect(boxKernelName()).toBe('wasm-simd');
    for (const [w, h] of [
      [8, 8],
      [17, 9],
      [96, 40],
      [211, 131],
    ] as const) {
      const [a, b] = pair(w, h, 25, 7);
      expect(Math.abs(ssimBox(a, b) - ssimBox(a, b, true))).toBeLessThan(1e-6);
      const padded: LumaView = { data: new Uint8Array((w + 5) * h), stride: w + 5, width: w, height: h };
      for (let y = 0; y < h; y++) padded.data.set(b.data.subarray(y * w, y * w + w), y * (w + 5));
      expect(ssimBox(a, padded)).toBe(ssimBox(a, b));
      expect(ssim(a, a, undefined, { window: 'box' })).toBe(1);
    }
  });

  test('falls as distortion grows and rejects images under 8x8 or an unknown window', () => {
    const scores = [2, 10, 40, 90].map((n) => {
      const [a, b] = pair(120, 80, n, 3);
      return ssim(a, b, undefined, { window: 'box' });
    });
    for (let i = 1; i < scores.length; i++) expect(scores[i]!).toBeLessThan(scores[i - 1]!);
    const [a, b] = pair(7, 20, 5, 1);
    expect(() => ssim(a, b, undefined, { window: 'box' })).toThrow('at least 8x8');
    const [c, d] = pair(20, 20, 5, 1);
    expect(() => ssim(c, d, undefined, { window: 'flat' as 'box' })).toThrow(RangeError);
  });
});

import { describe, expect, test } from 'bun:test';
import type { LumaView } from './luma.ts';
import { createSsimScratch, ssim } from './ssim.ts';

function image(width: number, height: number, fn: (x: number, y: number) => number): LumaView {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) data[y * width + x] = Math.max(0, Math.min(255, Math.round(fn(x, y))));
  return { data, stride: width, width, height };
}

function noisy(src: LumaView, amount: number, seed = 1): LumaView {
  let s = seed;
  return image(src.width, src.height, (x, y) => {
    s = (s * 1103515245 + 12345) >>> 0;
    return src.data[y * src.stride + x]! + ((s >>> 16) / 65536 - 0.5) * 2 * amount;
  });
}

/** Direct transcription of Wang et al.'s reference: 2D Gaussian window, 'valid' filtering, doubles. */
function referenceSsim(a: LumaView, b: LumaView): number {
  const r = 5;
  const w: number[][] = [];
  let sum = 0;
  for (let i = -r; i <= r; i++) {
    const row: number[] = [];
    for (let j = -r; j <= r; j++) {
      const v = Math.exp(-(i * i + j * j) / (2 * 1.5 * 1.5));
      row.push(v);
      sum += v;
    }
    w.push(row);
  }
  const C1 = (0.01 * 255) ** 2;
  const C2 = (0.03 * 255) ** 2;
  let total = 0;
  let n = 0;
  for (let y = r; y < a.height - r; y++) {
    for (let x = r; x < a.width - r; x++) {
      let ma = 0;
      let mb = 0;
      let aa = 0;
      let bb = 0;
      let ab = 0;
      for (let i = -r; i <= r; i++) {
        for (let j = -r; j <= r; j++) {
          const k = w[i + r]![j + r]! / sum;
          const va = a.data[(y + i) * a.stride + x + j]!;
          const vb = b.data[(y + i) * b.stride + x + j]!;
          ma += k * va;
          mb += k * vb;
          aa += k * va * va;
          bb += k * vb * vb;
          ab += k * va * vb;
        }
      }
      total +=
        ((2 * ma * mb + C1) * (2 * (ab - ma * mb) + C2)) /
        ((ma * ma + mb * mb + C1) * (aa - ma * ma + bb - mb * mb + C2));
      n++;
    }
  }
  return total / n;
}

describe('ssim', () => {
  const base = image(64, 48, (x, y) => 128 + 60 * Math.sin(x / 5) * Math.cos(y / 7) + (x % 9 === 0 ? 40 : 0));

  test('identical images score 1', () => {
    expect(ssim(base, base)).toBeCloseTo(1, 10);
  });

  test('matches the reference algorithm on noisy, shifted and contrast-changed images', () => {
    const cases = [
      noisy(base, 10),
      noisy(base, 40, 3),
      image(64, 48, (x, y) => base.data[y * 64 + Math.min(63, x + 1)]!),
      image(64, 48, (x, y) => 0.5 * base.data[y * 64 + x]! + 60),
    ];
    for (const other of cases) {
      expect(Math.abs(ssim(base, other, undefined, { step: 1 }) - referenceSsim(base, other))).toBeLessThan(
        1e-5,
      );
      // The default spacing samples the same map; it stays close to the full evaluation.
      expect(Math.abs(ssim(base, other) - referenceSsim(base, other))).toBeLessThan(0.01);
    }
  });

  test('falls as noise grows, is symmetric, and reuses scratch', () => {
    const scratch = createSsimScratch(64, 48);
    const scores = [5, 15, 40, 80].map((n) => ssim(base, noisy(base, n), scratch));
    for (let i = 1; i < scores.length; i++) expect(scores[i]!).toBeLessThan(scores[i - 1]!);
    const other = noisy(base, 20);
    expect(ssim(base, other)).toBeCloseTo(ssim(other, base), 10);
  });

  test('works on strided views and rejects mismatched or tiny images', () => {
    const padded: LumaView = { data: new Uint8Array(80 * 48), stride: 80, width: 64, height: 48 };
    for (let y = 0; y < 48; y++) padded.data.set(base.data.subarray(y * 64, y * 64 + 64), y * 80);
    expect(ssim(base, padded)).toBeCloseTo(1, 10);
    expect(() =>
      ssim(
        base,
        image(32, 48, () => 0),
      ),
    ).toThrow(RangeError);
    expect(() =>
      ssim(
        image(8, 8, () => 0),
        image(8, 8, () => 0),
      ),
    ).toThrow('at least 11x11');
  });
});

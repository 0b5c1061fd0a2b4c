import { afterAll, describe, expect, test } from 'bun:test';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createFrame, type Frame } from '@framecraft/core';
import { tempDir } from '@framecraft/test-utils';
import { MetricsCollector, summarize } from './collector.ts';
import { lumaOf } from './luma.ts';
import { ssim } from './ssim.ts';

function gray(value: (x: number, y: number) => number): Frame {
  const f = createFrame({ width: 32, height: 24, format: 'gray8' });
  const d = f.planes[0]!.data as Uint8Array;
  for (let y = 0; y < 24; y++) for (let x = 0; x < 32; x++) d[y * 32 + x] = value(x, y);
  return f;
}

const { dir, cleanup } = await tempDir();
afterAll(() => cleanup());

describe('MetricsCollector', () => {
  test('writes one JSON line per sampled frame with the design log fields, and a summary', async () => {
    const path = join(dir, 'metrics.jsonl');
    const c = await MetricsCollector.create({ style: 'pencil', path, sampleEvery: 3 });
    for (let i = 0; i < 8; i++) {
      const input = gray((x, y) => (x * 7 + y * 3 + i * 5) & 255);
      const output = gray((x, y) => 255 - ((x * 7 + y * 3 + i * 5) & 255) + (i % 2) * 8);
      await c.record(i, input, output, 0.01 * (i + 1));
    }
    const summary = await c.close();
    const lines = (await readFile(path, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.frame_idx)).toEqual([0, 3, 6]);
    for (const key of [
      'frame_idx',
      'style',
      'processing_time',
      'edge_coherence',
      'ssim',
      'sharpness',
      'mse',
      'psnr',
      'mean_luma',
    ]) {
      expect(lines[1]).toHaveProperty(key);
    }
    expect(lines[0].style).toBe('pencil');
    expect(lines[0].temporal_consistency).toBeUndefined();
    expect(lines[1].temporal_consistency).toBeGreaterThan(0);
    expect(summary.frames).toBe(8);
    expect(summary.sampled).toBe(3);
    expect(summary.metrics.processing_time?.max).toBeCloseTo(0.07, 10);
    expect(summary.global_flicker).toBeGreaterThan(1);
    const onDisk = JSON.parse(await readFile(join(dir, 'metrics.summary.json'), 'utf8'));
    expect(onDisk).toEqual(JSON.parse(JSON.stringify(summary)));
  });

  test('metrics can be switched off and nothing is written without a path', async () => {
    const c = await MetricsCollector.create({
      style: 'x',
      metrics: { ssim: false, edgeCoherence: false, temporal: false },
    });
    const rec = await c.record(
      0,
      gray(() => 10),
      gray(() => 12),
      0.5,
    );
    expect(rec).not.toHaveProperty('ssim');
    expect(rec).not.toHaveProperty('edge_coherence');
    expect(rec?.mse).toBe(4);
    expect((await c.close()).sampled).toBe(1);
    await expect(MetricsCollector.create({ style: 'x', sampleEvery: 0 })).rejects.toThrow(RangeError);
    await expect(MetricsCollector.create({ style: 'x', ssim: { window: 'flat' as 'box' } })).rejects.toThrow(
      'options.ssim.window',
    );
  });

  test('SSIM options reach the metric: box windows give their own value', async () => {
    const input = gray((x, y) => 100 + ((x * 5 + y * 3) % 40));
    const output = gray((x, y) => 104 + ((x * 5 + y * 7) % 37));
    const box = await MetricsCollector.create({ style: 'x', ssim: { window: 'box' } });
    const gaussian = await MetricsCollector.create({ style: 'x' });
    const b = (await box.record(0, input, output, 0.01))?.ssim;
    const g = (await gaussian.record(0, input, output, 0.01))?.ssim;
    expect(b).toBe(ssim(lumaOf(input), lumaOf(output), undefined, { window: 'box' }));
    expect(g).toBe(ssim(lumaOf(input), lumaOf(output)));
    expect(b).not.toBe(g);
    await box.close();
    await gaussian.close();
  });
});

test('summarize gives mean, min, max and interpolated percentiles', () => {
  const s = summarize([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  expect(s).toEqual({ count: 11, mean: 6, min: 1, max: 11, p5: 1.5, p50: 6, p95: 10.5 });
  expect(summarize([]).count).toBe(0);
});

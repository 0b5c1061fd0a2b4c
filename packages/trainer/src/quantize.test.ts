import { afterAll, describe, expect, test } from 'bun:test';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VideoFilter } from '@framecraft/io';
import { writeTestClip } from '@framecraft/io/testing';
import { lumaOf, ssim } from '@framecraft/metrics';
import { frameToTensor, ModelRegistry, OnnxSession, tensorToFrame } from '@framecraft/ml';
import { mosaic } from '@framecraft/model-mosaic';
import { decodeAll, tempDir } from '@framecraft/test-utils';
import { INT8_BOUNDS, quantizeRegistered } from './quantize.ts';

const { dir, cleanup } = await tempDir();
afterAll(cleanup);

/** Every file under a folder, relative, sorted (to show the registry is as it was). */
async function tree(folder: string): Promise<string[]> {
  try {
    return (await readdir(folder, { recursive: true })).sort();
  } catch {
    return [];
  }
}

describe('int8 quantization of a registered model', () => {
  test('the real mosaic model: a new version within its measured quality, the float one still named', async () => {
    const clip = join(dir, 'calibrate.mp4');
    await writeTestClip(clip, { width: 192, height: 108, frames: 12, pattern: 'scene' });
    const registry = new ModelRegistry(join(dir, 'models'), { builtIn: [mosaic] });
    const messages: string[] = [];
    const result = await quantizeRegistered({
      registry,
      model: 'mosaic',
      clips: [clip],
      framesPerClip: 6,
      onProgress: (m) => messages.push(m),
    });
    const m = result.manifest;
    expect([m.name, m.version, m.quantized?.from, m.quantized?.precision]).toEqual([
      'mosaic',
      'v2',
      'v1',
      'int8',
    ]);
    expect(messages[0]).toBe('3 calibration and 3 held-out frames from 1 clip(s)');
    // The last convolution (3 outputs) stays in float; most run in int8.
    expect(m.quantized?.floatNodes.map((n) => n.node)).toContain('conv_128');
    expect(m.quantized?.int8Nodes).toBeGreaterThanOrEqual(10);
    const metrics = m.metrics!;
    expect(metrics.heldOutSsimMin).toBeGreaterThanOrEqual(INT8_BOUNDS.ssim);
    expect(metrics.heldOutPsnrMin).toBeGreaterThanOrEqual(INT8_BOUNDS.psnr);
    // Promotion follows the figures (speed is measured, so either outcome is possible here).
    expect(result.promoted).toBe((metrics.speedup as number) > 1.05);
    expect((await registry.resolve('mosaic')).manifest.version).toBe(result.promoted ? 'v2' : 'v1');
    expect((await registry.resolveRef('mosaic@v1')).path).toBe(mosaic.path);
    // The registered file keeps the bounds on a frame the calibration did not see.
    const frames = await decodeAll(clip, 'rgb24');
    using scale = await VideoFilter.create('scale=192:108:flags=area,format=rgb24');
    const frame = scale.process(frames[3]!)[0]!;
    const dims = [1, 3, frame.height, frame.width];
    const f32 = await OnnxSession.create(mosaic.path);
    const i8 = await OnnxSession.create((await registry.resolveRef('mosaic@v2')).path);
    const a = tensorToFrame((await f32.run(frameToTensor(frame), dims)).data, frame.width, frame.height);
    const b = tensorToFrame((await i8.run(frameToTensor(frame), dims)).data, frame.width, frame.height);
    expect(ssim(lumaOf(a), lumaOf(b))).toBeGreaterThanOrEqual(INT8_BOUNDS.ssim);
    await Promise.all([f32.close(), i8.close()]);
  }, 600_000);

  test('clips that cannot calibrate, and a damaged model, leave the registry as it was', async () => {
    const registry = new ModelRegistry(join(dir, 'models-bad'), { builtIn: [mosaic] });
    const one = join(dir, 'one-frame.mp4');
    await writeTestClip(one, { width: 64, height: 48, frames: 1 });
    const before = await tree(registry.dir);
    await expect(quantizeRegistered({ registry, model: 'mosaic', clips: [one] })).rejects.toThrow(
      `${one}: 1 frame; calibration needs at least 2 from each clip`,
    );
    const missing = join(dir, 'missing.mp4');
    await expect(quantizeRegistered({ registry, model: 'mosaic', clips: [missing] })).rejects.toThrow(
      missing,
    );
    await expect(quantizeRegistered({ registry, model: 'mosaic', clips: [] })).rejects.toMatchObject({
      code: 'ERR_DATASET',
    });
    await expect(quantizeRegistered({ registry, model: 'nothing', clips: [one] })).rejects.toMatchObject({
      code: 'ERR_MODEL_NOT_FOUND',
    });
    expect(await tree(registry.dir)).toEqual(before);
    // A registered file damaged on disk is named, and nothing is added beside it.
    const file = join(dir, 'copy.onnx');
    await writeFile(file, await Bun.file(mosaic.path).bytes());
    await registry.add(file, { name: 'copy' });
    const path = (await registry.resolve('copy')).path;
    await writeFile(path, 'not a model');
    const added = await tree(registry.dir);
    await expect(quantizeRegistered({ registry, model: 'copy', clips: [one] })).rejects.toThrow(
      `Could not load the ONNX model ${path}`,
    );
    expect(await tree(registry.dir)).toEqual(added);
  });
});

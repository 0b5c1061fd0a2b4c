import { describe, expect, test } from 'bun:test';
import { createFrame, type Frame } from '@framecraft/core';
import { affineModel } from '@framecraft/test-utils';
import { cudaSupport } from './cuda.ts';
import { frameToTensor, type TensorLayout, tensorToFrame } from './layout.ts';
import { ModelLoadError, OnnxSession } from './session.ts';
import { runTiled, tileSpan, tileStarts } from './tiled.ts';

function picture(width: number, height: number): Frame {
  const f = createFrame({ width, height, format: 'rgb24', pts: 7 });
  const d = f.planes[0]!.data as Uint8Array;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = y * f.planes[0]!.stride + x * 3;
      d[i] = (x * 3 + y) & 255;
      d[i + 1] = (y * 5) & 255;
      d[i + 2] = (x ^ y) & 255;
    }
  return f;
}

describe('tensor layout and range', () => {
  test('every layout, channel order and range round-trips, and puts values where the model expects them', () => {
    const f = picture(5, 3);
    const px = (x: number, y: number, c: number): number =>
      f.planes[0]!.data[y * f.planes[0]!.stride + x * 3 + c]!;
    for (const layout of ['nchw', 'nhwc'] as const)
      for (const channels of ['rgb', 'bgr'] as const)
        for (const range of [255, 1] as const) {
          const l: TensorLayout = { layout, channels, range };
          const t = frameToTensor(f, l);
          // Pixel (4, 2), first channel of the model's order.
          const first = channels === 'rgb' ? 0 : 2;
          const at = layout === 'nchw' ? 2 * 5 + 4 : (2 * 5 + 4) * 3;
          expect(t[at]).toBeCloseTo(px(4, 2, first) / (range === 255 ? 1 : 255), 6);
          const back = tensorToFrame(t, 5, 3, l);
          expect(back.planes[0]!.data).toEqual(f.planes[0]!.data);
        }
  });

  test('output is rounded and clipped to 0-255; regions are cut out exactly', () => {
    const t = Float32Array.from([-20, 300, 127.6, 0.4, 255, 256]);
    const f = tensorToFrame(t, 2, 1, { layout: 'nhwc', channels: 'rgb', range: 255 });
    expect(Array.from(f.planes[0]!.data.subarray(0, 6))).toEqual([0, 255, 128, 0, 255, 255]);
    const whole = picture(9, 7);
    const part = frameToTensor(whole, undefined, { x: 2, y: 3, width: 4, height: 2 });
    expect(part[0]).toBe(whole.planes[0]!.data[3 * 27 + 2 * 3]!);
    expect(() => frameToTensor(whole, undefined, { x: 7, y: 0, width: 4, height: 2 })).toThrow(RangeError);
  });
});

describe('OnnxSession', () => {
  test('loads a model from bytes, introspects its dynamic axes, falls back to the CPU with a reason', async () => {
    const logs: string[] = [];
    const s = await OnnxSession.create(affineModel(0.5, 10), { onLog: (m) => logs.push(m) });
    expect(s.inputs).toEqual([{ name: 'input', type: 'float32', shape: [1, 3, 'height', 'width'] }]);
    expect(s.outputs[0]?.name).toBe('output');
    // No GPU here: CUDA is refused with its reason (before ONNX Runtime is asked, where the
    // provider libraries or the driver are missing), the CPU runs.
    if (s.provider === 'cpu') {
      expect(s.providerReason).toMatch(/^no CUDA: .{10,}$/);
      expect(logs).toEqual([`ONNX Runtime: running on CPU (${s.providerReason})`]);
    }
    if (!cudaSupport().available) expect(s.provider).toBe('cpu');
    const res = await s.run(Float32Array.from([0, 2, 4, 6, 8, 10]), [1, 3, 1, 2]);
    expect(Array.from(res.data)).toEqual([10, 11, 12, 13, 14, 15]);
    await s.close();
    const cpu = await OnnxSession.create(affineModel(1, 0), { provider: 'cpu', threads: 1 });
    expect([cpu.provider, cpu.providerReason]).toEqual(['cpu', 'asked for CPU']);
    await cpu.close();
  });

  test('a missing or broken model is a clear error naming it', async () => {
    await expect(OnnxSession.create('/nonexistent/model.onnx', { provider: 'cpu' })).rejects.toThrow(
      /^Could not load the ONNX model \/nonexistent\/model\.onnx: /,
    );
    const err = await OnnxSession.create(Uint8Array.from([1, 2, 3, 4]), { provider: 'cpu' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ModelLoadError);
    expect((err as ModelLoadError).code).toBe('ERR_MODEL_LOAD');
  });
});

describe('stability under this runtime', () => {
  test('hundreds of inferences and sessions created and released in a row', async () => {
    const model = affineModel(1, 1);
    for (let k = 0; k < 20; k++) {
      const s = await OnnxSession.create(model, { provider: 'cpu', threads: 1 });
      const input = new Float32Array(3 * 32 * 48).fill(k);
      for (let i = 0; i < 20; i++) {
        const res = await s.run(input, [1, 3, 32, 48]);
        expect(res.data[0]).toBe(k + 1);
      }
      await s.close();
    }
  });
});

describe('a session on a thread of its own', () => {
  test('gives what the session in this thread gives, runs in order, and closes', async () => {
    const model = affineModel(0.5, 3);
    const here = await OnnxSession.create(model, { provider: 'cpu' });
    const logs: string[] = [];
    const there = await OnnxSession.create(model, {
      provider: 'auto',
      thread: true,
      onLog: (m) => logs.push(m),
    });
    expect(there.threaded).toBe(true);
    expect(here.threaded).toBe(false);
    expect(there.inputs).toEqual(here.inputs);
    expect(there.outputs).toEqual(here.outputs);
    // No CUDA here: the thread fell back to the CPU and said why, through the parent's log.
    if (!cudaSupport().available) {
      expect(there.provider).toBe('cpu');
      expect(there.providerReason).toStartWith('no CUDA: ');
      expect(logs.some((l) => l.includes('running on CPU'))).toBe(true);
    }
    const f = picture(37, 23);
    const input = frameToTensor(f);
    const kept = input.slice();
    // Several runs in flight at once come back matched to their inputs.
    const runs = await Promise.all(
      [0, 1, 2, 3].map((k) =>
        there.run(
          input.map((v) => v + k),
          [1, 3, 23, 37],
        ),
      ),
    );
    // The caller's array is its own after the run (a copy went to the thread).
    expect(input).toEqual(kept);
    const ref = await here.run(input, [1, 3, 23, 37]);
    expect(runs[0]!.data).toEqual(ref.data);
    expect(runs[0]!.dims).toEqual(ref.dims);
    expect(runs[3]!.data[5]).toBeCloseTo(0.5 * (input[5]! + 3) + 3, 4);
    expect((await runTiled(there, f, { tile: 16, overlap: 4 })).planes[0]!.data).toEqual(
      (await runTiled(here, f, { tile: 16, overlap: 4 })).planes[0]!.data,
    );
    await there.close();
    await there.close();
    expect(await there.run(input, [1, 3, 23, 37]).catch((e: unknown) => e)).toBeInstanceOf(Error);
    await here.close();
  });

  test("a model the thread cannot load is ERR_MODEL_LOAD naming it; a run's failure comes back as an error", async () => {
    const err = await OnnxSession.create('/nonexistent/model.onnx', { thread: true }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ModelLoadError);
    expect((err as ModelLoadError).code).toBe('ERR_MODEL_LOAD');
    expect((err as Error).message).toContain('/nonexistent/model.onnx');
    const s = await OnnxSession.create(affineModel(1, 0), { thread: true });
    // Three values for a 1x3x2x2 input: ONNX Runtime refuses the shape.
    const failed = await s.run(new Float32Array(3), [1, 3, 2, 2]).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(Error);
    // The session still works afterwards.
    expect((await s.run(new Float32Array(12).fill(2), [1, 3, 2, 2])).data[0]).toBe(2);
    await s.close();
  });
});

describe('tiled inference', () => {
  test('tile positions: the fewest tiles overlapping by at least the overlap, evenly spread', () => {
    expect(tileStarts(100, 512, 32)).toEqual([0]);
    expect(tileStarts(1000, 512, 32)).toEqual([0, 244, 488]);
    expect(tileStarts(992, 512, 32)).toEqual([0, 480]);
    expect(tileStarts(1100, 512, 32)).toEqual([0, 294, 588]);
    // Tiles shrink to just cover the axis: 640 in 512-tiles is two of 336.
    expect(tileSpan(640, 512, 32)).toBe(336);
    expect(tileStarts(640, 336, 32)).toEqual([0, 304]);
    expect(tileSpan(300, 512, 32)).toBe(300);
  });

  test('tiles of a position-independent model blend back to exactly the whole-frame result, at odd sizes', async () => {
    const s = await OnnxSession.create(affineModel(0.75, 20), { provider: 'cpu' });
    for (const [w, h, tile, overlap] of [
      [97, 61, 32, 8],
      [130, 45, 64, 16],
      [40, 30, 64, 16],
      [257, 129, 128, 0],
    ] as const) {
      const f = picture(w, h);
      const whole = await runTiled(s, f, { tile: 4096 });
      const tiled = await runTiled(s, f, { tile, overlap });
      expect(tiled.planes[0]!.data).toEqual(whole.planes[0]!.data);
      // Padding to a multiple (edges repeated, output cropped) changes nothing for this model.
      expect((await runTiled(s, f, { tile, overlap, align: 16 })).planes[0]!.data).toEqual(
        whole.planes[0]!.data,
      );
      expect((await runTiled(s, f, { tile: 4096, align: 1 })).planes[0]!.data).toEqual(whole.planes[0]!.data);
      expect(tiled.pts).toBe(7);
      // And the model really ran: 0.75 · v + 20.
      expect(whole.planes[0]!.data[0]).toBe(Math.round(0.75 * f.planes[0]!.data[0]! + 20));
    }
    await expect(runTiled(s, picture(40, 40), { tile: 32, overlap: 16 })).rejects.toThrow(RangeError);
    await s.close();
  });

  test('an out-of-memory failure halves the tile and tries again', async () => {
    const real = await OnnxSession.create(affineModel(1, 5), { provider: 'cpu' });
    // A session that cannot allocate more than 128 × 128 pixels at once.
    const sizes: number[] = [];
    const tight = {
      run: async (data: Float32Array, dims: readonly number[]) => {
        sizes.push(dims[2]! * dims[3]!);
        if (dims[2]! * dims[3]! > 128 * 128)
          throw new Error('Failed to allocate memory for requested buffer');
        return real.run(data, dims);
      },
    } as unknown as OnnxSession;
    const retries: number[] = [];
    const f = picture(300, 200);
    const out = await runTiled(tight, f, { tile: 512, overlap: 32, onRetry: (tile) => retries.push(tile) });
    expect(retries).toEqual([256, 128]);
    expect(out.planes[0]!.data).toEqual((await runTiled(real, f, { tile: 4096 })).planes[0]!.data);
    // Other failures are not retried.
    const broken = { run: async () => Promise.reject(new Error('invalid input')) } as unknown as OnnxSession;
    await expect(runTiled(broken, f, { onRetry: () => retries.push(0) })).rejects.toThrow('invalid input');
    expect(retries).toEqual([256, 128]);
    await real.close();
  });
});

import { describe, expect, test } from 'bun:test';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { affineModel } from '@framecraft/test-utils';
import { isNarrowConv, rewriteNarrowConv } from './narrow-conv.ts';
import {
  attr,
  makeTensor,
  type OnnxModel,
  type OnnxNode,
  readOnnxModel,
  writeOnnxModel,
} from './onnx-model.ts';
import { upgradeOpset } from './opset.ts';
import {
  calibrate,
  MIN_INT8_CHANNELS,
  planQuantization,
  quantizeModel,
  RangeObserver,
  uint8Params,
} from './quantize.ts';
import { loadOrt, OnnxSession } from './session.ts';

/** Deterministic pseudo-random numbers in [-1, 1). */
function noise(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

/**
 * A small TransformerNet at the given opset: reflection pad, a 3×3 convolution 3 → 16, instance
 * norm, Relu, a residual block of two 16 → 16 convolutions, nearest ×2 upsampling then a stride-2
 * convolution back, and a 9×9 16 → 3 output convolution (too narrow for int8).
 */
function transformerNet(opset: 9 | 13): Uint8Array {
  const rnd = noise(7);
  const init = [];
  const nodes: OnnxNode[] = [];
  const conv = (name: string, input: string, cin: number, cout: number, k: number, stride = 1): string => {
    const fan = cin * k * k;
    init.push(
      makeTensor(
        `${name}_w`,
        'float',
        [cout, cin, k, k],
        Array.from({ length: cout * fan }, () => rnd() / Math.sqrt(fan)),
      ),
      makeTensor(
        `${name}_b`,
        'float',
        [cout],
        Array.from({ length: cout }, () => rnd() * 3),
      ),
    );
    const pad = (k - 1) >> 1;
    const padded = `${name}_pad`;
    nodes.push(
      opset === 9
        ? {
            op_type: 'Pad',
            name: `${name}_padding`,
            input: [input],
            output: [padded],
            attribute: [
              attr.string('mode', 'reflect'),
              { name: 'pads', type: 7, ints: [0, 0, pad, pad, 0, 0, pad, pad] },
            ],
          }
        : {
            op_type: 'Pad',
            name: `${name}_padding`,
            input: [input, `${name}_pads`],
            output: [padded],
            attribute: [attr.string('mode', 'reflect')],
          },
    );
    if (opset === 13)
      init.push(
        makeTensor(
          `${name}_pads`,
          'int64',
          [8],
          [0n, 0n, BigInt(pad), BigInt(pad), 0n, 0n, BigInt(pad), BigInt(pad)],
        ),
      );
    nodes.push({
      op_type: 'Conv',
      name,
      input: [padded, `${name}_w`, `${name}_b`],
      output: [`${name}_out`],
      attribute: [
        { name: 'kernel_shape', type: 7, ints: [k, k] },
        { name: 'strides', type: 7, ints: [stride, stride] },
      ],
    });
    return `${name}_out`;
  };
  const norm = (name: string, input: string, c: number, relu: boolean): string => {
    init.push(
      makeTensor(
        `${name}_s`,
        'float',
        [c],
        Array.from({ length: c }, () => 0.5 + Math.abs(rnd()) * 3),
      ),
      makeTensor(
        `${name}_bias`,
        'float',
        [c],
        Array.from({ length: c }, () => rnd()),
      ),
    );
    nodes.push({
      op_type: 'InstanceNormalization',
      name,
      input: [input, `${name}_s`, `${name}_bias`],
      output: [`${name}_out`],
    });
    if (!relu) return `${name}_out`;
    nodes.push({ op_type: 'Relu', name: `${name}_relu`, input: [`${name}_out`], output: [`${name}_act`] });
    return `${name}_act`;
  };
  let x = norm('n1', conv('c1', 'input', 3, 16, 3), 16, true);
  const r = norm('n3', conv('c3', norm('n2', conv('c2', x, 16, 16, 3), 16, true), 16, 16, 3), 16, false);
  nodes.push({ op_type: 'Add', name: 'add', input: [x, r], output: ['sum'] });
  init.push(makeTensor('scales', 'float', [4], [1, 1, 2, 2]));
  nodes.push({
    op_type: opset === 9 ? 'Upsample' : 'Resize',
    name: 'up',
    input: opset === 9 ? ['sum', 'scales'] : ['sum', '', 'scales'],
    output: ['up'],
    attribute:
      opset === 9
        ? [attr.string('mode', 'nearest')]
        : [
            attr.string('mode', 'nearest'),
            attr.string('coordinate_transformation_mode', 'asymmetric'),
            attr.string('nearest_mode', 'floor'),
          ],
  });
  x = norm('n4', conv('c4', 'up', 16, 16, 3, 2), 16, true);
  const out = conv('c5', x, 16, 3, 9);
  nodes.push({ op_type: 'Identity', name: 'result', input: [out], output: ['output'] });
  const image = (name: string) => ({
    name,
    type: {
      tensor_type: {
        elem_type: 1,
        shape: { dim: [{ dim_value: 1 }, { dim_value: 3 }, { dim_param: 'height' }, { dim_param: 'width' }] },
      },
    },
  });
  const model: OnnxModel = {
    ir_version: opset === 9 ? 4 : 7,
    opset_import: [{ domain: '', version: opset }],
    graph: {
      name: 'net',
      node: nodes,
      initializer: init,
      input: [image('input')],
      output: [image('output')],
    },
  };
  return writeOnnxModel(model);
}

/** Smooth test images with edges, 0–255, NCHW. */
function images(count: number, h: number, w: number): { data: Float32Array; dims: number[] }[] {
  return Array.from({ length: count }, (_, f) => {
    const data = new Float32Array(3 * h * w);
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          data[(c * h + y) * w + x] =
            127.5 + 100 * Math.sin((x + f * 3) / (5 + c) + y / 7) * (x + y + f > w ? 1 : 0.4);
    return { data, dims: [1, 3, h, w] };
  });
}

function psnr(a: Float32Array, b: Float32Array): number {
  let se = 0;
  let peak = 0;
  for (let i = 0; i < a.length; i++) {
    se += (a[i]! - b[i]!) ** 2;
    peak = Math.max(peak, Math.abs(a[i]!));
  }
  return 10 * Math.log10((peak * peak) / (se / a.length));
}

describe('opset upgrade', () => {
  test('an opset-9 network (Pad attributes, Upsample) computes exactly what it did at opset 13', async () => {
    const old = transformerNet(9);
    const upgraded = writeOnnxModel(upgradeOpset(readOnnxModel(old), 'net'));
    expect(readOnnxModel(upgraded).opset_import).toEqual([{ domain: '', version: 13 }]);
    const [x] = images(1, 20, 28);
    const a = await OnnxSession.create(old);
    const b = await OnnxSession.create(upgraded);
    expect((await b.run(x!.data, x!.dims)).data).toEqual((await a.run(x!.data, x!.dims)).data);
    await Promise.all([a.close(), b.close()]);
  });

  test('an operator whose meaning changed is refused by name, not carried over', () => {
    const model = readOnnxModel(transformerNet(9));
    model.graph.node.push({ op_type: 'Slice', name: 'crop', input: ['output'], output: ['cropped'] });
    expect(() => upgradeOpset(model, 'net.onnx')).toThrow(
      /Cannot rewrite net\.onnx: node crop \(Slice\) changed between opset 9 and 13/,
    );
  });
});

describe('narrow convolutions through SpaceToDepth', () => {
  test('the rewrite computes the same convolution (odd kernels, even sizes) and refuses what it cannot do', async () => {
    const model = readOnnxModel(transformerNet(13));
    const c5 = model.graph.node.find((n) => n.name === 'c5')!;
    const weight = model.graph.initializer.find((t) => t.name === 'c5_w')!;
    const bias = model.graph.initializer.find((t) => t.name === 'c5_b')!;
    expect(isNarrowConv(c5, weight)).toBe(true);
    expect(
      isNarrowConv(
        model.graph.node.find((n) => n.name === 'c4')!,
        model.graph.initializer.find((t) => t.name === 'c4_w'),
      ),
    ).toBe(false);
    const rewrite = rewriteNarrowConv({ node: c5, weight, bias });
    const rewritten: OnnxModel = {
      ...model,
      graph: {
        ...model.graph,
        node: model.graph.node.flatMap((n) => (n === c5 ? rewrite.nodes : [n])),
        initializer: [...model.graph.initializer, ...rewrite.initializers],
      },
    };
    const a = await OnnxSession.create(writeOnnxModel(model));
    const b = await OnnxSession.create(writeOnnxModel(rewritten));
    for (const [h, w] of [
      [24, 32],
      [18, 46],
    ] as const) {
      const [x] = images(1, h, w);
      const ra = (await a.run(x!.data, x!.dims)).data;
      const rb = (await b.run(x!.data, x!.dims)).data;
      let worst = 0;
      for (let i = 0; i < ra.length; i++) worst = Math.max(worst, Math.abs(ra[i]! - rb[i]!));
      // Float sums in another order: far below one code value.
      expect(worst).toBeLessThan(1e-3);
    }
    await Promise.all([a.close(), b.close()]);
  });
});

describe('int8 quantization', () => {
  test('calibrated QDQ model: ONNX Runtime fuses it into QLinearConv, the output stays close to float', async () => {
    const bytes = transformerNet(13);
    const plan = planQuantization(bytes, 'net');
    expect(plan.sites.map((s) => s.node.name)).toEqual(['c1', 'c2', 'c3', 'c4']);
    expect(plan.kept).toEqual([
      {
        node: 'c5',
        why: `it has 3 output channels; int8 is slower than float below ${MIN_INT8_CHANNELS} (computed through SpaceToDepth, 4x the outputs)`,
      },
    ]);
    const observer = await calibrate(plan, images(4, 24, 32));
    expect(observer.frames).toBe(4);
    const quantized = quantizeModel(plan, observer.ranges(plan.exact));
    // What ONNX Runtime makes of it: every planned convolution runs as QLinearConv.
    const ort = await loadOrt();
    const dir = await mkdtemp(join(tmpdir(), 'fc-quantize-'));
    try {
      const optimized = join(dir, 'optimized.onnx');
      const s = await ort.InferenceSession.create(quantized, {
        graphOptimizationLevel: 'all',
        optimizedModelFilePath: optimized,
      });
      await s.release();
      const ops = readOnnxModel(new Uint8Array(await Bun.file(optimized).arrayBuffer())).graph.node.map(
        (n) => n.op_type,
      );
      expect(ops.filter((o) => o === 'QLinearConv').length).toBe(4);
      expect(await readdir(dir)).toEqual(['optimized.onnx']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    // Held-out images (other phases) against the float model.
    const float = await OnnxSession.create(bytes);
    const int8 = await OnnxSession.create(quantized);
    for (const x of images(7, 24, 32).slice(4)) {
      const a = (await float.run(x.data, x.dims)).data;
      const b = (await int8.run(x.data, x.dims)).data;
      expect(psnr(a, b)).toBeGreaterThan(24);
    }
    await Promise.all([float.close(), int8.close()]);
  });

  test('weights are symmetric int8 per output channel, each channel using its whole range', async () => {
    const bytes = transformerNet(13);
    const plan = planQuantization(bytes, 'net');
    const observer = await calibrate(plan, images(3, 24, 32));
    const quantized = quantizeModel(plan, observer.ranges(plan.exact));
    const model = readOnnxModel(quantized);
    // Every int8 weight uses its range: per channel, the largest magnitude is 127.
    for (const t of model.graph.initializer.filter((i) => i.name?.endsWith('_weight_q'))) {
      const w = new Int8Array(Uint8Array.from(t.raw_data!).buffer);
      const out = Number(t.dims![0]);
      const per = w.length / out;
      for (let o = 0; o < out; o++) {
        let m = 0;
        for (let i = o * per; i < (o + 1) * per; i++) m = Math.max(m, Math.abs(w[i]!));
        expect(m).toBe(127);
      }
    }
  });

  test('ranges: percentiles ignore a hot pixel, uint8 parameters include 0', () => {
    const o = new RangeObserver();
    const data = Float32Array.from({ length: 100_000 }, (_, i) => (i % 100) / 10);
    data[5] = 1e6;
    o.observe('v', data);
    const r = o.ranges().get('v')!;
    expect(r.max).toBeLessThan(10);
    expect(uint8Params({ min: 2, max: 12.75 })).toEqual({ scale: 0.05, zero: 0 });
    expect(uint8Params({ min: -1, max: 1 })).toEqual({ scale: 2 / 255, zero: 128 });
    expect(() => o.observe('bad', Float32Array.of(1, Number.NaN, 2))).toThrow(/not finite in bad/);
  });

  test('refusals name the model and the reason', async () => {
    expect(() => planQuantization(new Uint8Array([1, 2, 3, 4, 5]), 'junk.onnx')).toThrow(
      /Could not load the ONNX model junk\.onnx/,
    );
    // An element-wise model has no convolution to quantize.
    expect(() => planQuantization(affineModel(2, 1), 'affine.onnx')).toThrow(
      /Cannot quantize affine\.onnx: it has no convolution with constant float weights/,
    );
    // A quantized model is not quantized again.
    const plan = planQuantization(transformerNet(13), 'net');
    const quantized = quantizeModel(plan, (await calibrate(plan, images(2, 16, 16))).ranges(plan.exact));
    expect(() => planQuantization(quantized, 'net-int8.onnx')).toThrow(
      /node .* \(QuantizeLinear\) shows it is quantized already/,
    );
    await expect(calibrate(plan, [])).rejects.toMatchObject({ code: 'ERR_CALIBRATION' });
  });
});

// Static int8 quantization of a style network in the QDQ format that ONNX Runtime fuses into its
// integer kernels (QLinearConv): each convolution gets its input and output as uint8 with ranges
// calibrated on real frames, its weights as int8 per output channel and its bias as int32.
import { MlError } from './errors.ts';
import { isNarrowConv, type NarrowConv, rewriteNarrowConv } from './narrow-conv.ts';
import {
  attr,
  floatValues,
  makeTensor,
  ONNX_TYPE,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
  readOnnxModel,
  sizeOf,
  stringAttribute,
  writeOnnxModel,
} from './onnx-model.ts';
import { upgradeOpset } from './opset.ts';
import { loadOrt } from './session.ts';

/** A convolution the rewrite quantizes. */
interface ConvSite {
  readonly node: OnnxNode;
  readonly input: string;
  readonly output: string;
  readonly weight: OnnxTensor;
  readonly bias: OnnxTensor | undefined;
  /**
   * Output channels when the output feeds only an InstanceNormalization, else 0. Instance
   * normalization removes each channel's scale and offset, so such a convolution's channels can be
   * rescaled and recentred to share one uint8 range exactly, whatever ranges they had.
   */
  readonly normalized: number;
  /**
   * The InstanceNormalization whose output reaches this convolution only through Relu (and Pad):
   * each input channel can then be scaled up to the widest one's range in the normalization's
   * scale and bias and back down in this convolution's weights, exactly.
   */
  readonly feeder:
    | { readonly scale: OnnxTensor; readonly bias: OnnxTensor; readonly channels: number }
    | undefined;
}

/** A value's observed range. */
export interface ValueRange {
  min: number;
  max: number;
  /** Mean and standard deviation, where observed (per channel). */
  mean?: number;
  std?: number;
}

/** What {@link planQuantization} found: the opset-13 model and the convolutions to quantize. */
export interface QuantizationPlan {
  /** The model brought to opset 13. */
  readonly model: OnnxModel;
  /** Names of the values whose ranges calibration must observe. */
  readonly values: readonly string[];
  /**
   * Values that are the model's input or a padding of it: quantized over their whole observed
   * range (pixels are exact in uint8), not the percentiles.
   */
  readonly exact: ReadonlySet<string>;
  /** Convolution nodes kept in float (by name or first output), with why. */
  readonly kept: readonly { node: string; why: string }[];
  /** Float convolutions computed through SpaceToDepth instead (see `narrow-conv.ts`). */
  readonly narrow: readonly NarrowConv[];
  readonly sites: readonly ConvSite[];
  /** The model, for errors. */
  readonly what: string;
}

/** Options of {@link planQuantization}. */
export interface PlanOptions {
  /** Convolutions to keep in float, by node name or first output. */
  readonly keepFloat?: readonly string[];
}

/**
 * Convolutions with fewer output channels stay in float: ONNX Runtime's int8 convolution is a
 * matrix product as wide as the output channels, and mosaic's last layer (32 → 3, 9×9) took 437 ms
 * in int8 against 330 ms in float at 720p on this project's 2-core machine.
 */
export const MIN_INT8_CHANNELS = 8;

const nodeName = (n: OnnxNode): string => n.name || n.output?.[0] || (n.op_type ?? '?');

/**
 * Find the convolutions of a model that can be quantized (weights and bias constant, 2-D, one
 * group or many), after bringing it to opset 13.
 *
 * @param bytes - The .onnx file.
 * @param what - The model, for errors (a path).
 * @param options - Convolutions to keep in float.
 * @returns The plan.
 * @throws {MlError} `ERR_MODEL_LOAD` for bytes that are no model; `ERR_MODEL_REWRITE` naming a node
 *   the opset upgrade cannot carry, or when no convolution can be quantized.
 */
export function planQuantization(
  bytes: Uint8Array,
  what: string,
  options: PlanOptions = {},
): QuantizationPlan {
  const model = upgradeOpset(readOnnxModel(bytes, what), what);
  const initializers = new Map(model.graph.initializer.map((t) => [t.name ?? '', t]));
  const consumers = new Map<string, OnnxNode[]>();
  for (const n of model.graph.node)
    for (const i of n.input ?? []) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const graphOutputs = new Set(model.graph.output.map((o) => o.name));
  const producer = new Map(model.graph.node.flatMap((n) => (n.output ?? []).map((o) => [o, n] as const)));
  const onlyFeeds = (value: string): boolean =>
    (consumers.get(value) ?? []).length === 1 && !graphOutputs.has(value);
  const initializerUses = (name: string): number =>
    model.graph.node.filter((n) => (n.input ?? []).includes(name)).length;
  const feederOf = (input: string, channels: number): ConvSite['feeder'] => {
    let value = input;
    let node = producer.get(value);
    if (node?.op_type === 'Pad' && onlyFeeds(value)) {
      value = node.input?.[0] ?? '';
      node = producer.get(value);
    }
    if (node?.op_type !== 'Relu' || !onlyFeeds(value)) return undefined;
    value = node.input?.[0] ?? '';
    node = producer.get(value);
    if (node?.op_type !== 'InstanceNormalization' || !onlyFeeds(value)) return undefined;
    const scale = initializers.get(node.input?.[1] ?? '');
    const bias = initializers.get(node.input?.[2] ?? '');
    if (scale === undefined || bias === undefined || floatValues(scale)?.length !== channels)
      return undefined;
    if (initializerUses(scale.name ?? '') !== 1 || initializerUses(bias.name ?? '') !== 1) return undefined;
    return { scale, bias, channels };
  };
  const sites: ConvSite[] = [];
  const narrow: NarrowConv[] = [];
  const kept: { node: string; why: string }[] = [];
  for (const node of model.graph.node) {
    if (node.op_type === 'QuantizeLinear' || node.op_type === 'DequantizeLinear')
      throw new MlError(
        'ERR_MODEL_REWRITE',
        `Cannot quantize ${what}: node ${nodeName(node)} (${node.op_type}) shows it is quantized already`,
      );
    if (node.op_type !== 'Conv') continue;
    const name = nodeName(node);
    const [input = '', w = '', b] = node.input ?? [];
    const weight = initializers.get(w);
    const bias = b === undefined || b === '' ? undefined : initializers.get(b);
    let why: string | null = null;
    if (options.keepFloat?.includes(name) || options.keepFloat?.includes(node.output?.[0] ?? ''))
      why = 'asked to stay in float';
    else if (weight === undefined || floatValues(weight) === null)
      why = 'its weights are not a float constant';
    else if ((weight.dims ?? []).length !== 4) why = 'it is not a 2-D convolution';
    else if (Number(weight.dims?.[0]) < MIN_INT8_CHANNELS)
      why = `it has ${weight.dims?.[0]} output channels; int8 is slower than float below ${MIN_INT8_CHANNELS}`;
    else if (b !== undefined && b !== '' && (bias === undefined || floatValues(bias) === null))
      why = 'its bias is not a float constant';
    if (why !== null || weight === undefined) {
      const wide = isNarrowConv(node, weight);
      if (wide) narrow.push({ node, weight: weight!, bias });
      kept.push({
        node: name,
        why: `${why ?? ''}${wide ? ' (computed through SpaceToDepth, 4x the outputs)' : ''}`,
      });
    } else {
      const output = node.output?.[0] ?? '';
      const users = consumers.get(output) ?? [];
      const normalized =
        users.length === 1 &&
        users[0]!.op_type === 'InstanceNormalization' &&
        users[0]!.input?.[0] === output &&
        !graphOutputs.has(output);
      sites.push({
        node,
        input,
        output,
        weight,
        bias,
        normalized: normalized ? Number(weight.dims?.[0]) : 0,
        feeder: feederOf(input, Number(weight.dims?.[1])),
      });
    }
  }
  if (sites.length === 0)
    throw new MlError(
      'ERR_MODEL_REWRITE',
      `Cannot quantize ${what}: it has no convolution with constant float weights${kept.length > 0 ? ` (${kept.map((k) => `${k.node}: ${k.why}`).join('; ')})` : ''}`,
    );
  const values = [...new Set(sites.flatMap((s) => [s.input, s.output]))];
  const exact = new Set(model.graph.input.map((i) => i.name ?? ''));
  for (const n of model.graph.node)
    if (n.op_type === 'Pad' && exact.has(n.input?.[0] ?? '')) exact.add(n.output?.[0] ?? '');
  return { model, values, kept, sites, what, exact, narrow };
}

/**
 * The plan's model with every value calibration observes added as a graph output.
 *
 * @param plan - From {@link planQuantization}.
 * @returns The .onnx bytes to run on calibration frames.
 */
export function calibrationModel(plan: QuantizationPlan): Uint8Array {
  const outputs = new Set(plan.model.graph.output.map((o) => o.name));
  const extra = plan.values
    .filter((v) => !outputs.has(v))
    .map((name) => ({ name, type: { tensor_type: { elem_type: ONNX_TYPE.float } } }));
  return writeOnnxModel({
    ...plan.model,
    graph: { ...plan.model.graph, output: [...plan.model.graph.output, ...extra] },
  });
}

/** A value's observed range, overall and (for convolution outputs) per channel. */
export interface ObservedRange extends ValueRange {
  /** Per channel (NCHW axis 1), where observed. */
  readonly channels?: readonly ValueRange[];
}

/** The 0.01 % and 99.99 % points of the values (a sample of up to 2^18 of them, sorted). */
function percentiles(data: Float32Array, from: number, count: number): [number, number] {
  const step = Math.max(1, Math.floor(count / 262144));
  const sample = new Float32Array(Math.ceil(count / step));
  for (let i = 0, j = 0; i < count; i += step, j++) sample[j] = data[from + i]!;
  sample.sort();
  const at = (q: number): number => sample[Math.min(sample.length - 1, Math.round(q * (sample.length - 1)))]!;
  return [at(0.0001), at(0.9999)];
}

/**
 * Collects each value's range over calibration frames: the mean over frames of each frame's
 * 0.01 % and 99.99 % points (a single hot pixel in one frame does not stretch the scale for all),
 * overall and, where asked, per channel.
 */
export class RangeObserver {
  readonly #seen = new Map<
    string,
    {
      lows: number[];
      highs: number[];
      min: number;
      max: number;
      channels: { lows: number[]; highs: number[]; means: number[]; stds: number[] }[];
    }
  >();

  /**
   * Observe one frame's values of one tensor.
   *
   * @param name - The value.
   * @param data - Its values on this frame.
   * @param channels - Also observe each of this many channels (NCHW, batch 1); 0 for none.
   * @throws {MlError} `ERR_CALIBRATION` for values that are not finite.
   */
  observe(name: string, data: Float32Array, channels = 0): void {
    const n = data.length;
    if (n === 0) return;
    const [lo, hi] = percentiles(data, 0, n);
    if (!Number.isFinite(lo) || !Number.isFinite(hi))
      throw new MlError('ERR_CALIBRATION', `Calibration saw a value that is not finite in ${name}`);
    const seen = this.#seen.get(name) ?? { lows: [], highs: [], min: lo, max: hi, channels: [] };
    this.#seen.set(name, seen);
    seen.lows.push(lo);
    seen.highs.push(hi);
    for (let i = 0; i < n; i++) {
      const x = data[i]!;
      if (x < seen.min) seen.min = x;
      else if (x > seen.max) seen.max = x;
    }
    const per = channels > 0 ? Math.floor(n / channels) : 0;
    for (let c = 0; c < channels; c++) {
      const [clo, chi] = percentiles(data, c * per, per);
      const ch = seen.channels[c] ?? { lows: [], highs: [], means: [], stds: [] };
      seen.channels[c] = ch;
      ch.lows.push(clo);
      ch.highs.push(chi);
      let sum = 0;
      let sq = 0;
      for (let i = c * per; i < (c + 1) * per; i++) {
        const x = data[i]!;
        sum += x;
        sq += x * x;
      }
      const m = sum / per;
      ch.means.push(m);
      ch.stds.push(Math.sqrt(Math.max(0, sq / per - m * m)));
    }
  }

  /** How many frames were observed (the most any value saw). */
  get frames(): number {
    return Math.max(0, ...[...this.#seen.values()].map((s) => s.lows.length));
  }

  /**
   * @param exact - Values to give their whole observed range instead of the mean percentiles.
   * @returns Each observed value's range.
   */
  ranges(exact: ReadonlySet<string> = new Set()): Map<string, ObservedRange> {
    const mean = (a: readonly number[]): number => a.reduce((s, x) => s + x, 0) / a.length;
    const out = new Map<string, ObservedRange>();
    for (const [name, s] of this.#seen)
      out.set(name, {
        min: exact.has(name) ? s.min : mean(s.lows),
        max: exact.has(name) ? s.max : mean(s.highs),
        ...(s.channels.length > 0 && {
          channels: s.channels.map((c) => ({
            min: mean(c.lows),
            max: mean(c.highs),
            mean: mean(c.means),
            std: mean(c.stds),
          })),
        }),
      });
    return out;
  }
}

/** uint8 scale and zero point covering a range (which is widened to include 0, as ONNX requires). */
export function uint8Params(r: ValueRange): { scale: number; zero: number } {
  const lo = Math.min(0, r.min);
  const hi = Math.max(0, r.max);
  const scale = hi - lo > 1e-12 ? (hi - lo) / 255 : 1;
  return { scale, zero: Math.min(255, Math.max(0, Math.round(-lo / scale))) };
}

/**
 * Run calibration frames through the plan's calibration model and collect the ranges.
 *
 * @param plan - From {@link planQuantization}.
 * @param inputs - Model inputs (float32 data and shape), one per calibration frame.
 * @param options - Threads for ONNX Runtime.
 * @returns The observer, holding each value's range.
 * @throws {MlError} `ERR_CALIBRATION` when no input was given.
 */
export async function calibrate(
  plan: QuantizationPlan,
  inputs:
    | AsyncIterable<{ data: Float32Array; dims: readonly number[] }>
    | Iterable<{ data: Float32Array; dims: readonly number[] }>,
  options: { threads?: number } = {},
): Promise<RangeObserver> {
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(calibrationModel(plan), {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'basic',
    ...(options.threads !== undefined && { intraOpNumThreads: options.threads }),
  });
  const observer = new RangeObserver();
  const channelsOf = new Map(
    plan.sites.flatMap((s) => [
      [s.output, s.normalized] as const,
      [s.input, s.feeder?.channels ?? 0] as const,
    ]),
  );
  try {
    const inputName = session.inputNames[0]!;
    for await (const { data, dims } of inputs) {
      const result = await session.run({ [inputName]: new ort.Tensor('float32', data, dims as number[]) });
      for (const name of plan.values)
        observer.observe(name, result[name]!.data as Float32Array, channelsOf.get(name) ?? 0);
    }
  } finally {
    await session.release();
  }
  if (observer.frames === 0)
    throw new MlError('ERR_CALIBRATION', `Calibration of ${plan.what} got no frames`);
  return observer;
}

/** A value's uint8 quantization. */
interface Quantized {
  readonly scale: number;
  readonly zero: number;
}

/** A convolution's rewritten constants. */
interface SiteConstants {
  readonly weight: Int8Array;
  readonly weightScale: Float32Array;
  /** int32 bias at input scale × weight scale, or null without a bias. */
  readonly bias: Int32Array | null;
  readonly input: Quantized;
  readonly output: Quantized;
}

/**
 * A convolution's int8 weights, int32 bias and uint8 input and output parameters, after the two
 * exact rescalings instance normalization allows (see {@link ConvSite}); the normalization's new
 * scale and bias go into `rewritten`.
 */
function siteConstants(
  site: ConvSite,
  ranges: ReadonlyMap<string, ObservedRange>,
  known: ReadonlyMap<string, Quantized>,
  rewritten: Map<string, OnnxTensor>,
  what: string,
): SiteConstants {
  const rangeOf = (value: string): ObservedRange => {
    const r = ranges.get(value);
    if (r === undefined)
      throw new MlError('ERR_CALIBRATION', `Calibration of ${what} has no range for ${value}`);
    return r;
  };
  const w = floatValues(site.weight)!;
  const dims = (site.weight.dims ?? []).map(Number);
  const outC = dims[0]!;
  const inC = dims[1]!;
  const per = sizeOf(dims) / outC;
  const taps = per / inC;
  const b = site.bias === undefined ? new Float32Array(outC) : floatValues(site.bias)!;

  let input = known.get(site.input);
  const inChannels = rangeOf(site.input).channels;
  if (input === undefined && site.feeder !== undefined && inChannels !== undefined) {
    // Each input channel scaled up to the widest one's range where the normalization writes it
    // and back down in these weights (Relu and Pad commute with a positive scale).
    const widest = Math.max(...inChannels.map((c) => c.max));
    const k = inChannels.map((c) => (c.max > widest * 1e-6 ? widest / c.max : 1));
    for (const t of [site.feeder.scale, site.feeder.bias]) {
      const v = floatValues(t)!.map((x, c) => x * k[c]!);
      rewritten.set(t.name ?? '', makeTensor(t.name ?? '', 'float', [v.length], v));
    }
    for (let o = 0; o < outC; o++)
      for (let c = 0; c < inC; c++) for (let t = 0; t < taps; t++) w[o * per + c * taps + t]! /= k[c]!;
    input = uint8Params({ min: Math.min(0, ...inChannels.map((c, i) => c.min * k[i]!)), max: widest });
  }
  input ??= uint8Params(rangeOf(site.input));

  let output: Quantized;
  const outChannels = site.normalized > 0 ? rangeOf(site.output).channels : undefined;
  if (outChannels !== undefined) {
    // Each output channel scaled up to the widest one's range and centred on 0: the
    // normalization that follows removes both (its epsilon only shrinks next to the variance).
    const widest = Math.max(...outChannels.map((c) => c.max - c.min));
    for (let o = 0; o < outC; o++) {
      const c = outChannels[o]!;
      const span = c.max - c.min;
      const k = span > widest * 1e-6 ? widest / span : 1;
      for (let i = o * per; i < (o + 1) * per; i++) w[i]! *= k;
      b[o] = k * (b[o]! - (c.max + c.min) / 2);
    }
    output = uint8Params({ min: -widest / 2, max: widest / 2 });
  } else output = uint8Params(rangeOf(site.output));

  const weightScale = new Float32Array(outC);
  const weight = new Int8Array(w.length);
  for (let o = 0; o < outC; o++) {
    let amax = 0;
    for (let i = o * per; i < (o + 1) * per; i++) amax = Math.max(amax, Math.abs(w[i]!));
    const s = amax > 0 ? amax / 127 : 1;
    weightScale[o] = s;
    for (let i = o * per; i < (o + 1) * per; i++)
      weight[i] = Math.max(-127, Math.min(127, Math.round(w[i]! / s)));
  }
  const bias =
    site.bias === undefined && outChannels === undefined
      ? null
      : Int32Array.from(b, (v, o) => Math.round(v / (weightScale[o]! * input.scale)));
  return { weight, weightScale, bias, input, output };
}

/**
 * Rewrite the plan's model to QDQ int8: every planned convolution reads its input through
 * QuantizeLinear → DequantizeLinear (uint8, calibrated), its weights as int8 per output channel
 * (symmetric), its bias as int32 at the input scale times the weight scale, and writes its output
 * through QuantizeLinear → DequantizeLinear, so ONNX Runtime runs it as QLinearConv. A reflection
 * or edge Pad in front of a convolution pads the uint8 values (a quarter of the memory traffic),
 * and a Relu in front of that Pad is dropped when the quantization's zero point already clamps at 0.
 *
 * @param plan - From {@link planQuantization}.
 * @param ranges - From {@link calibrate} (`observer.ranges(plan.exact)`).
 * @returns The quantized .onnx bytes.
 * @throws {MlError} `ERR_CALIBRATION` when a value has no range.
 */
export function quantizeModel(
  plan: QuantizationPlan,
  ranges: ReadonlyMap<string, ObservedRange>,
): Uint8Array {
  const { model } = plan;
  const producer = new Map(model.graph.node.flatMap((n) => (n.output ?? []).map((o) => [o, n] as const)));
  const uses = new Map<string, number>();
  for (const n of model.graph.node) for (const i of n.input ?? []) uses.set(i, (uses.get(i) ?? 0) + 1);
  for (const o of model.graph.output) uses.set(o.name ?? '', (uses.get(o.name ?? '') ?? 0) + 1);

  // Pass 1: every convolution's constants, in graph order (a convolution that reads another's
  // output reuses its parameters).
  const rewritten = new Map<string, OnnxTensor>();
  const known = new Map<string, Quantized>();
  const constants = new Map<OnnxNode, SiteConstants>();
  const movedPads = new Map<OnnxNode, Quantized>();
  const droppedRelus = new Set<OnnxNode>();
  for (const site of plan.sites) {
    const c = siteConstants(site, ranges, known, rewritten, plan.what);
    constants.set(site.node, c);
    known.set(site.input, c.input);
    known.set(site.output, c.output);
    const pad = producer.get(site.input);
    const mode = pad === undefined ? '' : stringAttribute(pad, 'mode', 'constant');
    if (pad?.op_type === 'Pad' && (mode === 'reflect' || mode === 'edge') && uses.get(site.input) === 1) {
      movedPads.set(pad, c.input);
      const relu = producer.get(pad.input?.[0] ?? '');
      if (relu?.op_type === 'Relu' && uses.get(pad.input?.[0] ?? '') === 1 && c.input.zero === 0)
        droppedRelus.add(relu);
    }
  }

  // Pass 2: the nodes.
  const narrow = new Map(plan.narrow.map((n) => [n.node, n]));
  const siteOf = new Map(plan.sites.map((s) => [s.node, s]));
  const replaced = new Set([...plan.sites, ...plan.narrow].flatMap((s) => [s.weight.name, s.bias?.name]));
  const stillUsed = new Set(
    model.graph.node.filter((n) => !constants.has(n) && !narrow.has(n)).flatMap((n) => n.input ?? []),
  );
  const initializers = model.graph.initializer
    .filter((t) => !replaced.has(t.name) || stillUsed.has(t.name ?? ''))
    .map((t) => rewritten.get(t.name ?? '') ?? t);
  const nodes: OnnxNode[] = [];
  const dequantized = new Set<string>();
  // A dropped Relu's output → its input; a convolution's input → its dequantized copy.
  const alias = new Map<string, string>();
  const convInput = new Map<string, string>();
  const params = (value: string, q: Quantized): [string, string] => {
    const s = `${value}_scale`;
    const z = `${value}_zero`;
    if (!initializers.some((t) => t.name === s))
      initializers.push(makeTensor(s, 'float', [], [q.scale]), makeTensor(z, 'uint8', [], [q.zero]));
    return [s, z];
  };
  const quantize = (from: string, value: string, q: Quantized): string => {
    const [s, z] = params(value, q);
    nodes.push({
      op_type: 'QuantizeLinear',
      name: `${value}_quantize`,
      input: [from, s, z],
      output: [`${value}_q`],
    });
    return `${value}_q`;
  };
  const dequantize = (quantized: string, value: string, q: Quantized, into: string): void => {
    const [s, z] = params(value, q);
    nodes.push({
      op_type: 'DequantizeLinear',
      name: `${value}_dequantize`,
      input: [quantized, s, z],
      output: [into],
    });
  };
  const perChannel = (
    name: string,
    values: Int8Array | Int32Array,
    scale: Float32Array,
    dims: readonly number[],
  ): string => {
    const type = values instanceof Int8Array ? 'int8' : 'int32';
    const n = scale.length;
    initializers.push(
      makeTensor(`${name}_q`, type, dims, values),
      makeTensor(`${name}_scale`, 'float', [n], scale),
      makeTensor(`${name}_zero`, type, [n], type === 'int8' ? new Int8Array(n) : new Int32Array(n)),
    );
    nodes.push({
      op_type: 'DequantizeLinear',
      name: `${name}_dequantize`,
      input: [`${name}_q`, `${name}_scale`, `${name}_zero`],
      output: [`${name}_dq`],
      attribute: [attr.int('axis', 0)],
    });
    return `${name}_dq`;
  };

  for (const node of model.graph.node) {
    if (droppedRelus.has(node)) {
      alias.set(node.output?.[0] ?? '', node.input?.[0] ?? '');
      continue;
    }
    const padQ = movedPads.get(node);
    if (padQ !== undefined) {
      const [from = '', ...rest] = node.input ?? [];
      const out = node.output?.[0] ?? '';
      const q = quantize(alias.get(from) ?? from, from, padQ);
      nodes.push({ ...node, input: [q, ...rest], output: [`${out}_q`] });
      dequantize(`${out}_q`, out, padQ, out);
      dequantized.add(out);
      continue;
    }
    const wide = narrow.get(node);
    if (wide !== undefined) {
      const rewrite = rewriteNarrowConv(wide);
      const [first, ...rest] = rewrite.nodes;
      nodes.push({ ...first!, input: (first!.input ?? []).map((i) => alias.get(i) ?? i) }, ...rest);
      initializers.push(...rewrite.initializers);
      continue;
    }
    const c = constants.get(node);
    if (c === undefined) {
      nodes.push({ ...node, input: (node.input ?? []).map((i) => alias.get(i) ?? i) });
      continue;
    }
    const site = siteOf.get(node)!;
    const name = nodeName(node);
    if (!dequantized.has(site.input) && !convInput.has(site.input)) {
      dequantize(quantize(site.input, site.input, c.input), site.input, c.input, `${site.input}_dq`);
      convInput.set(site.input, `${site.input}_dq`);
    }
    const dims = (site.weight.dims ?? []).map(Number);
    const inputs = [
      convInput.get(site.input) ?? site.input,
      perChannel(`${name}_weight`, c.weight, c.weightScale, dims),
    ];
    if (c.bias !== null)
      inputs.push(
        perChannel(
          `${name}_bias`,
          c.bias,
          c.weightScale.map((s) => s * c.input.scale),
          [dims[0]!],
        ),
      );
    // The convolution writes a float value that is quantized and dequantized back under the
    // original name, so every consumer (and a graph output) is unchanged.
    const raw = `${site.output}_float`;
    nodes.push({ ...node, input: inputs, output: [raw] });
    dequantize(quantize(raw, site.output, c.output), site.output, c.output, site.output);
    dequantized.add(site.output);
  }
  return writeOnnxModel({
    ...model,
    producer_name: 'framecraft-quantize',
    graph: { ...model.graph, node: nodes, initializer: initializers },
  });
}

// Bring a model to ONNX opset 13, the first where DequantizeLinear takes a per-channel `axis`.
// Only the conversions style networks need are written; any other operator whose definition
// changed on the way is refused by name, never passed through with a meaning it no longer has.
import { MlError } from './errors.ts';
import {
  attr,
  attributeOf,
  makeTensor,
  type OnnxAttribute,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
  opsetOf,
  stringAttribute,
} from './onnx-model.ts';

/** The opset {@link upgradeOpset} produces. */
export const TARGET_OPSET = 13;

/**
 * Operators whose definition is the same from the given opset up to 13 (the opset where their
 * last change before 13 happened; ops changed at 13 itself only widened their types).
 */
const SAME_SINCE: Readonly<Record<string, number>> = {
  Abs: 6,
  Add: 7,
  AveragePool: 7, // 10 added ceil_mode, whose default keeps the old meaning
  BatchNormalization: 9,
  Cast: 9,
  Concat: 4,
  Constant: 9,
  ConstantOfShape: 9,
  Conv: 1,
  ConvTranspose: 1,
  Div: 7,
  Elu: 6,
  Exp: 6,
  Floor: 6,
  Gather: 1,
  GlobalAveragePool: 1,
  HardSigmoid: 6,
  Identity: 1,
  InstanceNormalization: 6,
  LeakyRelu: 6,
  Max: 8,
  MaxPool: 8, // 10 and 12 added attributes whose defaults keep the old meaning
  Mean: 8,
  Min: 8,
  Mul: 7,
  Neg: 6,
  Pow: 7,
  PRelu: 9,
  Reciprocal: 6,
  Relu: 6,
  Reshape: 5,
  Resize: 11,
  Selu: 6,
  Shape: 1,
  Sigmoid: 6,
  Softplus: 1,
  Sqrt: 6,
  Sub: 7,
  Sum: 8,
  Tanh: 6,
  Transpose: 1,
  Pad: 11,
  Clip: 11,
  Squeeze: 13,
  Unsqueeze: 13,
  Slice: 10,
  Dropout: 12,
};

/** Raised for a model this package cannot rewrite; the message names the node. */
function refuse(what: string, node: OnnxNode, why: string): never {
  throw new MlError(
    'ERR_MODEL_REWRITE',
    `Cannot rewrite ${what}: node ${node.name || node.output?.[0] || '?'} (${node.op_type}) ${why}`,
  );
}

/**
 * Return the model at opset 13: `Pad` and `Clip` before 11 get their attributes as inputs,
 * `Upsample` becomes the `Resize` that computes the same (asymmetric coordinates, nearest with
 * floor), `Squeeze`/`Unsqueeze` before 13 get their axes as an input; every other node must be
 * one whose definition did not change. A model at 13 or later is returned as it is.
 *
 * @param model - The model (not modified).
 * @param what - The model, for errors.
 * @returns The upgraded model.
 * @throws {MlError} `ERR_MODEL_REWRITE` naming the first node that cannot be carried over.
 */
export function upgradeOpset(model: OnnxModel, what: string): OnnxModel {
  const from = opsetOf(model);
  if (from >= TARGET_OPSET) return model;
  if (from < 7)
    throw new MlError('ERR_MODEL_REWRITE', `Cannot rewrite ${what}: opset ${from} is older than 7`);
  for (const o of model.opset_import)
    if ((o.domain ?? '') !== '' && o.domain !== 'ai.onnx')
      throw new MlError(
        'ERR_MODEL_REWRITE',
        `Cannot rewrite ${what}: it uses operators of the "${o.domain}" domain`,
      );
  const initializers: OnnxTensor[] = [...model.graph.initializer];
  const used = new Set<string>([
    ...initializers.map((t) => t.name ?? ''),
    ...model.graph.node.flatMap((n) => [...(n.input ?? []), ...(n.output ?? [])]),
  ]);
  const fresh = (base: string): string => {
    let name = base;
    for (let i = 1; used.has(name); i++) name = `${base}_${i}`;
    used.add(name);
    return name;
  };
  const constant = (base: string, type: 'int64' | 'float', values: number[]): string => {
    const name = fresh(base);
    initializers.push(
      makeTensor(name, type, [values.length], type === 'int64' ? values.map(BigInt) : values),
    );
    return name;
  };
  const withoutAttrs = (node: OnnxNode, names: readonly string[]): OnnxAttribute[] =>
    (node.attribute ?? []).filter((a) => !names.includes(a.name));

  const nodes = model.graph.node.map((node): OnnxNode => {
    const op = node.op_type ?? '';
    if ((node.domain ?? '') !== '') refuse(what, node, `is in the "${node.domain}" domain`);
    const base = node.name || node.output?.[0] || op;
    if (op === 'Pad' && from < 11) {
      const pads = attributeOf(node, 'pads')?.ints;
      if (pads === undefined) refuse(what, node, 'has no pads');
      const value = attributeOf(node, 'value')?.f ?? 0;
      const mode = stringAttribute(node, 'mode', 'constant');
      const inputs = [node.input?.[0] ?? '', constant(`${base}_pads`, 'int64', pads.map(Number))];
      if (mode === 'constant' && value !== 0) inputs.push(constant(`${base}_value`, 'float', [value]));
      return { ...node, input: inputs, attribute: withoutAttrs(node, ['pads', 'value']) };
    }
    if (op === 'Clip' && from < 11) {
      const min = attributeOf(node, 'min')?.f;
      const max = attributeOf(node, 'max')?.f;
      const inputs = [
        node.input?.[0] ?? '',
        min === undefined ? '' : constant(`${base}_min`, 'float', [min]),
        ...(max === undefined ? [] : [constant(`${base}_max`, 'float', [max])]),
      ];
      return { ...node, input: inputs, attribute: withoutAttrs(node, ['min', 'max']) };
    }
    if ((op === 'Squeeze' || op === 'Unsqueeze') && from < 13) {
      const axes = attributeOf(node, 'axes')?.ints;
      const inputs = [node.input?.[0] ?? ''];
      if (axes !== undefined) inputs.push(constant(`${base}_axes`, 'int64', axes.map(Number)));
      return { ...node, input: inputs, attribute: withoutAttrs(node, ['axes']) };
    }
    if (op === 'Upsample') {
      const mode = stringAttribute(node, 'mode', 'nearest');
      if (mode !== 'nearest' && mode !== 'linear') refuse(what, node, `has mode "${mode}"`);
      const scalesAttr = attributeOf(node, 'scales')?.floats;
      const scales =
        from < 9
          ? constant(`${base}_scales`, 'float', scalesAttr ?? refuse(what, node, 'has no scales'))
          : (node.input?.[1] ?? refuse(what, node, 'has no scales input'));
      return {
        ...node,
        op_type: 'Resize',
        input: [node.input?.[0] ?? '', '', scales],
        attribute: [
          attr.string('mode', mode),
          attr.string('coordinate_transformation_mode', 'asymmetric'),
          ...(mode === 'nearest' ? [attr.string('nearest_mode', 'floor')] : []),
        ],
      };
    }
    const since = SAME_SINCE[op];
    if (since === undefined || from < since)
      refuse(
        what,
        node,
        `changed between opset ${from} and ${TARGET_OPSET}; this rewrite does not convert it (export the model at opset ${TARGET_OPSET} or later)`,
      );
    return node;
  });
  return {
    ...model,
    ir_version: Math.max(model.ir_version ?? 0, 7),
    opset_import: [
      ...model.opset_import.filter((o) => (o.domain ?? '') !== '' && o.domain !== 'ai.onnx'),
      { domain: '', version: TARGET_OPSET },
    ],
    graph: { ...model.graph, node: nodes, initializer: initializers },
  };
}

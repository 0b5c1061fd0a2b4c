// The ONNX model file as data: read and written with protobufjs against ONNX's own schema
// (proto/onnx.proto, from ONNX 1.12), so a graph can be rewritten (opset upgrade, quantization).
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { MlError } from './errors.ts';

/** ONNX tensor element types used here (TensorProto.DataType). */
export const ONNX_TYPE = { float: 1, uint8: 2, int8: 3, int32: 6, int64: 7 } as const;

/** An attribute of a node; only the fields this package reads or writes are typed. */
export interface OnnxAttribute {
  name: string;
  /** AttributeProto.AttributeType: 1 float, 2 int, 3 string, 4 tensor, 6 floats, 7 ints, 8 strings. */
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
  [field: string]: unknown;
}

/** A tensor (initializer or constant). */
export interface OnnxTensor {
  name?: string;
  dims?: number[];
  data_type?: number;
  raw_data?: Uint8Array;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: number[];
  [field: string]: unknown;
}

/** A graph node. */
export interface OnnxNode {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute?: OnnxAttribute[];
  [field: string]: unknown;
}

/** A graph input or output. */
export interface OnnxValueInfo {
  name?: string;
  type?: { tensor_type?: { elem_type?: number; shape?: unknown } };
  [field: string]: unknown;
}

/** The graph. */
export interface OnnxGraph {
  node: OnnxNode[];
  initializer: OnnxTensor[];
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
  value_info?: OnnxValueInfo[];
  name?: string;
  [field: string]: unknown;
}

/** A whole model file. */
export interface OnnxModel {
  ir_version?: number;
  opset_import: { domain?: string; version?: number }[];
  graph: OnnxGraph;
  producer_name?: string;
  metadata_props?: { key?: string; value?: string }[];
  [field: string]: unknown;
}

let modelType: protobuf.Type | undefined;

function onnxModelType(): protobuf.Type {
  if (modelType === undefined) {
    const schema = readFileSync(new URL('../proto/onnx.proto', import.meta.url), 'utf8');
    modelType = protobuf.parse(schema, { keepCase: true }).root.lookupType('onnx.ModelProto');
  }
  return modelType;
}

/**
 * Read an ONNX model file's bytes into plain objects (64-bit integers as numbers, repeated fields
 * as arrays).
 *
 * @param bytes - The .onnx file's contents.
 * @param what - The model, for the error (a path).
 * @returns The model.
 * @throws {MlError} `ERR_MODEL_LOAD` when the bytes are not an ONNX model.
 */
export function readOnnxModel(bytes: Uint8Array, what = 'model bytes'): OnnxModel {
  const type = onnxModelType();
  let decoded: protobuf.Message;
  try {
    decoded = type.decode(bytes);
  } catch (err) {
    throw new MlError('ERR_MODEL_LOAD', `Could not load the ONNX model ${what}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const model = type.toObject(decoded, { longs: Number, arrays: true, defaults: false }) as OnnxModel;
  if (model.graph === undefined || (model.graph.node ?? []).length === 0)
    throw new MlError('ERR_MODEL_LOAD', `Could not load the ONNX model ${what}: it has no graph`);
  return model;
}

/**
 * Write a model back to bytes.
 *
 * @param model - The model.
 * @returns The .onnx file's contents.
 */
export function writeOnnxModel(model: OnnxModel): Uint8Array {
  const type = onnxModelType();
  return type.encode(type.fromObject(model)).finish();
}

/** The opset version a model imports for a domain (`''`, ONNX's own, by default), or 0. */
export function opsetOf(model: OnnxModel, domain = ''): number {
  return Number(model.opset_import.find((o) => (o.domain ?? '') === domain)?.version ?? 0);
}

/** A node's attribute, or undefined. */
export function attributeOf(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return node.attribute?.find((a) => a.name === name);
}

/** A string attribute's value, or the fallback. */
export function stringAttribute(node: OnnxNode, name: string, fallback: string): string {
  const s = attributeOf(node, name)?.s;
  return s === undefined ? fallback : new TextDecoder().decode(s);
}

/** Attribute builders. */
export const attr = {
  int: (name: string, i: number): OnnxAttribute => ({ name, type: 2, i }),
  float: (name: string, f: number): OnnxAttribute => ({ name, type: 1, f }),
  string: (name: string, s: string): OnnxAttribute => ({ name, type: 3, s: new TextEncoder().encode(s) }),
};

/** A tensor of the given type and shape holding `values` (raw little-endian bytes). */
export function makeTensor(
  name: string,
  type: keyof typeof ONNX_TYPE,
  dims: readonly number[],
  values: ArrayLike<number> | ArrayLike<bigint>,
): OnnxTensor {
  let raw: Uint8Array;
  if (type === 'float') raw = new Uint8Array(Float32Array.from(values as ArrayLike<number>).buffer);
  else if (type === 'int32') raw = new Uint8Array(Int32Array.from(values as ArrayLike<number>).buffer);
  else if (type === 'int8') raw = new Uint8Array(Int8Array.from(values as ArrayLike<number>).buffer);
  else if (type === 'uint8') raw = Uint8Array.from(values as ArrayLike<number>);
  else raw = new Uint8Array(BigInt64Array.from(values as ArrayLike<bigint>).buffer);
  return { name, dims: [...dims], data_type: ONNX_TYPE[type], raw_data: raw };
}

/**
 * A float tensor's values (raw or `float_data`), or null when the tensor holds another type.
 *
 * @param t - The tensor.
 * @returns Its values.
 */
export function floatValues(t: OnnxTensor): Float32Array | null {
  if (t.data_type !== ONNX_TYPE.float) return null;
  if (t.raw_data !== undefined && t.raw_data.length > 0) {
    // A copy: protobufjs hands out Buffers that are views into a shared pool, at any offset.
    const copy = Uint8Array.from(t.raw_data);
    return new Float32Array(copy.buffer, 0, copy.length >> 2);
  }
  return Float32Array.from(t.float_data ?? []);
}

/** The element count of a shape. */
export const sizeOf = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

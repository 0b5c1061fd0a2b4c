// Writes tiny ONNX models for the tests, so a fresh clone needs no model files: a hand-rolled
// protobuf encoder for the few ONNX messages used (ModelProto, GraphProto, NodeProto, TensorProto,
// ValueInfoProto), field numbers from onnx.proto.

const enc = new TextEncoder();

function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

type Field = number[];
const key = (field: number, wire: number): number[] => varint((field << 3) | wire);
const vint = (field: number, value: number): Field => [...key(field, 0), ...varint(value)];
const bytes = (field: number, data: Uint8Array | number[]): Field => [
  ...key(field, 2),
  ...varint(data.length),
  ...data,
];
const str = (field: number, s: string): Field => bytes(field, enc.encode(s));
const msg = (field: number, ...parts: Field[]): Field => bytes(field, parts.flat());

/** A float32 NCHW input or output with 3 channels and dynamic height and width. */
function valueInfo(field: number, name: string): Field {
  const dim = (d: Field): Field => msg(1, d);
  const shape = msg(2, dim(vint(1, 1)), dim(vint(1, 3)), dim(str(2, 'height')), dim(str(2, 'width')));
  return msg(field, str(1, name), msg(2, msg(1, vint(1, 1), shape)));
}

/** A scalar float initializer. */
function scalar(name: string, value: number): Field {
  const raw = new Uint8Array(new Float32Array([value]).buffer);
  return msg(5, vint(2, 1), str(8, name), bytes(9, raw));
}

function node(op: string, inputs: string[], outputs: string[], name: string): Field {
  return msg(1, ...inputs.map((i) => str(1, i)), ...outputs.map((o) => str(2, o)), str(3, name), str(4, op));
}

/**
 * `output = input · scale + offset`, element-wise: position-independent, so tiled inference must
 * reproduce whole-frame inference exactly. Input `input`, output `output`, float32 [1, 3, H, W].
 *
 * @param scale - Multiplier.
 * @param offset - Added after.
 * @param paddingFloats - Size of an unused initializer, to make the file larger.
 * @returns The model's bytes.
 */
export function affineModel(scale: number, offset: number, paddingFloats = 0): Uint8Array {
  // An unused initializer makes the file as large as a test needs (downloads that break midway).
  const padding =
    paddingFloats > 0
      ? [
          msg(
            5,
            vint(1, paddingFloats),
            vint(2, 1),
            str(8, 'padding'),
            bytes(9, new Uint8Array(paddingFloats * 4)),
          ),
        ]
      : [];
  const graph = msg(
    7,
    node('Mul', ['input', 'scale'], ['scaled'], 'mul'),
    node('Add', ['scaled', 'offset'], ['output'], 'add'),
    str(2, 'affine'),
    scalar('scale', scale),
    scalar('offset', offset),
    ...padding,
    valueInfo(11, 'input'),
    valueInfo(12, 'output'),
  );
  const model = [...vint(1, 7), ...str(2, 'framecraft-test'), ...graph, ...msg(8, str(1, ''), vint(2, 13))];
  return Uint8Array.from(model);
}

// A wide-kernel convolution with few output channels (a style network's last layer: 32 → 3, 9×9)
// is the slowest layer of the network in ONNX Runtime: its CPU kernels work in blocks of 8 or 16
// output channels (float) or as a matrix product as wide as the outputs (int8), so 3 outputs waste
// most of the work. The same convolution, computed exactly, as SpaceToDepth → a convolution with
// 4× the outputs and a kernel half as wide on the half-resolution picture → DepthToSpace fills
// those blocks: mosaic's last layer went from 330 to 138 ms at 720p (SpaceToDepth 30, the
// convolution 102, DepthToSpace 6), on 2 cores.
import { attributeOf, floatValues, makeTensor, type OnnxNode, type OnnxTensor } from './onnx-model.ts';

/** A convolution the rewrite applies to, found by {@link narrowConvolution}. */
export interface NarrowConv {
  readonly node: OnnxNode;
  readonly weight: OnnxTensor;
  readonly bias: OnnxTensor | undefined;
}

const ints = (node: OnnxNode, name: string): number[] | undefined =>
  attributeOf(node, name)?.ints?.map(Number);

/**
 * Whether a convolution is one the rewrite handles and helps: 2-D, one group, stride 1, no
 * dilation, no padding of its own (a Pad node in front does it), an odd kernel of at least 5 and
 * fewer than 8 output channels.
 *
 * @param node - A Conv node.
 * @param weight - Its weight initializer.
 * @returns True when {@link rewriteNarrowConv} applies.
 */
export function isNarrowConv(node: OnnxNode, weight: OnnxTensor | undefined): boolean {
  const dims = weight?.dims?.map(Number) ?? [];
  if (dims.length !== 4 || floatValues(weight!) === null) return false;
  const ones = (a: number[] | undefined): boolean => a === undefined || a.every((x) => x === 1);
  const zeros = (a: number[] | undefined): boolean => a === undefined || a.every((x) => x === 0);
  const group = attributeOf(node, 'group')?.i;
  const autoPad = attributeOf(node, 'auto_pad')?.s;
  return (
    dims[0]! < 8 &&
    dims[2]! >= 5 &&
    dims[3]! >= 5 &&
    dims[2]! % 2 === 1 &&
    dims[3]! % 2 === 1 &&
    (group === undefined || Number(group) === 1) &&
    (autoPad === undefined || new TextDecoder().decode(autoPad) === 'NOTSET') &&
    ones(ints(node, 'strides')) &&
    ones(ints(node, 'dilations')) &&
    zeros(ints(node, 'pads'))
  );
}

/**
 * The nodes and initializers that compute a narrow convolution through SpaceToDepth(2): output
 * channel (a·2 + b)·M + m of the new convolution is output channel m at the pixel (2Y + a, 2X + b),
 * which DepthToSpace (DCR) puts back. The input's height and width must be even (the frame runner
 * pads frames to a multiple of 4).
 *
 * @param conv - The convolution.
 * @returns Replacement nodes (same input and output names) and the new initializers.
 */
export function rewriteNarrowConv(conv: NarrowConv): { nodes: OnnxNode[]; initializers: OnnxTensor[] } {
  const [m, c, kh, kw] = conv.weight.dims!.map(Number) as [number, number, number, number];
  const w = floatValues(conv.weight)!;
  const b = conv.bias === undefined ? new Float32Array(m) : floatValues(conv.bias)!;
  // Kernel rows u = a + i (a the output row's parity, i the tap) cover 0 … kh, as 2U + p.
  const kh2 = (kh >> 1) + 1;
  const kw2 = (kw >> 1) + 1;
  const outC = 4 * m;
  const inC = 4 * c;
  const w2 = new Float32Array(outC * inC * kh2 * kw2);
  for (let a = 0; a < 2; a++)
    for (let bb = 0; bb < 2; bb++)
      for (let o = 0; o < m; o++) {
        const oc = (a * 2 + bb) * m + o;
        for (let p = 0; p < 2; p++)
          for (let q = 0; q < 2; q++)
            for (let ch = 0; ch < c; ch++) {
              const ic = (p * 2 + q) * c + ch;
              for (let U = 0; U < kh2; U++) {
                const i = 2 * U + p - a;
                if (i < 0 || i >= kh) continue;
                for (let V = 0; V < kw2; V++) {
                  const j = 2 * V + q - bb;
                  if (j < 0 || j >= kw) continue;
                  w2[((oc * inC + ic) * kh2 + U) * kw2 + V] = w[((o * c + ch) * kh + i) * kw + j]!;
                }
              }
            }
      }
  const b2 = Float32Array.from({ length: outC }, (_, oc) => b[oc % m]!);
  const name = conv.node.name || conv.node.output?.[0] || 'conv';
  const input = conv.node.input?.[0] ?? '';
  const output = conv.node.output?.[0] ?? '';
  return {
    initializers: [
      makeTensor(`${name}_s2d_weight`, 'float', [outC, inC, kh2, kw2], w2),
      makeTensor(`${name}_s2d_bias`, 'float', [outC], b2),
    ],
    nodes: [
      {
        op_type: 'SpaceToDepth',
        name: `${name}_space_to_depth`,
        input: [input],
        output: [`${name}_s2d_in`],
        attribute: [{ name: 'blocksize', type: 2, i: 2 }],
      },
      {
        op_type: 'Conv',
        name: `${name}_s2d`,
        input: [`${name}_s2d_in`, `${name}_s2d_weight`, `${name}_s2d_bias`],
        output: [`${name}_s2d_out`],
        attribute: [{ name: 'kernel_shape', type: 7, ints: [kh2, kw2] }],
      },
      {
        op_type: 'DepthToSpace',
        name: `${name}_depth_to_space`,
        input: [`${name}_s2d_out`],
        output: [output],
        attribute: [
          { name: 'blocksize', type: 2, i: 2 },
          { name: 'mode', type: 3, s: new TextEncoder().encode('DCR') },
        ],
      },
    ],
  };
}

import { fileURLToPath } from 'node:url';
import type { BuiltInModel } from '@framecraft/ml';

/**
 * The fast-neural-style "mosaic" model as a built-in model: give it to a `ModelRegistry`
 * (`new ModelRegistry(dir, { builtIn: [mosaic] })`) and `--style neural` works with nothing
 * installed. The file is `model/mosaic.onnx` in this package (also `@framecraft/model-mosaic/model.onnx`).
 *
 * @example
 * ```ts
 * import { mosaic } from '@framecraft/model-mosaic'
 * const session = await OnnxSession.create(mosaic.path)
 * ```
 */
export const mosaic: BuiltInModel = {
  name: 'mosaic',
  version: 'v1',
  description: 'Fast neural style "mosaic" (stained-glass tiles), Johnson et al. TransformerNet',
  // From src/ in the workspace and from dist/ once published: the model folder is beside both.
  path: fileURLToPath(new URL('../model/mosaic.onnx', import.meta.url)),
  sha256: 'c8d043dcf3dd3c2489bd8b78d658f6aeaf546769ea157751f251d1528dd1c804',
  size: 6722537,
  layout: { layout: 'nchw', channels: 'rgb', range: 255 },
  inputs: [{ name: 'input1', shape: [1, 3, 'height', 'width'] }],
  package: '@framecraft/model-mosaic',
  license: 'BSD-3-Clause',
  source:
    'pytorch/examples fast_neural_style weights via the ONNX model zoo (mosaic-9), fp16 storage from Baiyuetribe/ncnn-models; see SOURCE.md',
};

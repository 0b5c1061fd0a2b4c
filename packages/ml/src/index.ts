export type { CudaSupport, CudaSupportOptions } from './cuda.ts';
export { cudaSupport } from './cuda.ts';
export type { MlErrorCode } from './errors.ts';
export { ML_ERRORS, MlError } from './errors.ts';
export type { GuidedOptions } from './guided.ts';
export { cubicResize, downscaleArea, guidedUpsample, scaledSize } from './guided.ts';
export type { Region, TensorLayout } from './layout.ts';
export { frameToTensor, tensorToFrame, ZOO_LAYOUT } from './layout.ts';
export type {
  OnnxAttribute,
  OnnxGraph,
  OnnxModel,
  OnnxNode,
  OnnxTensor,
  OnnxValueInfo,
} from './onnx-model.ts';
export { readOnnxModel, writeOnnxModel } from './onnx-model.ts';
export { TARGET_OPSET, upgradeOpset } from './opset.ts';
export type { ObservedRange, PlanOptions, QuantizationPlan, ValueRange } from './quantize.ts';
export {
  calibrate,
  calibrationModel,
  MIN_INT8_CHANNELS,
  planQuantization,
  quantizeModel,
  RangeObserver,
  uint8Params,
} from './quantize.ts';
export type {
  AddModelOptions,
  BuiltInModel,
  DownloadOptions,
  ModelManifest,
  ModelRef,
  ModelRegistryOptions,
  PromotedVersion,
  QuantizedFrom,
  ResolvedModel,
} from './registry.ts';
export { checkModelName, ModelRegistry, parseModelRef } from './registry.ts';
export type { SessionOptions, TensorInfo } from './session.ts';
export { loadOrt, ModelLoadError, OnnxSession } from './session.ts';
export type { TiledOptions } from './tiled.ts';
export { runTiled, tileSpan, tileStarts } from './tiled.ts';

export type { CudaSupport, CudaSupportOptions } from './cuda.ts';
export { cudaSupport } from './cuda.ts';
export type { MlErrorCode } from './errors.ts';
export { ML_ERRORS, MlError } from './errors.ts';
export type { Region, TensorLayout } from './layout.ts';
export { frameToTensor, tensorToFrame, ZOO_LAYOUT } from './layout.ts';
export type {
  AddModelOptions,
  BuiltInModel,
  DownloadOptions,
  ModelManifest,
  ModelRef,
  ModelRegistryOptions,
  PromotedVersion,
  ResolvedModel,
} from './registry.ts';
export { checkModelName, ModelRegistry, parseModelRef } from './registry.ts';
export type { SessionOptions, TensorInfo } from './session.ts';
export { loadOrt, ModelLoadError, OnnxSession } from './session.ts';
export type { TiledOptions } from './tiled.ts';
export { runTiled, tileSpan, tileStarts } from './tiled.ts';

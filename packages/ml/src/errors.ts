import { FramecraftError } from '@framecraft/core';

/** Every code @framecraft/ml raises, with what it means. */
export const ML_ERRORS = {
  ERR_MODEL_LOAD: 'ONNX Runtime cannot load the model',
  ERR_MODEL_NAME: 'a model name is not a valid name',
  ERR_MODEL_NOT_FOUND: 'the registry has no model of this name (or version)',
  ERR_MODEL_EXISTS: 'the registry already has this name and version',
  ERR_MODEL_BUILT_IN: 'a built-in model cannot be removed or replaced',
  ERR_MODEL_CHECKSUM: "a model file's SHA-256 is not the one expected",
  ERR_DOWNLOAD: 'a model download failed (network, HTTP status or size)',
  ERR_MODEL_REWRITE: 'a model graph cannot be rewritten (opset upgrade or quantization); the node is named',
  ERR_CALIBRATION: 'calibration for quantization has no usable frames',
} as const;

/** A code @framecraft/ml raises. */
export type MlErrorCode = keyof typeof ML_ERRORS;

/** An error @framecraft/ml raises on purpose, its code checked against {@link ML_ERRORS}. */
export class MlError extends FramecraftError<MlErrorCode> {}

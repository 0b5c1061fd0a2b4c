import { FramecraftError } from '@framecraft/core';

/** Every code @framecraft/trainer raises, with what it means. */
export const TRAINER_ERRORS = {
  ERR_PYTHON_MISSING: 'no Python 3 interpreter was found',
  ERR_TORCH_MISSING: 'the Python found has no PyTorch',
  ERR_TRAINER_SCRIPT: 'the training script failed or broke the protocol',
  ERR_DATASET: 'the training pairs are missing or unusable',
  ERR_BASE_MODEL: 'the model to fine-tune cannot be used',
  ERR_EXPORT_PARITY: "the exported ONNX model's output differs from PyTorch's",
  ERR_FEEDBACK: 'a judgement for the feedback log is malformed',
  ERR_ONNX_MISSING: 'the Python found has no onnx package (needed to read the weights to fine-tune)',
  ERR_NO_CUDA: 'training on CUDA was asked for and PyTorch sees no CUDA device',
  ERR_RESUME_MISMATCH: "the run folder's checkpoint was written with other settings",
  ERR_QUANTIZE_QUALITY: 'no int8 version of the model keeps the quality bounds to the float model',
  ERR_TRAINER_CONFIG: 'the training config does not match its schema (python/train-config.schema.json)',
} as const;

/** A code @framecraft/trainer raises. */
export type TrainerErrorCode = keyof typeof TRAINER_ERRORS;

/** An error @framecraft/trainer raises on purpose, its code checked against {@link TRAINER_ERRORS}. */
export class TrainerError extends FramecraftError<TrainerErrorCode> {}

export type {
  AutotuneOptions,
  AutotuneResult,
  TuneConstraint,
  TuneMetric,
  TuneTrial,
} from './autotune.ts';
export { autotune } from './autotune.ts';
export type { BatchItem, BatchOptions, BatchPlan } from './batch.ts';
export { batchOutput, isBatchVideo, planBatch, VIDEO_EXTENSIONS } from './batch.ts';
export type { ChunkResult, ChunkTask } from './chunk.ts';
export {
  decoderThreads,
  encoderThreads,
  fileSha256,
  REPRODUCIBLE_X264_THREADS,
  renderChunk,
} from './chunk.ts';
export { DiskFullError, JobChangedError, JobConfigError, OutputExistsError } from './errors.ts';
export type { FlowTemporalSettings, Job, JobInput, TemporalMode } from './job.ts';
export {
  dataHome,
  JobSchema,
  jobHash,
  parseJob,
  prerollOf,
  stableJson,
  workDirOf,
  X264_PRESETS,
} from './job.ts';
export type { Journal, SegmentRecord } from './journal.ts';
export { intactSegments, JOURNAL_FILE, readJournal, segmentIntact, writeJournal } from './journal.ts';
export type { FramecraftLogger, LoggerOptions } from './logger.ts';
export { createLogger, logFileName } from './logger.ts';
export { limitMallocRetention } from './malloc.ts';
export {
  BUILT_IN_MODELS,
  modelRefOf,
  modelRegistry,
  resolveModelOption,
  withModelFile,
} from './models.ts';
export type { Chunk, PlanInput } from './plan.ts';
export { planChunks } from './plan.ts';
export type { PresetEntry, RenderPreset } from './presets.ts';
export {
  BUILT_IN_PRESETS,
  deletePreset,
  listPresets,
  loadPreset,
  PresetError,
  parsePreset,
  presetJobFields,
  presetsDir,
  RenderPresetSchema,
  savePreset,
} from './presets.ts';
export type {
  FinishOptions,
  PlanOptions,
  RenderModel,
  RenderOptions,
  RenderPlan,
  RenderProgress,
  RenderResult,
} from './render.ts';
export {
  chunkTaskOf,
  chunkWorkers,
  finishRender,
  modelOptionsOf,
  planRender,
  render,
  writeRenderJournal,
} from './render.ts';
export { ChunkThreads } from './threads.ts';

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
export { decoderThreads, encoderThreads, REPRODUCIBLE_X264_THREADS, renderChunk } from './chunk.ts';
export type { Chunk, PlanInput } from './chunk-plan.ts';
export { planChunks } from './chunk-plan.ts';
export type { PipelineErrorCode } from './errors.ts';
export {
  DiskFullError,
  JobChangedError,
  JobConfigError,
  OutputExistsError,
  PIPELINE_ERRORS,
  PipelineError,
} from './errors.ts';
export type { FinishOptions, RenderMetrics } from './finish.ts';
export { finishRender } from './finish.ts';
export type { FlowTemporalSettings, Job, JobInput, TemporalMode } from './job.ts';
export {
  assertJobInput,
  dataHome,
  JobSchema,
  jobHash,
  parseJob,
  prerollOf,
  workDirOf,
  X264_PRESETS,
} from './job.ts';
export type { Journal, SegmentRecord } from './journal.ts';
export { intactSegments, JOURNAL_FILE, readJournal, segmentIntact, writeJournal } from './journal.ts';
export type { FramecraftLogger, LoggerOptions } from './logger.ts';
export { createLogger, logFileName } from './logger.ts';
export {
  BUILT_IN_MODELS,
  modelRegistry,
  resolveStyleModel,
  styleModelRef,
  withStyleModel,
} from './models.ts';
export type { PlanOptions, RenderPlan } from './plan.ts';
export { planRender } from './plan.ts';
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
export type { RenderProgress } from './progress.ts';
export { ProgressTracker } from './progress.ts';
export type { RenderOptions, RenderResult } from './render.ts';
export { render } from './render.ts';
export type { RunOptions, RunResult } from './run.ts';
export { chunkWorkers, renderChunks } from './run.ts';
export { ChunkThreads } from './threads.ts';
export type { JournaledRender, RenderModel } from './work-folder.ts';
export { chunkFileName, chunkTaskOf, writeRenderJournal } from './work-folder.ts';

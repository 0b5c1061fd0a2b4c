export type { AutotuneCommandOptions } from './commands/autotune.ts';
export { autotuneCommand } from './commands/autotune.ts';
export type { BenchmarkCommandOptions, StageTiming } from './commands/benchmark.ts';
export { benchmarkCommand } from './commands/benchmark.ts';
export type { DemoCommandOptions } from './commands/demo.ts';
export { demoCommand } from './commands/demo.ts';
export type { PresetSaveOptions } from './commands/presets.ts';
export {
  presetsDeleteCommand,
  presetsListCommand,
  presetsSaveCommand,
  presetsShowCommand,
} from './commands/presets.ts';
export type { PreviewCommandOptions } from './commands/preview.ts';
export { parseTime, previewCommand } from './commands/preview.ts';
export type { ProbeCommandOptions } from './commands/probe.ts';
export { probeCommand } from './commands/probe.ts';
export { renderCommand } from './commands/render.ts';
export type { TranscodeCommandOptions } from './commands/transcode.ts';
export { transcodeCommand } from './commands/transcode.ts';
export type { SheetTile } from './contact-sheet.ts';
export { writeContactSheet } from './contact-sheet.ts';
export type { CliErrorCode } from './errors.ts';
export { CLI_ERRORS, CliError, checkOutputPath, formatError, UsageError } from './errors.ts';
export { formatProbe } from './format-probe.ts';
export { createProgram } from './program.ts';
export type { ProgressMode, ProgressReporter, ProgressUpdate } from './progress.ts';
export { createProgress, progressMode, renderUpdate } from './progress.ts';
export type { RenderCommandOptions } from './render-runner.ts';
export { parseStyleOptions } from './style-flags.ts';

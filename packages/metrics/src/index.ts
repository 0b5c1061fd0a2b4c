export { meanLuma, mse, psnr, sharpness } from './basic.ts';
export type {
  FrameRecord,
  MetricSelection,
  MetricStats,
  MetricsCollectorOptions,
  MetricsSummary,
} from './collector.ts';
export { MetricsCollector, summarize } from './collector.ts';
export type { EdgeOptions } from './edges.ts';
export { edgeCoherence, edgeMap } from './edges.ts';
export type { LumaView } from './luma.ts';
export { assertSameSize, lumaOf } from './luma.ts';
export type { SsimOptions, SsimScratch } from './ssim.ts';
export { createSsimScratch, ssim } from './ssim.ts';
export type { ParallelSsimOptions } from './ssim-parallel.ts';
export { ParallelSsim } from './ssim-parallel.ts';
export { globalFlicker, temporalConsistency } from './temporal.ts';
export type { WarpingErrorOptions } from './warping.ts';
export { InputMotion, WarpingErrorMeter, warpingError } from './warping.ts';

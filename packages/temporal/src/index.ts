export type { DeflickerOptions, DeflickerState } from './deflicker.ts';
export { Deflicker } from './deflicker.ts';
export type { EdgeStabilizerOptions, EdgeStabilizerState } from './edge-stabilizer.ts';
export { EdgeStabilizer } from './edge-stabilizer.ts';
export type { EmaOptions, EmaState } from './ema.ts';
export { EmaStabilizer } from './ema.ts';
export type { SceneCutOptions, SceneCutState } from './scene-cut.ts';
export { histogramStep, lumaHistogram, SceneCutDetector } from './scene-cut.ts';

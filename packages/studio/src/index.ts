export type { StudioAppOptions } from './app.ts';
export { createApp } from './app.ts';
export type { QueuedJob, QueueListener, Renderer, RenderQueueOptions } from './queue.ts';
export { RenderQueue } from './queue.ts';
export { AllowedRoots, PathNotAllowedError } from './roots.ts';
export type { RunningStudio, StudioOptions } from './server.ts';
export { startStudio } from './server.ts';
export type { TrainingRun, TrainRequest } from './training.ts';
export { TrainingRuns } from './training.ts';

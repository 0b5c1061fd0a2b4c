export type { StudioAppOptions } from './app.ts';
export { createApp } from './app.ts';
export { AllowedRoots, PathNotAllowedError } from './roots.ts';
export type { RunningStudio, StudioOptions } from './server.ts';
export { startStudio } from './server.ts';

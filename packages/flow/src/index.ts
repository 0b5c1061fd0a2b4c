export type { ConsistencyOptions } from './consistency.ts';
export { consistencyMask } from './consistency.ts';
export type { DisOptions, DisPreset } from './dis.ts';
export { DisFlow, FlowImage } from './dis.ts';
export { frameLuma } from './frame-luma.ts';
export type { LumaPlane } from './pyramid.ts';
export { warpFrame, warpPlane } from './warp.ts';

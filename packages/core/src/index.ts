export { assert, assertInteger } from './assert.ts';
export type { CoreErrorCode, ErrorCodeTable, FramecraftErrorOptions } from './errors.ts';
export {
  CanceledError,
  CORE_ERRORS,
  describeValue,
  FramecraftError,
  invalidArgumentMessage,
  invalidRangeError,
  invalidTypeError,
} from './errors.ts';
export type {
  ColorInfo,
  ColorMatrix,
  ColorPrimaries,
  ColorRange,
  ColorTransfer,
  CreateFrameOptions,
  Frame,
  Plane,
  PlaneData,
  Rational,
} from './frame.ts';
export {
  cloneFrame,
  createFrame,
  padFrame,
  toSeconds,
  UNKNOWN_COLOR,
  validateFrame,
  withTimingOf,
} from './frame.ts';
export type { PixelFormat, PixelFormatInfo, PlaneGeometry, SampleType } from './pixel-format.ts';
export { isPixelFormat, PIXEL_FORMATS, pixelFormatInfo, planeGeometry } from './pixel-format.ts';
export { instantiateKernel, lazyWasmModule } from './wasm.ts';

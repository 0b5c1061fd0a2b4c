export type { CubeFile, Lut1D, Lut3D, ParseCubeOptions } from './cube.ts';
export { MAX_1D_SIZE, MAX_3D_SIZE, parseCube, writeCube } from './cube.ts';
export type { ColorErrorCode } from './errors.ts';
export { COLOR_ERRORS, ColorError, LutParseError } from './errors.ts';
export type { ApplyLutOptions, Interpolation, PreparedLut3D } from './lut.ts';
export { applyLut1d, applyLut3d, applyLut3dFloat, bakeLut3d, identityLut3d, prepareLut3d } from './lut.ts';
export {
  linearToSrgb,
  linearToSrgb8,
  linearToSrgb8Array,
  SRGB8_TO_LINEAR,
  srgb8ToLinearArray,
  srgbToLinear,
} from './transfer.ts';
export type { LumaWeights, YcbcrCoefficients, YcbcrFrameOptions, YcbcrStandard } from './ycbcr.ts';
export {
  LUMA_WEIGHTS,
  rgbBytes,
  rgbToYcbcr,
  standardOf,
  ycbcrCoefficients,
  ycbcrToRgb,
  yuvToRgb24,
} from './ycbcr.ts';

export {
  decodeAll,
  meanLuma,
  psnr,
  samePixels,
  streamDigest,
  tempDir,
  writeUndecodableVideo,
  writeWav,
} from './fixtures.ts';
export { affineModel } from './onnx-model.ts';

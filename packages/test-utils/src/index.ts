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

export type { DecodedAudio } from './audio-reader.ts';
export { readAudio } from './audio-reader.ts';
export type { AudioTrackOptions } from './audio-track.ts';
export type { NodeAv } from './binding.ts';
export { loadNodeAv } from './binding.ts';
export { type Chapter, readChapters } from './chapters.ts';
export { type DiskSpace, diskSpace } from './disk.ts';
export type { EncodedSize, EncoderChoice, EncoderName, EncoderSettings } from './encoders.ts';
export { encodedSize, paddedSizeNote } from './encoders.ts';
export type { IoErrorCode } from './errors.ts';
export {
  EncoderUnavailableError,
  FFmpegError,
  FrameSizeError,
  IO_ERRORS,
  IoError,
  MediaFileError,
  NativeBindingError,
  noFramesError,
  UnsupportedInputError,
} from './errors.ts';
export { fileSha256 } from './file-sha256.ts';
export type { GpuInfo, HardwareInfo, HardwareInfoOptions } from './hardware.ts';
export { hardwareInfo, parseNvidiaSmi, queryNvidiaGpus } from './hardware.ts';
export { writeMatroskaChapters } from './matroska-chapters-write.ts';
export { MAX_MP4_CHAPTERS, writeMp4Chapters } from './mp4-chapters-write.ts';
export {
  existingOutput,
  muxerForPath,
  OUTPUT_CONTAINERS,
  outputContainer,
  outputEncoder,
  PartialFile,
  writeFileAtomic,
} from './output-file.ts';
export type {
  AudioStreamInfo,
  BaseStreamInfo,
  OtherStreamInfo,
  ProbeOptions,
  ProbeResult,
  StreamInfo,
  StreamType,
  VideoStreamInfo,
} from './probe.ts';
export { probe } from './probe.ts';
export type { RemuxOptions, RemuxResult } from './remux.ts';
export { remux } from './remux.ts';
export type { TranscodeOptions, TranscodeProgress, TranscodeResult } from './transcode.ts';
export { transcode } from './transcode.ts';
export type { EncoderCheck, VideoEncoderSettings } from './video-encoder.ts';
export { checkEncoder } from './video-encoder.ts';
export type { VideoFilterOptions } from './video-filter.ts';
export { VideoFilter } from './video-filter.ts';
export type { Position, ReadFormat, ReadOptions, VideoReaderOptions } from './video-reader.ts';
export { VideoReader } from './video-reader.ts';
export type { EncoderFallback, VideoWriterOptions, WriteResult } from './video-writer.ts';
export { encodedColor, VideoWriter } from './video-writer.ts';

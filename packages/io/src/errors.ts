import { FramecraftError, type FramecraftErrorOptions } from '@framecraft/core';

/** Every code @framecraft/io raises, with what it means. */
export const IO_ERRORS = {
  ERR_NATIVE_BINDING: "FFmpeg's native binding (node-av) cannot be loaded on this platform",
  ERR_FILE_NOT_FOUND: 'the file does not exist',
  ERR_ACCESS_DENIED: 'the file cannot be read or written: permission denied',
  ERR_NOT_A_FILE: 'the path is a folder or a device, not a file',
  ERR_EMPTY_FILE: 'the file is empty (0 bytes)',
  ERR_NOT_MEDIA: 'FFmpeg does not recognise the file as video or audio',
  ERR_TRUNCATED_MEDIA: 'the file ends before its streams do: it was cut short',
  ERR_NO_VIDEO_STREAM: 'the file (or a segment) has no video stream',
  ERR_NO_AUDIO_STREAM: 'the file has no audio stream',
  ERR_NO_FRAMES: 'the video stream decodes to no frames',
  ERR_UNSUPPORTED_CODEC: "a stream's codec has no decoder in this FFmpeg build",
  ERR_FFMPEG: 'FFmpeg failed on the file (its own message is kept)',
  ERR_FRAME_SIZE: 'frames of this size cannot be encoded with the chosen codec',
  ERR_ENCODER_UNAVAILABLE:
    'the encoder asked for is not in this FFmpeg build or has no device (NVENC without a GPU)',
  ERR_OUTPUT_CODEC: "the output's container cannot hold the chosen codec",
  ERR_OUTPUT_FORMAT: "FFmpeg has no muxer for the output's container",
  ERR_OUTPUT_NOT_FILE: 'the output path is a folder or a device',
  ERR_NO_SEGMENTS: 'a concatenation was given no segments',
  ERR_READ_CHAPTERS: "a file's chapters cannot be read (a damaged box or element)",
  ERR_WRITE_CHAPTERS: 'chapters cannot be written into the file',
} as const;

/** A code @framecraft/io raises. */
export type IoErrorCode = keyof typeof IO_ERRORS;

/** An error @framecraft/io raises on purpose, its code checked against {@link IO_ERRORS}. */
export class IoError extends FramecraftError<IoErrorCode> {}

/** Raised when FFmpeg's native binding cannot be loaded on this platform. */
export class NativeBindingError extends FramecraftError<IoErrorCode> {
  /** Every underlying load failure. */
  readonly errors: readonly unknown[];

  /**
   * Create the error.
   *
   * @param platformPackage - The prebuilt package expected for this platform and whether it is there.
   * @param errors - The load failures.
   */
  constructor(platformPackage: string, errors: readonly unknown[]) {
    const details = errors.map((e) => `  - ${e instanceof Error ? e.message : String(e)}`).join('\n');
    super(
      'ERR_NATIVE_BINDING',
      `Could not load FFmpeg through node-av on ${process.platform}-${process.arch} (Node ABI ${process.versions.modules}).\n` +
        `Expected prebuilt binary: ${platformPackage}.\n${details}\n` +
        'Possible fixes: reinstall with optional dependencies enabled (npm install --include=optional), ' +
        'make sure the platform package matches this machine, or use a supported platform (linux/darwin/win32, x64/arm64).',
      { cause: errors[0] },
    );
    this.name = 'NativeBindingError';
    this.errors = errors;
  }
}

/** Base of the errors about one input or output file. */
export class MediaFileError extends FramecraftError<IoErrorCode> {
  /** The file concerned. */
  readonly file: string;

  /**
   * Create an error about a file.
   *
   * @param code - Stable error code.
   * @param file - The file concerned.
   * @param message - What is wrong with it and what to do.
   * @param options - The underlying cause.
   */
  constructor(code: IoErrorCode, file: string, message: string, options: FramecraftErrorOptions = {}) {
    super(code, `${file}: ${message}`, options);
    this.name = 'MediaFileError';
    this.file = file;
  }
}

/** Raised for an input a caller can act on (show the user, skip the file): missing, empty, not media, truncated, no video, unsupported codec. */
export class UnsupportedInputError extends MediaFileError {
  /**
   * Create the error.
   *
   * @param code - One of the `ERR_*` input codes listed in the package README.
   * @param file - The input file.
   * @param message - What is wrong.
   * @param options - The underlying cause.
   */
  constructor(code: IoErrorCode, file: string, message: string, options: FramecraftErrorOptions = {}) {
    super(code, file, message, options);
    this.name = 'UnsupportedInputError';
  }
}

/** Raised when an FFmpeg call fails in a way no more specific error describes. */
export class FFmpegError extends MediaFileError {
  /** FFmpeg's negative error number (kept for diagnostics only). */
  readonly ffmpegCode: number;
  /** The operation that failed, for example `"open encoder libx264"`. */
  readonly operation: string;

  /**
   * Create the error.
   *
   * @param file - The file being read or written.
   * @param operation - What was being done.
   * @param ffmpegCode - FFmpeg's error number.
   * @param reason - FFmpeg's text for it.
   */
  constructor(file: string, operation: string, ffmpegCode: number, reason: string) {
    super('ERR_FFMPEG', file, `${operation} failed: ${reason}`);
    this.name = 'FFmpegError';
    this.ffmpegCode = ffmpegCode;
    this.operation = operation;
  }
}

/**
 * The error for a video stream none of whose frames decode (no samples, or only corrupt ones).
 *
 * @param file - The input.
 * @returns An {@link UnsupportedInputError} with code `ERR_NO_FRAMES`.
 */
export function noFramesError(file: string): UnsupportedInputError {
  return new UnsupportedInputError(
    'ERR_NO_FRAMES',
    file,
    'none of its video frames decode (the video stream is empty or corrupt); nothing to stylize.',
  );
}

/** Raised for frames of a size an encoder cannot take (`ERR_FRAME_SIZE`). */
export class FrameSizeError extends MediaFileError {
  readonly width: number;
  readonly height: number;

  /**
   * Create the error.
   *
   * @param file - The file the frames come from or go to.
   * @param width - Frame width.
   * @param height - Frame height.
   * @param why - The limit, for example "libx264 encodes at most 16384 pixels on a side".
   */
  constructor(file: string, width: number, height: number, why: string) {
    super('ERR_FRAME_SIZE', file, `frames of ${width}x${height} cannot be encoded: ${why}.`);
    this.name = 'FrameSizeError';
    this.width = width;
    this.height = height;
  }
}

/** Raised when a requested encoder cannot be opened and no fallback applies. */
export class EncoderUnavailableError extends FramecraftError<IoErrorCode> {
  /**
   * Create the error.
   *
   * @param encoder - The encoder asked for.
   * @param reason - Why it is unusable.
   */
  constructor(encoder: string, reason: string) {
    super('ERR_ENCODER_UNAVAILABLE', `Encoder ${encoder} is not usable here: ${reason}`);
    this.name = 'EncoderUnavailableError';
  }
}

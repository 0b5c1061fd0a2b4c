import { open, stat } from 'node:fs/promises';
import { nodeAvSync } from './binding.ts';
import { FFmpegError, UnsupportedInputError } from './errors.ts';

// The one place where FFmpeg's negative integers become typed errors. Nothing above this
// module sees an AVERROR value.

/**
 * Pass a non-negative FFmpeg return value through, or throw the typed error for a negative one.
 *
 * @param ret - FFmpeg's return value.
 * @param file - The file being read or written.
 * @param operation - What was being done, for the message.
 * @returns `ret` when it is not an error.
 * @throws {FFmpegError} When `ret` is negative.
 */
export function check(ret: number, file: string, operation: string): number {
  if (ret >= 0) return ret;
  throw toError(ret, file, operation);
}

/**
 * Convert FFmpeg's error number into the matching typed error.
 *
 * @param ret - FFmpeg's negative return value.
 * @param file - The file concerned.
 * @param operation - What was being done.
 * @returns The error to throw.
 */
export function toError(ret: number, file: string, operation: string): Error {
  const av = nodeAvSync();
  const reason = av.FFmpegError.strerror(ret);
  if (ret === av.AVERROR_ENOENT) {
    return new UnsupportedInputError('ERR_FILE_NOT_FOUND', file, 'file not found. Check the path.');
  }
  if (ret === av.AVERROR_EACCES) {
    return new UnsupportedInputError('ERR_ACCESS_DENIED', file, `permission denied during ${operation}.`);
  }
  return new FFmpegError(file, operation, ret, reason);
}

/**
 * FFmpeg's text for an error number, for messages of errors that carry their own code.
 *
 * @param ret - FFmpeg's negative return value.
 * @returns For example "Invalid argument".
 */
export function reasonOf(ret: number): string {
  return nodeAvSync().FFmpegError.strerror(ret);
}

/**
 * Tell whether a return value means "try again" (EAGAIN).
 *
 * @param ret - FFmpeg's return value.
 * @returns True for EAGAIN.
 */
export function isAgain(ret: number): boolean {
  return ret === nodeAvSync().AVERROR_EAGAIN;
}

/**
 * Tell whether a return value means end of stream.
 *
 * @param ret - FFmpeg's return value.
 * @returns True for AVERROR_EOF.
 */
export function isEof(ret: number): boolean {
  return ret === nodeAvSync().AVERROR_EOF;
}

/**
 * Tell whether a return value means corrupt or truncated data.
 *
 * @param ret - FFmpeg's return value.
 * @returns True for AVERROR_INVALIDDATA.
 */
export function isInvalidData(ret: number): boolean {
  return ret === nodeAvSync().AVERROR_INVALIDDATA;
}

/**
 * Check an input path before FFmpeg opens it, so the common mistakes get their own errors.
 *
 * @param file - The input path.
 * @throws {UnsupportedInputError} `ERR_FILE_NOT_FOUND`, `ERR_NOT_A_FILE` or `ERR_EMPTY_FILE`.
 */
export async function checkInputFile(file: string): Promise<void> {
  let size: number;
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new UnsupportedInputError('ERR_NOT_A_FILE', file, 'is not a regular file.');
    size = st.size;
  } catch (err) {
    if (UnsupportedInputError.is(err)) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new UnsupportedInputError('ERR_FILE_NOT_FOUND', file, 'file not found. Check the path.');
    if (code === 'EACCES') throw new UnsupportedInputError('ERR_ACCESS_DENIED', file, 'permission denied.');
    throw err;
  }
  if (size === 0) throw new UnsupportedInputError('ERR_EMPTY_FILE', file, 'the file is empty (0 bytes).');
}

/**
 * Explain why FFmpeg could not open an input: not a media file at all, or a media file that is
 * cut short or damaged.
 *
 * @param file - The input path.
 * @param ret - FFmpeg's return value from opening it.
 * @returns The error to throw.
 */
export async function openInputError(file: string, ret: number): Promise<Error> {
  const av = nodeAvSync();
  if (ret !== av.AVERROR_INVALIDDATA) return toError(ret, file, 'open input');
  const head = Buffer.alloc(64 * 1024);
  const fh = await open(file, 'r');
  let n = 0;
  try {
    n = (await fh.read(head, 0, head.length, 0)).bytesRead;
  } finally {
    await fh.close();
  }
  // The high-level API (with its confidence score) is loaded only on this error path.
  const { Demuxer } = await import('node-av/api');
  const guess = Demuxer.probeFormatSync(head.subarray(0, n));
  if (guess !== null && guess.confidence >= 50) {
    return new UnsupportedInputError(
      'ERR_TRUNCATED_MEDIA',
      file,
      `looks like ${guess.format} but cannot be read: the file is truncated or damaged (${av.FFmpegError.strerror(ret)}). ` +
        'Re-copy or re-download it.',
    );
  }
  return new UnsupportedInputError('ERR_NOT_MEDIA', file, 'is not a video or audio file FFmpeg recognises.');
}

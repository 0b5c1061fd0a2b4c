import type { FormatContext } from 'node-av';
import { loadNodeAv } from './binding.ts';
import { check, checkInputFile, openInputError } from './ffmpeg-error.ts';

/**
 * Open a media file for demuxing and read its stream information.
 *
 * @param file - Path of the input.
 * @returns An open format context; the caller closes it with `closeInput()`.
 * @throws {UnsupportedInputError} For a missing, empty, non-media or truncated file.
 * @throws {FFmpegError} For other FFmpeg failures.
 */
export async function openInput(file: string): Promise<FormatContext> {
  await checkInputFile(file);
  const av = await loadNodeAv();
  const ctx = new av.FormatContext();
  ctx.allocContext();
  const ret = await ctx.openInput(file, null, null);
  if (ret < 0) {
    ctx.freeContext();
    throw await openInputError(file, ret);
  }
  try {
    const info = await ctx.findStreamInfo(null);
    if (info < 0) throw await openInputError(file, info);
    check(info, file, 'read stream information');
  } catch (err) {
    await ctx.closeInput();
    throw err;
  }
  return ctx;
}

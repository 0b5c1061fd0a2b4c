import { randomBytes } from 'node:crypto';
import { lstatSync, type Stats } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { MediaFileError } from './errors.ts';

/**
 * A file written under a temporary name beside its final path and renamed into place only when
 * complete, so a crash never leaves a half-written file at the path the user asked for.
 */
export class PartialFile {
  /** The path the finished file will have. */
  readonly finalPath: string;
  /** Where it is written meanwhile (same folder, so the rename is atomic). */
  readonly tempPath: string;

  /**
   * Reserve a temporary name for a final path.
   *
   * @param finalPath - The path the finished file will have.
   */
  constructor(finalPath: string) {
    this.finalPath = finalPath;
    const ext = extname(finalPath);
    const stem = basename(finalPath, ext);
    this.tempPath = join(
      dirname(finalPath),
      `.${stem}.partial-${process.pid}-${randomBytes(4).toString('hex')}${ext}`,
    );
  }

  /**
   * Move the finished file into place, replacing any regular file there.
   *
   * @throws {MediaFileError} `ERR_OUTPUT_NOT_FILE` when something else is there (a device, a link…); the temporary file is removed.
   */
  async commit(): Promise<void> {
    try {
      existingOutput(this.finalPath);
    } catch (err) {
      await this.discard();
      throw err;
    }
    await rename(this.tempPath, this.finalPath);
  }

  /** Delete the temporary file; the final path is never touched. */
  async discard(): Promise<void> {
    await rm(this.tempPath, { force: true });
  }
}

/**
 * Write a small file (a journal, a queue, a preset, a summary) atomically: into a temporary file
 * beside it, then renamed over it, so a kill at any moment leaves the old content or the new one,
 * never half of one. The temporary name is unique per process and call.
 *
 * @param path - The file.
 * @param data - Its new content.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** The output files renders and transcodes write, by extension, with FFmpeg's muxer for each. */
export const OUTPUT_CONTAINERS: Readonly<Record<string, string>> = {
  '.mp4': 'mp4',
  '.m4v': 'mp4',
  '.mov': 'mov',
  '.mkv': 'matroska',
  '.webm': 'webm',
};

/** The encoders whose video a container takes, where it is choosy (WebM: VP9 and AV1), the first its default. */
const CONTAINER_ENCODERS: Readonly<Record<string, readonly string[]>> = {
  webm: ['libvpx-vp9', 'libsvtav1', 'av1_nvenc'],
};

/**
 * The encoder a render or transcode into `path` uses: `codec` as given, except that `auto` into a
 * container that takes only some video codecs becomes its default (WebM: VP9), and an encoder such
 * a container cannot take is refused before any work.
 *
 * @param path - The output path (its container from the extension).
 * @param codec - The encoder asked for (`auto`, `libx264`, …).
 * @returns The encoder to use (`auto` left as it is for the other containers).
 * @throws {MediaFileError} `ERR_OUTPUT_CODEC` naming the file, the encoder and the ones that work.
 */
export function outputEncoder(path: string, codec: string): string {
  const allowed = CONTAINER_ENCODERS[outputContainer(path)];
  if (allowed === undefined) return codec;
  if (codec === 'auto') return allowed[0]!;
  if (allowed.includes(codec)) return codec;
  throw new MediaFileError(
    'ERR_OUTPUT_CODEC',
    path,
    `WebM takes VP9 or AV1 video, not ${codec}: use --codec ${allowed.join(' or ')} (or leave --codec out), or an .mp4/.mkv output.`,
  );
}

/**
 * Check that a path names an output container renders and transcodes can write (with the source's
 * audio, subtitles and chapters), before any work is done.
 *
 * @param path - The output path.
 * @returns FFmpeg's muxer name for it.
 * @throws {MediaFileError} `ERR_OUTPUT_FORMAT` naming the file and listing the extensions that work.
 */
export function outputContainer(path: string): string {
  const ext = extname(path).toLowerCase();
  const muxer = OUTPUT_CONTAINERS[ext];
  if (muxer !== undefined) return muxer;
  const list = Object.keys(OUTPUT_CONTAINERS).join(', ');
  const what = ext === '' ? 'has no extension' : `ends in ${ext}`;
  throw new MediaFileError(
    'ERR_OUTPUT_FORMAT',
    path,
    `${what}; Framecraft writes ${list} outputs. Choose one of those extensions.`,
  );
}

/**
 * Check that nothing but a regular file would be replaced at an output path: a device, a pipe, a
 * socket, a folder or a symbolic link there is refused (the output is renamed into place, which
 * would put a file where that thing was).
 *
 * @param path - The output path.
 * @returns True when a regular file is there, false when nothing is.
 * @throws {MediaFileError} `ERR_OUTPUT_NOT_FILE` naming what is there.
 */
export function existingOutput(path: string): boolean {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch {
    return false;
  }
  if (st.isFile()) return true;
  const what = st.isDirectory()
    ? 'a folder'
    : st.isSymbolicLink()
      ? 'a symbolic link'
      : st.isCharacterDevice()
        ? 'a character device'
        : st.isBlockDevice()
          ? 'a block device'
          : st.isFIFO()
            ? 'a named pipe'
            : 'a socket';
  throw new MediaFileError(
    'ERR_OUTPUT_NOT_FILE',
    path,
    `is ${what}, not a regular file; the output is written beside it and renamed into place, which would replace it. Choose a file path.`,
  );
}

/**
 * Guess FFmpeg's muxer name from a path's extension.
 *
 * @param path - An output path.
 * @returns A muxer name FFmpeg knows (`mp4`, `matroska`, `mov`, `webm`, …).
 */
export function muxerForPath(path: string): string {
  const ext = extname(path).toLowerCase().slice(1);
  const known: Record<string, string> = {
    mp4: 'mp4',
    m4v: 'mp4',
    mov: 'mov',
    mkv: 'matroska',
    webm: 'webm',
    avi: 'avi',
    ts: 'mpegts',
    m2ts: 'mpegts',
    nut: 'nut',
    m4a: 'ipod',
    wav: 'wav',
  };
  return known[ext] ?? ext;
}

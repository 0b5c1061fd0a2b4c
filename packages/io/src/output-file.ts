import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';

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

  /** Move the finished file into place, replacing any file there. */
  async commit(): Promise<void> {
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

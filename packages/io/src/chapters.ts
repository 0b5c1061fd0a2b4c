// Chapters by hand: node-av 6.1 exposes no chapter list (FFmpeg's AVFormatContext.chapters), so
// they are read straight from the container and written into it after muxing. One module per
// container and role: mp4-chapters.ts reads (a QuickTime chapter track, else Nero `chpl`) and
// mp4-chapters-write.ts writes (a Nero `chpl` box in moov/udta, which FFmpeg, so mpv, VLC and
// ffprobe, reads), over mp4-boxes.ts; matroska-chapters.ts and matroska-chapters-write.ts do the
// same for Matroska/WebM `Chapters` over ebml.ts. Both writers change a finished file that is not
// yet at its final path (remux gives them its PartialFile's temporary name): the MP4 writer must
// rewrite it (a bigger moov moves every chunk offset after it) into a scratch file renamed over
// it; the Matroska writer appends in place, since no byte of media moves.
import { type FileHandle, open } from 'node:fs/promises';
import { MediaFileError } from './errors.ts';
import { matroskaChapters } from './matroska-chapters.ts';
import { MP4_TOP } from './mp4-boxes.ts';
import { mp4Chapters } from './mp4-chapters.ts';
import { readAt } from './read-at.ts';

/** One chapter, in seconds on the file's timeline. */
export interface Chapter {
  readonly start: number;
  /** End, seconds; the next chapter's start (or the end of the file) when the container has none. */
  readonly end: number | null;
  readonly title: string;
}

/**
 * The chapters of a video file: a QuickTime chapter track or Nero `chpl` box in MP4/MOV, the
 * default edition's `Chapters` in Matroska/WebM. Other containers (and files without chapters)
 * give an empty list.
 *
 * @param path - The file.
 * @returns Its chapters, by start time.
 * @throws {MediaFileError} When the file cannot be opened or its chapter data is cut short.
 */
export async function readChapters(path: string): Promise<Chapter[]> {
  return (await readChapterList(path)).chapters;
}

/** Chapters and, for MP4/MOV, the IDs of the QuickTime chapter tracks they came from. */
export async function readChapterList(path: string): Promise<{ chapters: Chapter[]; trackIds: number[] }> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new MediaFileError('ERR_READ_CHAPTERS', path, `cannot open: ${(err as Error).message}`);
  }
  try {
    const size = (await fh.stat()).size;
    const head = await readAt(fh, 0, Math.min(12, size));
    const found =
      head.length >= 4 && head.readUInt32BE(0) === 0x1a45dfa3
        ? { chapters: await matroskaChapters(fh, size, path), trackIds: [] }
        : head.length >= 8 && MP4_TOP.has(head.toString('latin1', 4, 8))
          ? await mp4Chapters(fh, size, path)
          : { chapters: [], trackIds: [] };
    found.chapters.sort((a, b) => a.start - b.start);
    return found;
  } finally {
    await fh.close();
  }
}

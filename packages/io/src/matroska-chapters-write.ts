// Chapters written into a finished Matroska / WebM file, in place (appended; SeekHead updated).
import { open } from 'node:fs/promises';
import type { Chapter } from './chapters.ts';
import {
  ATOM,
  CHAP_LANGUAGE,
  CHAP_STRING,
  CHAPTER_UID,
  CHAPTERS,
  DISPLAY,
  EDITION,
  EDITION_DEFAULT,
  EDITION_UID,
  ebmlElement,
  ebmlHeader,
  ebmlSize,
  ebmlUint,
  ebmlVoid,
  findSegment,
  SEEK,
  SEEK_HEAD,
  SEEK_ID,
  SEEK_POSITION,
  seekEntries,
  TIME_END,
  TIME_START,
  VOID,
} from './ebml.ts';
import { MediaFileError } from './errors.ts';
import { readAt } from './read-at.ts';

/** A Matroska `Chapters` element: one default edition, a chapter atom per chapter. */
function matroskaChaptersElement(chapters: readonly Chapter[]): Buffer {
  const atoms = chapters.map((c, i) =>
    ebmlElement(
      ATOM,
      Buffer.concat([
        ebmlElement(CHAPTER_UID, ebmlUint(i + 1)),
        ebmlElement(TIME_START, ebmlUint(c.start * 1e9)),
        ...(c.end !== null ? [ebmlElement(TIME_END, ebmlUint(c.end * 1e9))] : []),
        ebmlElement(
          DISPLAY,
          Buffer.concat([
            ebmlElement(CHAP_STRING, Buffer.from(c.title, 'utf8')),
            ebmlElement(CHAP_LANGUAGE, Buffer.from('und', 'latin1')),
          ]),
        ),
      ]),
    ),
  );
  const edition = ebmlElement(
    EDITION,
    Buffer.concat([
      ebmlElement(EDITION_UID, ebmlUint(1)),
      ebmlElement(EDITION_DEFAULT, ebmlUint(1)),
      ...atoms,
    ]),
  );
  return ebmlElement(CHAPTERS, edition);
}

/**
 * Put chapters into a finished Matroska/WebM file, in place: a `Chapters` element appended at the
 * end of the segment (one there already is turned into Void), its position added to the SeekHead
 * in the Void space muxers reserve after it, and the segment's size updated. Chapters without an
 * end time get the next one's start (the last keeps none).
 *
 * @param path - The finished file (one segment of known size, the SeekHead first, as FFmpeg writes).
 * @param chapters - Chapters by start time, seconds.
 * @returns False, with the file untouched, when its layout leaves no room: no SeekHead with Void
 *   space after it, a segment of unknown size, or data after the segment.
 * @throws {MediaFileError} When the file cannot be read or written.
 */
export async function writeMatroskaChapters(path: string, chapters: readonly Chapter[]): Promise<boolean> {
  const fh = await open(path, 'r+').catch((err: Error) => {
    throw new MediaFileError('ERR_WRITE_CHAPTERS', path, `cannot open: ${err.message}`);
  });
  try {
    const size = (await fh.stat()).size;
    const seg = await findSegment(fh, size);
    if (seg === null || seg.size === null || seg.data + seg.size !== size) return false;
    const segData = seg.data;
    // The segment's level-1 elements.
    const level1: { id: number; start: number; data: number; end: number }[] = [];
    for (let p = segData; p < size; ) {
      const h = ebmlHeader(await readAt(fh, p, 12), 0);
      if (h === null || h.size === null) return false;
      level1.push({ id: h.id, start: p, data: p + h.len, end: p + h.len + h.size });
      p += h.len + h.size;
    }
    const seekAt = level1.findIndex((e) => e.id === SEEK_HEAD);
    const seekHead = level1[seekAt];
    const after = level1[seekAt + 1];
    if (seekHead === undefined || after === undefined || after.id !== VOID) return false;
    const room = after.end - seekHead.start;
    const list = chapters.map((c, i) => ({ ...c, end: c.end ?? chapters[i + 1]?.start ?? null }));
    const element = matroskaChaptersElement(list);
    // The SeekHead again, its Chapters entry (if any) pointing at the new element.
    const seeks = seekEntries(await readAt(fh, seekHead.data, seekHead.end - seekHead.data))
      .filter((e) => e.id !== CHAPTERS)
      .map((e) => e.bytes);
    const entry = ebmlElement(
      SEEK,
      Buffer.concat([
        ebmlElement(SEEK_ID, ebmlUint(CHAPTERS)),
        ebmlElement(SEEK_POSITION, ebmlUint(size - segData)),
      ]),
    );
    const body = Buffer.concat([...seeks, entry]);
    let newHead = ebmlElement(SEEK_HEAD, body);
    let rest = room - newHead.length;
    if (rest === 1) {
      // A Void takes at least 2 bytes: write the SeekHead's size one byte longer instead.
      newHead = ebmlElement(SEEK_HEAD, body, ebmlSize(body.length).length + 1);
      rest = 0;
    }
    if (rest < 0) return false;
    const newSegSize = seg.size + element.length;
    const sizeLen = seg.len - 4;
    if (newSegSize >= 2 ** (7 * sizeLen) - 1) return false;
    // Chapters already there become Void (their space is kept; no offsets move).
    for (const e of level1.filter((x) => x.id === CHAPTERS)) {
      const v = ebmlVoid(e.end - e.start);
      await fh.write(v.subarray(0, Math.min(v.length, 9)), 0, Math.min(v.length, 9), e.start);
    }
    await fh.write(element, 0, element.length, size);
    const region = Buffer.concat([newHead, ...(rest > 0 ? [ebmlVoid(rest)] : [])]);
    await fh.write(region, 0, region.length, seekHead.start);
    const sz = ebmlSize(newSegSize, sizeLen);
    await fh.write(sz, 0, sz.length, seg.at + 4);
    await fh.sync();
    return true;
  } catch (err) {
    if (err instanceof MediaFileError) throw err;
    throw new MediaFileError('ERR_WRITE_CHAPTERS', path, `cannot add chapters: ${(err as Error).message}`);
  } finally {
    await fh.close();
  }
}

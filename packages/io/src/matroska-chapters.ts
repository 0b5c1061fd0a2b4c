// Chapters read from Matroska / WebM: the default edition of the `Chapters` element.
import type { FileHandle } from 'node:fs/promises';
import type { Chapter } from './chapters.ts';
import {
  ATOM,
  CHAP_STRING,
  CHAPTERS,
  CLUSTER,
  DISPLAY,
  EDITION,
  EDITION_DEFAULT,
  ebmlChildren,
  ebmlHeader,
  FLAG_ENABLED,
  FLAG_HIDDEN,
  findSegment,
  SEEK_HEAD,
  seekEntries,
  TIME_END,
  TIME_START,
  uint,
} from './ebml.ts';
import { MediaFileError } from './errors.ts';
import { readAt } from './read-at.ts';

export async function matroskaChapters(fh: FileHandle, size: number, file: string): Promise<Chapter[]> {
  const segment = await findSegment(fh, size);
  if (segment === null) return [];
  const segmentData = segment.data;
  const segmentEnd = segment.size === null ? size : Math.min(size, segmentData + segment.size);
  // Level-1 elements in order; past a cluster of unknown size, only the SeekHead can say where
  // the chapters are.
  const seekChapters: number[] = [];
  for (let q = segmentData; q < segmentEnd; ) {
    const h = ebmlHeader(await readAt(fh, q, 12), 0);
    if (h === null) break;
    if (h.id === CHAPTERS && h.size !== null) return parseChapters(await readAt(fh, q + h.len, h.size), file);
    if (h.id === SEEK_HEAD && h.size !== null)
      for (const e of seekEntries(await readAt(fh, q + h.len, h.size)))
        if (e.id === CHAPTERS && e.position >= 0) seekChapters.push(segmentData + e.position);
    if (h.size === null || (h.id === CLUSTER && seekChapters.length > 0)) break;
    q += h.len + h.size;
  }
  for (const at of seekChapters) {
    const h = ebmlHeader(await readAt(fh, at, 12), 0);
    if (h?.id === CHAPTERS && h.size !== null)
      return parseChapters(await readAt(fh, at + h.len, h.size), file);
  }
  return [];
}

/** The default edition's visible chapters (the first edition when none is marked default). */
function parseChapters(buf: Buffer, file: string): Chapter[] {
  const editions = ebmlChildren(buf, 0, buf.length).filter((e) => e.id === EDITION);
  const edition =
    editions.find((e) =>
      ebmlChildren(buf, e.data, e.end!).some((k) => k.id === EDITION_DEFAULT && uint(buf, k) === 1),
    ) ?? editions[0];
  if (edition === undefined) return [];
  const out: Chapter[] = [];
  for (const atom of ebmlChildren(buf, edition.data, edition.end!).filter((e) => e.id === ATOM)) {
    const kids = ebmlChildren(buf, atom.data, atom.end!);
    const flag = (id: number, def: number): number => {
      const k = kids.find((e) => e.id === id);
      return k === undefined ? def : uint(buf, k);
    };
    if (flag(FLAG_HIDDEN, 0) === 1 || flag(FLAG_ENABLED, 1) === 0) continue;
    const start = kids.find((e) => e.id === TIME_START);
    if (start === undefined)
      throw new MediaFileError('ERR_READ_CHAPTERS', file, 'a Matroska chapter has no start time');
    const end = kids.find((e) => e.id === TIME_END);
    const display = kids.find((e) => e.id === DISPLAY);
    const str =
      display === undefined
        ? undefined
        : ebmlChildren(buf, display.data, display.end!).find((e) => e.id === CHAP_STRING);
    out.push({
      start: uint(buf, start) / 1e9,
      end: end === undefined ? null : uint(buf, end) / 1e9,
      title: str === undefined ? '' : buf.toString('utf8', str.data, str.end!),
    });
  }
  return out;
}

// Chapters written into a finished MP4 / QuickTime file as a Nero `chpl` box in moov/udta.
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import type { Chapter } from './chapters.ts';
import { MediaFileError } from './errors.ts';
import { type Box, boxesIn, boxHead, descend, topBoxes } from './mp4-boxes.ts';
import { readAt } from './read-at.ts';

/** Chapters a `chpl` box can hold (its count is one byte). */
export const MAX_MP4_CHAPTERS = 255;

/**
 * Put chapters into an MP4/MOV file as a Nero `chpl` box in moov/udta (replacing one there): the
 * file is rewritten beside itself and renamed over it, and every chunk offset after the moov box
 * moves by the bytes added. At most {@link MAX_MP4_CHAPTERS} chapters; titles are cut at 255
 * bytes (on a character boundary).
 *
 * @param path - The finished MP4 (a faststart file: moov before mdat; or moov at the end).
 * @param chapters - Chapters by start time, seconds.
 * @param scratch - Where the new file is written before the rename (same folder); `<path>.chapters`
 *   by default.
 * @returns False when nothing could be written: no moov box, a fragmented file (moof boxes), or a
 *   32-bit chunk offset table that would overflow (a file within a few bytes of 4 GiB).
 * @throws {MediaFileError} When the file cannot be read or written.
 */
export async function writeMp4Chapters(
  path: string,
  chapters: readonly Chapter[],
  scratch = `${path}.chapters`,
): Promise<boolean> {
  const fh = await open(path, 'r').catch((err: Error) => {
    throw new MediaFileError('ERR_WRITE_CHAPTERS', path, `cannot open: ${err.message}`);
  });
  const tmp = scratch;
  try {
    const size = (await fh.stat()).size;
    const top = await topBoxes(fh, size, path);
    const moovBox = top.find((b) => b.type === 'moov');
    // Fragments may address their samples by absolute file offsets that a bigger moov would move.
    if (moovBox === undefined || top.some((b) => b.type === 'moof')) return false;
    const moov = await readAt(fh, moovBox.start, moovBox.end - moovBox.start);
    const rebuilt = withChapters(moov, chpl(chapters), path, moovBox.end);
    if (rebuilt === null) return false;
    const out = await open(tmp, 'w');
    try {
      await copyRange(fh, out, 0, moovBox.start);
      await out.write(rebuilt, 0, rebuilt.length, moovBox.start);
      await copyRange(fh, out, moovBox.end, size, moovBox.start + rebuilt.length);
      await out.sync();
    } finally {
      await out.close();
    }
    await rename(tmp, path);
    return true;
  } catch (err) {
    await rm(tmp, { force: true });
    if (err instanceof MediaFileError) throw err;
    throw new MediaFileError('ERR_WRITE_CHAPTERS', path, `cannot add chapters: ${(err as Error).message}`);
  } finally {
    await fh.close();
  }
}

async function copyRange(
  from: FileHandle,
  to: FileHandle,
  start: number,
  end: number,
  at: number = start,
): Promise<void> {
  const buf = Buffer.allocUnsafe(Math.min(4 << 20, Math.max(1, end - start)));
  for (let p = start; p < end; ) {
    const { bytesRead } = await from.read(buf, 0, Math.min(buf.length, end - p), p);
    if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${p}`);
    await to.write(buf, 0, bytesRead, at + (p - start));
    p += bytesRead;
  }
}

/** A `chpl` box (version 1) for the chapters. */
export function chpl(chapters: readonly Chapter[]): Buffer {
  const list = chapters.slice(0, MAX_MP4_CHAPTERS);
  const head = Buffer.alloc(9);
  head.writeUInt32BE(0x01000000, 0);
  head[8] = list.length;
  const parts: Buffer[] = [head];
  for (const c of list) {
    const entry = Buffer.alloc(9);
    entry.writeBigUInt64BE(BigInt(Math.max(0, Math.round(c.start * 1e7))), 0);
    const title = utf8Prefix(c.title, 255);
    entry[8] = title.length;
    parts.push(entry, title);
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([boxHead('chpl', body.length), body]);
}

/** The longest prefix of `text` whose UTF-8 fits in `max` bytes. */
function utf8Prefix(text: string, max: number): Buffer {
  const b = Buffer.from(text, 'utf8');
  if (b.length <= max) return b;
  let n = max;
  while (n > 0 && (b[n]! & 0xc0) === 0x80) n--;
  return b.subarray(0, n);
}

/**
 * The moov box with `box` in its udta (a chpl there replaced), chunk offsets at or past
 * `moovEnd` (data after moov) moved by the growth. Null when a 32-bit offset would overflow.
 */
function withChapters(moov: Buffer, box: Buffer, file: string, moovEnd: number): Buffer | null {
  const headLen = moov.readUInt32BE(0) === 1 ? 16 : 8;
  const kids = boxesIn(moov, headLen, moov.length, file);
  const udta = kids.find((b) => b.type === 'udta');
  const bytes = (b: Box): Buffer => moov.subarray(b.start, b.end);
  // The udta's boxes but a chpl, then the new chpl (a new udta when there was none).
  const inner =
    udta === undefined ? [] : boxesIn(moov, udta.body, udta.end, file).filter((b) => b.type !== 'chpl');
  const udtaBody = Buffer.concat([...inner.map(bytes), box]);
  const newUdta = Buffer.concat([boxHead('udta', udtaBody.length), udtaBody]);
  const body = Buffer.concat(
    udta === undefined ? [...kids.map(bytes), newUdta] : kids.map((k) => (k === udta ? newUdta : bytes(k))),
  );
  const out = Buffer.concat([boxHead('moov', body.length), body]);
  const delta = out.length - moov.length;
  if (delta === 0) return out;
  // Chunk offsets of every track: those pointing past the old moov move with the data.
  const root = boxesIn(out, 8, out.length, file);
  for (const trak of root.filter((b) => b.type === 'trak')) {
    const stbl = descend(out, trak, ['mdia', 'minf', 'stbl'], file);
    if (stbl === undefined) continue;
    for (const t of boxesIn(out, stbl.body, stbl.end, file)) {
      if (t.type !== 'stco' && t.type !== 'co64') continue;
      const n = out.readUInt32BE(t.body + 4);
      for (let i = 0; i < n; i++) {
        if (t.type === 'co64') {
          const p = t.body + 8 + i * 8;
          const v = out.readBigUInt64BE(p);
          if (v >= BigInt(moovEnd)) out.writeBigUInt64BE(v + BigInt(delta), p);
        } else {
          const p = t.body + 8 + i * 4;
          const v = out.readUInt32BE(p);
          if (v >= moovEnd) {
            if (v + delta > 0xffffffff) return null;
            out.writeUInt32BE(v + delta, p);
          }
        }
      }
    }
  }
  return out;
}

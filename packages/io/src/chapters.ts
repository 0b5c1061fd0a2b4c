// Chapters by hand: node-av 6.1 exposes no chapter list (FFmpeg's AVFormatContext.chapters), so
// they are read straight from the container and written into an MP4's moov box after muxing.
// Read: MP4/MOV/M4V (a QuickTime chapter track, else Nero `chpl`), Matroska/WebM (`Chapters`).
// Written: MP4/MOV as a Nero `chpl` box in moov/udta, which FFmpeg (so mpv, VLC and ffprobe) reads.
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { MediaFileError } from './errors.ts';

/** One chapter, in seconds on the file's timeline. */
export interface Chapter {
  readonly start: number;
  /** End, seconds; the next chapter's start (or the end of the file) when the container has none. */
  readonly end: number | null;
  readonly title: string;
}

/** Chapters a `chpl` box can hold (its count is one byte). */
export const MAX_MP4_CHAPTERS = 255;

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

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return bytesRead === length ? buf : buf.subarray(0, bytesRead);
}

// ---------------------------------------------------------------------------------------------
// MP4 / QuickTime

/** Box types an MP4 or QuickTime file starts with. */
const MP4_TOP = new Set(['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pnot']);

interface Box {
  readonly type: string;
  /** Offset of the box's first byte. */
  readonly start: number;
  /** Offset of its payload. */
  readonly body: number;
  /** Offset just past it. */
  readonly end: number;
}

/**
 * The box whose header starts at `h[at]` (file offset `p`), within `limit`. Null when fewer than 16
 * header bytes are there for a 64-bit size.
 */
function boxAt(
  h: Buffer,
  at: number,
  p: number,
  limit: number,
  file: string,
  parent = 'its parent',
): Box | null {
  let size = h.readUInt32BE(at);
  const type = h.toString('latin1', at + 4, at + 8);
  let body = p + 8;
  if (size === 1) {
    if (at + 16 > h.length) return null;
    size = Number(h.readBigUInt64BE(at + 8));
    body = p + 16;
  } else if (size === 0) size = limit - p;
  if (size < body - p || p + size > limit)
    throw new MediaFileError('ERR_READ_CHAPTERS', file, `the ${type} box at ${p} runs past ${parent}`);
  return { type, start: p, body, end: p + size };
}

/** The boxes of `buf[from, to)` (an in-memory moov or one of its children). */
function boxesIn(buf: Buffer, from: number, to: number, file: string): Box[] {
  const out: Box[] = [];
  for (let p = from; p + 8 <= to; ) {
    const box = boxAt(buf.subarray(0, to), p, p, to, file);
    if (box === null) break;
    out.push(box);
    p = box.end;
  }
  return out;
}

const child = (buf: Buffer, box: Box, type: string, file: string): Box | undefined =>
  boxesIn(buf, box.body, box.end, file).find((b) => b.type === type);

/** The path of boxes below `box`, or undefined when one is missing. */
function descend(buf: Buffer, box: Box, path: readonly string[], file: string): Box | undefined {
  let cur: Box | undefined = box;
  for (const t of path) {
    if (cur === undefined) return undefined;
    cur = child(buf, cur, t, file);
  }
  return cur;
}

/** The top-level boxes of an MP4 file, read header by header. */
async function topBoxes(fh: FileHandle, size: number, file: string): Promise<Box[]> {
  const out: Box[] = [];
  for (let p = 0; p + 8 <= size; ) {
    const box = boxAt(await readAt(fh, p, 16), 0, p, size, file, 'the end of the file');
    if (box === null) break;
    out.push(box);
    p = box.end;
  }
  return out;
}

async function mp4Chapters(
  fh: FileHandle,
  size: number,
  file: string,
): Promise<{ chapters: Chapter[]; trackIds: number[] }> {
  const moovBox = (await topBoxes(fh, size, file)).find((b) => b.type === 'moov');
  if (moovBox === undefined) return { chapters: [], trackIds: [] };
  const moov = await readAt(fh, moovBox.start, moovBox.end - moovBox.start);
  const root: Box = { type: 'moov', start: 0, body: moovBox.body - moovBox.start, end: moov.length };
  const traks = boxesIn(moov, root.body, root.end, file).filter((b) => b.type === 'trak');
  // A QuickTime chapter track: the track another track's tref/chap names.
  for (const trak of traks) {
    const chap = descend(moov, trak, ['tref', 'chap'], file);
    if (chap === undefined) continue;
    for (let p = chap.body; p + 4 <= chap.end; p += 4) {
      const id = moov.readUInt32BE(p);
      const target = traks.find((t) => trackId(moov, t, file) === id);
      if (target !== undefined) {
        const list = await textTrackChapters(fh, moov, target, file);
        if (list.length > 0) return { chapters: list, trackIds: [id] };
      }
    }
  }
  const chpl = descend(moov, root, ['udta', 'chpl'], file);
  return { chapters: chpl === undefined ? [] : parseChpl(moov, chpl, file), trackIds: [] };
}

function trackId(buf: Buffer, trak: Box, file: string): number | undefined {
  const tkhd = child(buf, trak, 'tkhd', file);
  if (tkhd === undefined) return undefined;
  return buf.readUInt32BE(tkhd.body + (buf[tkhd.body] === 1 ? 20 : 12));
}

/** Nero chapters: version, flags, (v1: 4 reserved bytes), count, then start (100 ns) and title. */
function parseChpl(buf: Buffer, box: Box, file: string): Chapter[] {
  const short = (): MediaFileError =>
    new MediaFileError('ERR_READ_CHAPTERS', file, 'the chpl (chapter list) box is cut short');
  let p = box.body + 4 + (buf[box.body] === 1 ? 4 : 0);
  if (p >= box.end) throw short();
  const count = buf[p++]!;
  const starts: { start: number; title: string }[] = [];
  for (let i = 0; i < count; i++) {
    if (p + 9 > box.end) throw short();
    const start = Number(buf.readBigUInt64BE(p)) / 1e7;
    const len = buf[p + 8]!;
    p += 9;
    if (p + len > box.end) throw short();
    starts.push({ start, title: buf.toString('utf8', p, p + len) });
    p += len;
  }
  return starts.map((c, i) => ({ ...c, end: starts[i + 1]?.start ?? null }));
}

/** The samples of a QuickTime text track (a chapter track): times from stts, text from the file. */
async function textTrackChapters(fh: FileHandle, buf: Buffer, trak: Box, file: string): Promise<Chapter[]> {
  const mdhd = descend(buf, trak, ['mdia', 'mdhd'], file);
  const stbl = descend(buf, trak, ['mdia', 'minf', 'stbl'], file);
  if (mdhd === undefined || stbl === undefined) return [];
  const timescale = buf.readUInt32BE(mdhd.body + (buf[mdhd.body] === 1 ? 20 : 12));
  if (timescale === 0) return [];
  const full = (type: string): Box | undefined => child(buf, stbl, type, file);
  const stts = full('stts');
  const stsz = full('stsz');
  const stsc = full('stsc');
  const stco = full('stco') ?? full('co64');
  if (stts === undefined || stsz === undefined || stsc === undefined || stco === undefined) return [];
  // Sample times.
  const times: { t: number; d: number }[] = [];
  let t = 0;
  for (let i = 0, n = buf.readUInt32BE(stts.body + 4); i < n; i++) {
    const e = stts.body + 8 + i * 8;
    const count = buf.readUInt32BE(e);
    const delta = buf.readUInt32BE(e + 4);
    for (let k = 0; k < count && times.length < 100_000; k++, t += delta) times.push({ t, d: delta });
  }
  // Sample sizes and offsets (chunks from stco/co64, samples per chunk from stsc).
  const fixed = buf.readUInt32BE(stsz.body + 4);
  const count = Math.min(buf.readUInt32BE(stsz.body + 8), times.length);
  const sizeOf = (i: number): number => (fixed !== 0 ? fixed : buf.readUInt32BE(stsz.body + 12 + i * 4));
  const wide = stco.type === 'co64';
  const chunks = buf.readUInt32BE(stco.body + 4);
  const chunkOffset = (c: number): number =>
    wide ? Number(buf.readBigUInt64BE(stco.body + 8 + c * 8)) : buf.readUInt32BE(stco.body + 8 + c * 4);
  const runs = buf.readUInt32BE(stsc.body + 4);
  const out: Chapter[] = [];
  let sample = 0;
  for (let r = 0; r < runs && sample < count; r++) {
    const e = stsc.body + 8 + r * 12;
    const first = buf.readUInt32BE(e) - 1;
    const perChunk = buf.readUInt32BE(e + 4);
    const last = r + 1 < runs ? buf.readUInt32BE(e + 12) - 1 : chunks;
    for (let c = first; c < last && sample < count; c++) {
      let offset = chunkOffset(c);
      for (let k = 0; k < perChunk && sample < count; k++, sample++) {
        const size = sizeOf(sample);
        const data = await readAt(fh, offset, Math.min(size, 2 + 1024));
        offset += size;
        const len = data.length >= 2 ? Math.min(data.readUInt16BE(0), data.length - 2) : 0;
        const text = data.subarray(2, 2 + len);
        const title =
          text[0] === 0xfe && text[1] === 0xff
            ? Buffer.from(text.subarray(2)).swap16().toString('utf16le')
            : text.toString('utf8');
        const { t: at, d } = times[sample]!;
        out.push({ start: at / timescale, end: (at + d) / timescale, title });
      }
    }
  }
  return out;
}

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

/** An 8-byte box header: size (header included) and type. */
function boxHead(type: string, bodyLength: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(8 + bodyLength, 0);
  h.write(type, 4, 'latin1');
  return h;
}

/** A `chpl` box (version 1) for the chapters. */
function chpl(chapters: readonly Chapter[]): Buffer {
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

// ---------------------------------------------------------------------------------------------
// Matroska / WebM (EBML)

const SEGMENT = 0x18538067;
const SEEK_HEAD = 0x114d9b74;
const SEEK = 0x4dbb;
const SEEK_ID = 0x53ab;
const SEEK_POSITION = 0x53ac;
const CHAPTERS = 0x1043a770;
const CLUSTER = 0x1f43b675;
const EDITION = 0x45b9;
const EDITION_DEFAULT = 0x45db;
const ATOM = 0xb6;
const TIME_START = 0x91;
const TIME_END = 0x92;
const FLAG_HIDDEN = 0x98;
const FLAG_ENABLED = 0x4598;
const DISPLAY = 0x80;
const CHAP_STRING = 0x85;

interface Element {
  readonly id: number;
  /** Offset of the element's ID. */
  readonly start: number;
  /** Offset of the element's data. */
  readonly data: number;
  /** Data length; null when unknown (a live stream's open segment or cluster). */
  readonly size: number | null;
  /** Offset just past the element (data + size), or null when the size is unknown. */
  readonly end: number | null;
}

/** An EBML element header at `p` of `buf` (the ID keeps its length marker, as the specs write it). */
function ebmlHeader(buf: Buffer, p: number): { id: number; size: number | null; len: number } | null {
  if (p >= buf.length) return null;
  const first = buf[p]!;
  const idLen = first >= 0x80 ? 1 : first >= 0x40 ? 2 : first >= 0x20 ? 3 : first >= 0x10 ? 4 : 0;
  if (idLen === 0 || p + idLen >= buf.length) return null;
  let id = 0;
  for (let i = 0; i < idLen; i++) id = id * 256 + buf[p + i]!;
  const s0 = buf[p + idLen]!;
  let sizeLen = 1;
  while (sizeLen <= 8 && (s0 & (0x80 >> (sizeLen - 1))) === 0) sizeLen++;
  if (sizeLen > 8 || p + idLen + sizeLen > buf.length) return null;
  let size = s0 & (0xff >> sizeLen);
  let allOnes = size === 0xff >> sizeLen;
  for (let i = 1; i < sizeLen; i++) {
    const b = buf[p + idLen + i]!;
    size = size * 256 + b;
    allOnes &&= b === 0xff;
  }
  return { id, size: allOnes ? null : size, len: idLen + sizeLen };
}

/** The children of `buf[from, to)`, parsed in memory. */
function ebmlChildren(buf: Buffer, from: number, to: number): Element[] {
  const out: Element[] = [];
  for (let p = from; p < to; ) {
    const h = ebmlHeader(buf, p);
    if (h === null || h.size === null) break;
    const data = p + h.len;
    out.push({ id: h.id, start: p, data, size: h.size, end: data + h.size });
    p = data + h.size;
  }
  return out;
}

const uint = (buf: Buffer, e: Element): number => {
  let v = 0;
  for (let i = 0; i < e.size!; i++) v = v * 256 + buf[e.data + i]!;
  return v;
};

/** The Segment after the EBML header: where its header is, its length, its data and size (null: unknown). */
async function findSegment(
  fh: FileHandle,
  size: number,
): Promise<{ at: number; len: number; data: number; size: number | null } | null> {
  const ebml = ebmlHeader(await readAt(fh, 0, 12), 0);
  if (ebml === null || ebml.id !== 0x1a45dfa3 || ebml.size === null) return null;
  for (let p = ebml.len + ebml.size; p < size; ) {
    const h = ebmlHeader(await readAt(fh, p, 12), 0);
    if (h === null) return null;
    if (h.id === SEGMENT) return { at: p, len: h.len, data: p + h.len, size: h.size };
    if (h.size === null) return null;
    p += h.len + h.size;
  }
  return null;
}

/** The Seek entries of a SeekHead's data: the element ID and position each names (-1: absent), and its bytes. */
function seekEntries(buf: Buffer): { id: number; position: number; bytes: Buffer }[] {
  return ebmlChildren(buf, 0, buf.length)
    .filter((e) => e.id === SEEK)
    .map((e) => {
      const kids = ebmlChildren(buf, e.data, e.end!);
      const id = kids.find((k) => k.id === SEEK_ID);
      const pos = kids.find((k) => k.id === SEEK_POSITION);
      return {
        id: id === undefined ? -1 : uint(buf, id),
        position: pos === undefined ? -1 : uint(buf, pos),
        bytes: buf.subarray(e.start, e.end!),
      };
    });
}

async function matroskaChapters(fh: FileHandle, size: number, file: string): Promise<Chapter[]> {
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

const VOID = 0xec;
const EDITION_UID = 0x45bc;
const CHAPTER_UID = 0x73c4;
const CHAP_LANGUAGE = 0x437c;

/** An EBML element: its ID bytes, its size (`sizeLength` bytes; the fewest by default), the data. */
function ebmlElement(id: number, data: Buffer, sizeLength = 0): Buffer {
  const idLen = id > 0xffffff ? 4 : id > 0xffff ? 3 : id > 0xff ? 2 : 1;
  const idBytes = Buffer.alloc(idLen);
  idBytes.writeUIntBE(id, 0, idLen);
  return Buffer.concat([idBytes, ebmlSize(data.length, sizeLength), data]);
}

/** A size as an EBML variable-length integer, `len` bytes (the shortest that holds it by default). */
function ebmlSize(size: number, len = 0): Buffer {
  let n = len;
  if (n === 0) for (n = 1; n < 8 && size >= 2 ** (7 * n) - 1; n++);
  const out = Buffer.alloc(n);
  let v = size;
  for (let i = n - 1; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  out[0]! |= 0x80 >> (n - 1);
  return out;
}

/** An unsigned integer element's data, in as few bytes as it needs. */
function ebmlUint(value: number): Buffer {
  const bytes: number[] = [];
  let v = Math.max(0, Math.round(value));
  do {
    bytes.unshift(v % 256);
    v = Math.floor(v / 256);
  } while (v > 0);
  return Buffer.from(bytes);
}

/** A Void element exactly `total` bytes long (at least 2). */
function ebmlVoid(total: number): Buffer {
  const out = Buffer.alloc(total);
  out[0] = VOID;
  if (total - 2 <= 126) out[1] = 0x80 | (total - 2);
  else ebmlSize(total - 9, 8).copy(out, 1);
  return out;
}

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

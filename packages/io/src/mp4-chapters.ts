// Chapters read from MP4 / QuickTime: a QuickTime chapter (text) track, else a Nero `chpl` box.
import type { FileHandle } from 'node:fs/promises';
import type { Chapter } from './chapters.ts';
import { MediaFileError } from './errors.ts';
import { type Box, boxesIn, child, descend, topBoxes } from './mp4-boxes.ts';
import { readAt } from './read-at.ts';

export async function mp4Chapters(
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

import { execFileSync, spawnSync } from 'node:child_process';
import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import {
  type Chapter,
  MAX_MP4_CHAPTERS,
  MediaFileError,
  readChapters,
  remux,
  writeMatroskaChapters,
  writeMp4Chapters,
} from '@framecraft/io';
import { writeTestClip } from '@framecraft/io/testing';
import { streamDigest } from '@framecraft/test-utils';
import { beforeAll, describe, expect, test, useTempDir } from '@framecraft/test-utils/harness';

/** FFmpeg's command-line tools, the independent reader (CI installs Debian's ffmpeg). */
const HAVE_FFMPEG =
  spawnSync('ffprobe', ['-version']).status === 0 && spawnSync('ffmpeg', ['-version']).status === 0;
if (!HAVE_FFMPEG)
  console.warn('chapters.test: ffmpeg/ffprobe not installed: the checks against them are skipped');
/** Tests and suites that need FFmpeg's tools (left out, with the warning above, without them). */
const withFfmpeg = {
  test: HAVE_FFMPEG ? test : (_name: string, _fn: () => unknown) => {},
  describe: HAVE_FFMPEG ? describe : (_name: string, _fn: () => void) => {},
};

/** Chapters as ffprobe reads them. */
function ffprobeChapters(path: string): Chapter[] {
  const out = execFileSync('ffprobe', ['-v', 'error', '-show_chapters', '-of', 'json', path], {
    encoding: 'utf8',
  });
  const list = (
    JSON.parse(out) as { chapters: { start_time: string; end_time: string; tags?: { title?: string } }[] }
  ).chapters;
  return list.map((c) => ({
    start: Number(c.start_time),
    end: Number(c.end_time),
    title: c.tags?.title ?? '',
  }));
}

const CHAPTERS: Chapter[] = [
  { start: 0, end: 0.8, title: 'Opening' },
  { start: 0.8, end: 1.5, title: 'Café – the middle' },
  { start: 1.5, end: 2, title: 'Finale 🎬' },
];

// ---- A Matroska file built by hand: EBML header, Segment, Chapters. --------------------------

/** An EBML element: ID bytes as written in the specs, size as an 8-byte vint. */
function el(id: number, ...body: Buffer[]): Buffer {
  const idBytes = Buffer.from(
    id.toString(16).padStart(id > 0xffffff ? 8 : id > 0xffff ? 6 : id > 0xff ? 4 : 2, '0'),
    'hex',
  );
  const data = Buffer.concat(body);
  const size = Buffer.alloc(8);
  size.writeBigUInt64BE(BigInt(data.length) | (1n << 56n));
  return Buffer.concat([idBytes, size, data]);
}
const u = (n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};
const s = (t: string): Buffer => Buffer.from(t, 'utf8');
const atom = (start: number, end: number | null, title: string, hidden = false): Buffer =>
  el(
    0xb6,
    el(0x73c4, u(1)),
    el(0x91, u(start * 1e9)),
    ...(end === null ? [] : [el(0x92, u(end * 1e9))]),
    ...(hidden ? [el(0x98, u(1))] : []),
    el(0x80, el(0x85, s(title)), el(0x437c, s('eng'))),
  );

describe('readChapters', () => {
  const tmp = useTempDir();

  test("Matroska: the default edition's visible chapters, in order, with their titles", async () => {
    const chapters = el(
      0x1043a770,
      // A first edition that is not the default, then the default one with a hidden chapter.
      el(0x45b9, atom(0, 9, 'Other cut')),
      el(
        0x45b9,
        el(0x45db, u(1)),
        atom(2.5, null, 'Zwei'),
        atom(0, 2.5, 'Eins – Anfang'),
        atom(1, 2, 'hidden', true),
      ),
    );
    const header = el(0x1a45dfa3, el(0x4282, s('matroska')));
    // A segment of unknown size (as a live recording leaves it): the reader scans its elements.
    const segment = Buffer.concat([
      Buffer.from([0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      el(0x1549a966, el(0x2ad7b1, u(1e6))),
      chapters,
    ]);
    const path = `${tmp.path}/hand.mkv`;
    await writeFile(path, Buffer.concat([header, segment]));
    expect(await readChapters(path)).toEqual([
      { start: 0, end: 2.5, title: 'Eins – Anfang' },
      { start: 2.5, end: null, title: 'Zwei' },
    ]);
  });

  test('Matroska: chapters after the clusters are found through the SeekHead', async () => {
    const chapters = el(0x1043a770, el(0x45b9, atom(0, 1, 'Late')));
    const info = el(0x1549a966, el(0x2ad7b1, u(1e6)));
    const cluster = el(0x1f43b675, el(0xe7, u(0)), Buffer.alloc(2000));
    // SeekHead first; the Chapters' position is relative to the segment's data.
    const seekHeadLen = el(
      0x114d9b74,
      el(0x4dbb, el(0x53ab, Buffer.from('1043a770', 'hex')), el(0x53ac, u(0))),
    ).length;
    const pos = seekHeadLen + info.length + cluster.length;
    const seekHead = el(
      0x114d9b74,
      el(0x4dbb, el(0x53ab, Buffer.from('1043a770', 'hex')), el(0x53ac, u(pos))),
    );
    const path = `${tmp.path}/late.mkv`;
    await writeFile(path, Buffer.concat([el(0x1a45dfa3), el(0x18538067, seekHead, info, cluster, chapters)]));
    expect(await readChapters(path)).toEqual([{ start: 0, end: 1, title: 'Late' }]);
  });

  test('files without chapters, other containers and unreadable files', async () => {
    const clip = `${tmp.path}/plain.mp4`;
    await writeTestClip(clip, { width: 64, height: 48, frames: 5 });
    expect(await readChapters(clip)).toEqual([]);
    await writeFile(`${tmp.path}/notes.txt`, 'not a video');
    expect(await readChapters(`${tmp.path}/notes.txt`)).toEqual([]);
    await expect(readChapters(`${tmp.path}/missing.mp4`)).rejects.toThrow(MediaFileError);
    await expect(readChapters(`${tmp.path}/missing.mp4`)).rejects.toThrow('missing.mp4');
  });
});

describe('writeMatroskaChapters', () => {
  const tmp = useTempDir();

  test('a Chapters element at the end, found through the SeekHead; every packet still reads the same', async () => {
    const path = `${tmp.path}/clip.mkv`;
    await writeTestClip(path, { width: 96, height: 64, frames: 30, audio: true });
    const before = await Promise.all([streamDigest(path, 'video'), streamDigest(path, 'audio')]);
    expect(await writeMatroskaChapters(path, CHAPTERS)).toBe(true);
    expect(await readChapters(path)).toEqual(CHAPTERS);
    expect(await Promise.all([streamDigest(path, 'video'), streamDigest(path, 'audio')])).toEqual(before);
    // Written again: the old element turns to Void, the new one is the list.
    expect(await writeMatroskaChapters(path, CHAPTERS.slice(0, 1))).toBe(true);
    expect(await readChapters(path)).toEqual(CHAPTERS.slice(0, 1));
    expect(await Promise.all([streamDigest(path, 'video'), streamDigest(path, 'audio')])).toEqual(before);
    if (HAVE_FFMPEG) expect(ffprobeChapters(path).map((c) => c.title)).toEqual([CHAPTERS[0]!.title]);
  });

  test('a file whose layout leaves no room is left untouched', async () => {
    const path = `${tmp.path}/bare.mkv`;
    // A segment of unknown size (a live recording's), no SeekHead.
    const bytes = Buffer.concat([
      el(0x1a45dfa3),
      Buffer.from([0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    ]);
    await writeFile(path, bytes);
    expect(await writeMatroskaChapters(path, CHAPTERS)).toBe(false);
    expect(await readFile(path)).toEqual(bytes);
  });
});

describe('writeMp4Chapters', () => {
  const tmp = useTempDir();
  let clip = '';
  beforeAll(async () => {
    clip = `${tmp.path}/clip.mp4`;
    await writeTestClip(clip, { width: 96, height: 64, frames: 60, audio: true });
  });

  test('chapters go into moov/udta; every audio and video packet still reads the same', async () => {
    const path = `${tmp.path}/with.mp4`;
    await copyFile(clip, path);
    const before = await Promise.all([streamDigest(clip, 'video'), streamDigest(clip, 'audio')]);
    expect(await writeMp4Chapters(path, CHAPTERS)).toBe(true);
    // Nero chapters carry start times: each ends where the next begins, the last has no end.
    expect(await readChapters(path)).toEqual(
      CHAPTERS.map((c, i) => ({ ...c, end: CHAPTERS[i + 1]?.start ?? null })),
    );
    const after = await Promise.all([streamDigest(path, 'video'), streamDigest(path, 'audio')]);
    expect(after).toEqual(before);
    expect(before[0]!.packets).toBe(60);
    // Written again: the chapter list is replaced, not added to.
    expect(await writeMp4Chapters(path, CHAPTERS.slice(1))).toBe(true);
    expect((await readChapters(path)).map((c) => c.title)).toEqual(CHAPTERS.slice(1).map((c) => c.title));
    expect(await Promise.all([streamDigest(path, 'video'), streamDigest(path, 'audio')])).toEqual(before);
    // Nothing left beside it.
    expect((await readdir(tmp.path)).filter((n) => n.includes('.chapters'))).toEqual([]);
  });

  test('a fragmented MP4 (moof boxes) and a file without moov are left untouched', async () => {
    const box = (type: string, body = Buffer.alloc(0)) => {
      const h = Buffer.alloc(8);
      h.writeUInt32BE(8 + body.length);
      h.write(type, 4, 'latin1');
      return Buffer.concat([h, body]);
    };
    const fragmented = Buffer.concat([
      box('ftyp', Buffer.from('isom')),
      box('moov'),
      box('moof'),
      box('mdat'),
    ]);
    const noMoov = Buffer.concat([box('ftyp', Buffer.from('isom')), box('mdat')]);
    for (const [name, bytes] of [
      ['frag.mp4', fragmented],
      ['nomoov.mp4', noMoov],
    ] as const) {
      await writeFile(`${tmp.path}/${name}`, bytes);
      expect(await writeMp4Chapters(`${tmp.path}/${name}`, CHAPTERS)).toBe(false);
      expect(await readFile(`${tmp.path}/${name}`)).toEqual(bytes);
    }
  });

  test(`at most ${MAX_MP4_CHAPTERS} chapters; titles cut at 255 bytes on a character boundary`, async () => {
    const path = `${tmp.path}/many.mp4`;
    await copyFile(clip, path);
    const many = Array.from({ length: 300 }, (_, i) => ({
      start: i / 150,
      end: null,
      title: `${i} ${'é'.repeat(200)}`,
    }));
    expect(await writeMp4Chapters(path, many)).toBe(true);
    const read = await readChapters(path);
    expect(read.length).toBe(MAX_MP4_CHAPTERS);
    expect(Buffer.byteLength(read[7]!.title)).toBeLessThanOrEqual(255);
    expect(read[7]!.title.startsWith('7 éé')).toBe(true);
    expect(read[7]!.title).not.toContain('\uFFFD');
    expect(read[100]!.start).toBeCloseTo(100 / 150, 6);
  });

  withFfmpeg.test('ffprobe reads the chapters written', async () => {
    const path = `${tmp.path}/probe.mp4`;
    await copyFile(clip, path);
    await writeMp4Chapters(path, CHAPTERS);
    const got = ffprobeChapters(path);
    expect(got.map((c) => c.title)).toEqual(CHAPTERS.map((c) => c.title));
    for (const [i, c] of got.entries()) expect(c.start).toBeCloseTo(CHAPTERS[i]!.start, 3);
  });
});

withFfmpeg.describe('chapters of files FFmpeg wrote', () => {
  const tmp = useTempDir();
  let clip = '';
  beforeAll(async () => {
    clip = `${tmp.path}/clip.mp4`;
    await writeTestClip(clip, { width: 96, height: 64, frames: 60, audio: true });
    const meta = [
      ';FFMETADATA1',
      ...CHAPTERS.flatMap((c) => [
        '[CHAPTER]',
        'TIMEBASE=1/1000',
        `START=${c.start * 1000}`,
        `END=${c.end! * 1000}`,
        `title=${c.title}`,
      ]),
    ].join('\n');
    await writeFile(`${tmp.path}/meta.txt`, `${meta}\n`);
    for (const ext of ['mp4', 'mkv', 'mov'])
      execFileSync('ffmpeg', [
        '-v',
        'error',
        '-y',
        '-i',
        clip,
        '-i',
        `${tmp.path}/meta.txt`,
        '-map',
        '0',
        '-map_chapters',
        '1',
        '-c',
        'copy',
        `${tmp.path}/src.${ext}`,
      ]);
  });

  for (const ext of ['mp4', 'mkv', 'mov'])
    test(`${ext}: the same chapters as ffprobe reads`, async () => {
      const ours = await readChapters(`${tmp.path}/src.${ext}`);
      const theirs = ffprobeChapters(`${tmp.path}/src.${ext}`);
      expect(ours.map((c) => c.title)).toEqual(theirs.map((c) => c.title));
      ours.forEach((c, i) => {
        expect(c.start).toBeCloseTo(theirs[i]!.start, 3);
        if (c.end !== null) expect(c.end).toBeCloseTo(theirs[i]!.end!, 3);
      });
    });

  test('remux carries the chapters into MP4 and Matroska, from either kind of source, and warns for a container without them', async () => {
    for (const [ext, into] of [
      ['mp4', 'mp4'],
      ['mkv', 'mp4'],
      ['mp4', 'mkv'],
      ['mkv', 'mkv'],
    ] as const) {
      const warnings: string[] = [];
      const out = `${tmp.path}/out-from-${ext}.${into}`;
      const r = await remux({
        output: out,
        segments: [clip],
        source: `${tmp.path}/src.${ext}`,
        onWarning: (m) => warnings.push(m),
      });
      expect(r.chapters).toBe(3);
      expect(warnings).toEqual([]);
      const theirs = ffprobeChapters(out);
      expect(theirs.map((c) => c.title)).toEqual(CHAPTERS.map((c) => c.title));
      for (const [i, c] of theirs.entries()) {
        expect(c.start).toBeCloseTo(CHAPTERS[i]!.start, 3);
        // MP4's chapter list has start times only: there the last one ends with the file.
        if (i < theirs.length - 1 || into === 'mkv') expect(c.end!).toBeCloseTo(CHAPTERS[i]!.end!, 3);
      }
      expect((await streamDigest(out, 'video')).digest).toBe((await streamDigest(clip, 'video')).digest);
      expect((await streamDigest(out, 'audio')).packets).toBeGreaterThan(0);
    }
    // A container without chapters: a warning.
    const warnings: string[] = [];
    const r = await remux({
      output: `${tmp.path}/out.ts`,
      segments: [clip],
      source: `${tmp.path}/src.mp4`,
      onWarning: (m) => warnings.push(m),
    });
    expect(r.chapters).toBe(0);
    expect(warnings.join('\n')).toContain('3 chapters are not carried into mpegts');
  });
});

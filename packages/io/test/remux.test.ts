import { writeFile } from 'node:fs/promises';
import { probe, readAudio, remux, transcode, VideoReader, VideoWriter } from '@framecraft/io';
import { writeTestClip } from '@framecraft/io/testing';
import { decodeAll, meanLuma, psnr, streamDigest } from '@framecraft/test-utils';
import { beforeAll, describe, expect, test, useTempDir } from '@framecraft/test-utils/harness';

const SRT = `1
00:00:00,200 --> 00:00:00,900
Hello from Framecraft

2
00:00:01,000 --> 00:00:01,800
Second line
`;

describe('remux: stitching segments and carrying streams', () => {
  const tmp = useTempDir();
  let clip = '';
  beforeAll(async () => {
    clip = `${tmp.path}/clip.mp4`;
    await writeTestClip(clip, {
      width: 160,
      height: 96,
      frames: 60,
      flashes: [10, 45],
      metadata: { title: 'Sample clip' },
    });
    await writeFile(`${tmp.path}/subs.srt`, SRT);
  });

  test('segments encoded separately stitch into one clip with no missing or repeated frame', async () => {
    await using reader = await VideoReader.open(clip);
    const s = reader.stream;
    const segments: string[] = [];
    for (const [start, end] of [
      [0, 25],
      [25, 40],
      [40, 60],
    ] as const) {
      const path = `${tmp.path}/seg-${start}.mp4`;
      const w = await VideoWriter.create(path, {
        width: s.width,
        height: s.height,
        timeBase: s.timeBase,
        color: s.color,
        crf: 12,
      });
      for await (const f of reader.frames({ start: { frame: start }, end: { frame: end } })) await w.write(f);
      await w.close();
      segments.push(path);
    }
    const out = `${tmp.path}/stitched.mp4`;
    const res = await remux({ output: out, segments, source: clip });
    expect(res.videoPackets).toBe(60);
    const a = await decodeAll(clip);
    const b = await decodeAll(out);
    expect(b.map((f) => f.pts)).toEqual(a.map((f) => f.pts));
    for (const [i, f] of b.entries()) expect(psnr(f, a[i]!)).toBeGreaterThan(38);
    // Flash frames and beeps still line up after the stitch.
    const flashes = b.filter((f) => meanLuma(f) > 200).map((f) => (f.pts * s.timeBase.num) / s.timeBase.den);
    expect(flashes).toEqual([10 / 30, 45 / 30]);
    const audio = await readAudio(out);
    const first = audio.channels[0]!.findIndex((v) => Math.abs(v) > 0.05);
    expect(Math.abs(audio.startTime + first / audio.sampleRate - 10 / 30)).toBeLessThanOrEqual(1 / 30);
    expect((await streamDigest(out, 'audio')).digest).toBe((await streamDigest(clip, 'audio')).digest);
    const info = await probe(out);
    expect(info.metadata.title).toBe('Sample clip');
  });

  test('subtitles from an external .srt are carried into Matroska and survive a transcode', async () => {
    const withSubs = `${tmp.path}/with-subs.mkv`;
    const res = await remux({
      output: withSubs,
      segments: [clip],
      source: clip,
      extraSources: [`${tmp.path}/subs.srt`],
    });
    expect(res.copiedStreams.map((r) => r.file)).toEqual([clip, `${tmp.path}/subs.srt`]);
    const info = await probe(withSubs);
    expect(info.streams.map((s) => `${s.type}:${s.codec}`)).toEqual([
      'video:h264',
      'audio:aac',
      'subtitle:subrip',
    ]);

    const out = `${tmp.path}/with-subs-out.mkv`;
    await transcode(withSubs, out, { preset: 'ultrafast' });
    const after = await probe(out);
    expect(after.streams.map((s) => `${s.type}:${s.codec}`)).toEqual([
      'video:h264',
      'audio:aac',
      'subtitle:subrip',
    ]);
  });

  test('a stream the container cannot hold is left out with a warning, never silently', async () => {
    const withSubs = `${tmp.path}/with-subs2.mkv`;
    await remux({ output: withSubs, segments: [clip], source: clip, extraSources: [`${tmp.path}/subs.srt`] });
    const warnings: string[] = [];
    const res = await transcode(withSubs, `${tmp.path}/no-subs.mp4`, {
      preset: 'ultrafast',
      onWarning: (m) => warnings.push(m),
    });
    expect(res.skippedStreams).toHaveLength(1);
    expect(res.skippedStreams[0]!.reason).toContain('subrip subtitles cannot go into MP4');
    expect(warnings.join('\n')).toContain('stream #2 left out');
  });

  test('a video that starts later than its audio keeps the offset and the sync', async () => {
    const late = `${tmp.path}/late.mp4`;
    // Video timestamps start at 0.5 s; audio starts at 0.
    const timestamps = Array.from({ length: 45 }, (_, i) => i + 15);
    await writeTestClip(late, {
      width: 160,
      height: 96,
      timestamps,
      timeBase: { num: 1, den: 30 },
      flashes: [20],
    });
    const out = `${tmp.path}/late-out.mp4`;
    await transcode(late, out, { preset: 'ultrafast' });
    const frames = await decodeAll(out, 'gray8');
    const sec = (f: (typeof frames)[number]): number => (f.pts * f.timeBase.num) / f.timeBase.den;
    expect(sec(frames[0]!)).toBeCloseTo(0.5, 6);
    const flash = frames.find((f) => meanLuma(f) > 200)!;
    expect(sec(flash)).toBeCloseTo(35 / 30, 6);
    const audio = await readAudio(out);
    const beep = audio.startTime + audio.channels[0]!.findIndex((v) => Math.abs(v) > 0.05) / audio.sampleRate;
    expect(Math.abs(beep - 35 / 30)).toBeLessThanOrEqual(1 / 30);
  });
});

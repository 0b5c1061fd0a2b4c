import { probe, readAudio, transcode, VideoReader } from '@framecraft/io';
import { writeTestClip } from '@framecraft/io/testing';
import { meanLuma, streamDigest } from '@framecraft/test-utils';
import { beforeAll, describe, expect, test, useTempDir } from '@framecraft/test-utils/harness';

const FLASHES = [15, 42, 77];

async function flashTimes(file: string): Promise<number[]> {
  await using reader = await VideoReader.open(file);
  const tb = reader.stream.timeBase;
  const times: number[] = [];
  for await (const f of reader.frames({ format: 'gray8' })) {
    if (meanLuma(f) > 200) times.push((f.pts * tb.num) / tb.den);
  }
  return times;
}

async function beepOnsets(file: string): Promise<number[]> {
  const audio = await readAudio(file);
  const x = audio.channels[0]!;
  const onsets: number[] = [];
  let quietFor = Infinity;
  for (let i = 0; i < x.length; i++) {
    if (Math.abs(x[i]!) > 0.05) {
      if (quietFor > audio.sampleRate * 0.05) onsets.push(audio.startTime + i / audio.sampleRate);
      quietFor = 0;
    } else quietFor++;
  }
  return onsets;
}

describe('A/V sync through a transcode', () => {
  const tmp = useTempDir();
  let src = '';
  let out = '';
  beforeAll(async () => {
    src = `${tmp.path}/beeps.mp4`;
    out = `${tmp.path}/out.mp4`;
    await writeTestClip(src, { width: 192, height: 108, frames: 100, flashes: FLASHES });
    await transcode(src, out, { preset: 'veryfast' });
  });

  test('the source clip has a beep at every flash', async () => {
    const flashes = await flashTimes(src);
    const beeps = await beepOnsets(src);
    expect(flashes).toHaveLength(FLASHES.length);
    expect(beeps).toHaveLength(FLASHES.length);
  });

  test('each beep and its flash still coincide within one frame', async () => {
    const flashes = await flashTimes(out);
    const beeps = await beepOnsets(out);
    expect(flashes).toHaveLength(FLASHES.length);
    expect(beeps).toHaveLength(FLASHES.length);
    for (let i = 0; i < FLASHES.length; i++) {
      expect(Math.abs(flashes[i]! - FLASHES[i]! / 30)).toBeLessThan(1e-6);
      expect(Math.abs(beeps[i]! - flashes[i]!)).toBeLessThanOrEqual(1 / 30);
    }
  });

  test('duration and frame count are kept', async () => {
    const a = await probe(src, { keyframes: true });
    const b = await probe(out, { keyframes: true });
    const va = a.streams.find((s) => s.type === 'video');
    const vb = b.streams.find((s) => s.type === 'video');
    expect(vb?.type === 'video' && vb.frameCount).toBe(100);
    expect(va?.type === 'video' && va.frameCount).toBe(100);
    expect(Math.abs(b.duration - a.duration)).toBeLessThanOrEqual(1 / 30);
    expect(Math.abs((vb?.duration ?? 0) - (va?.duration ?? 0))).toBeLessThanOrEqual(1e-3);
  });

  test('the audio stream is copied bit-exactly', async () => {
    const a = await streamDigest(src, 'audio');
    const b = await streamDigest(out, 'audio');
    expect(a.packets).toBeGreaterThan(100);
    expect(b).toEqual(a);
  });
});

describe('A/V sync into WebM (VP9 video, the AAC audio encoded again as Opus)', () => {
  const tmp = useTempDir();
  let src = '';
  let out = '';
  const warnings: string[] = [];
  beforeAll(async () => {
    src = `${tmp.path}/beeps.mp4`;
    out = `${tmp.path}/out.webm`;
    await writeTestClip(src, { width: 192, height: 108, frames: 100, flashes: FLASHES });
    const res = await transcode(src, out, { preset: 'ultrafast', onWarning: (m) => warnings.push(m) });
    expect(res.encoder).toBe('libvpx-vp9');
    expect(res.reencodedStreams).toEqual([{ file: src, index: 1, codec: 'opus' }]);
  });

  test('VP9 and Opus; each beep and its flash coincide within one frame; duration kept', async () => {
    const info = await probe(out, { keyframes: true });
    expect(info.streams.map((s) => `${s.type}:${s.codec}`)).toEqual(['video:vp9', 'audio:opus']);
    expect(warnings).toEqual([expect.stringContaining('stream #1 (aac audio) is encoded again as Opus')]);
    const flashes = await flashTimes(out);
    const beeps = await beepOnsets(out);
    expect(flashes).toHaveLength(FLASHES.length);
    expect(beeps).toHaveLength(FLASHES.length);
    for (let i = 0; i < FLASHES.length; i++) {
      expect(Math.abs(flashes[i]! - FLASHES[i]! / 30)).toBeLessThan(1e-3);
      expect(Math.abs(beeps[i]! - flashes[i]!)).toBeLessThanOrEqual(1 / 30);
    }
    const a = await probe(src);
    expect(Math.abs(info.duration - a.duration)).toBeLessThanOrEqual(2 / 30);
    const v = info.streams[0];
    expect(v?.type === 'video' && v.frameCount).toBe(100);
  });
});

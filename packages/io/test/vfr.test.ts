import { probe, transcode, VideoReader } from '@framecraft/io';
import { writeTestClip } from '@framecraft/io/testing';
import { describe, expect, test, useTempDir } from '@framecraft/test-utils/harness';

// Irregular intervals in milliseconds, as a phone camera or screen recorder produces.
const TIMESTAMPS = [
  0, 33, 70, 100, 180, 200, 260, 290, 333, 400, 433, 520, 540, 600, 700, 733, 766, 850, 900, 1000,
];

async function ptsSeconds(file: string): Promise<number[]> {
  await using reader = await VideoReader.open(file);
  const tb = reader.stream.timeBase;
  const out: number[] = [];
  for await (const f of reader.frames()) out.push((f.pts * tb.num) / tb.den);
  return out;
}

describe('variable frame rate', () => {
  const tmp = useTempDir();

  for (const ext of ['mp4', 'mkv']) {
    test(`irregular timestamps survive a transcode (${ext})`, async () => {
      const src = `${tmp.path}/vfr.${ext}`;
      const out = `${tmp.path}/vfr-out.${ext}`;
      await writeTestClip(src, {
        width: 160,
        height: 120,
        timestamps: TIMESTAMPS,
        timeBase: { num: 1, den: 1000 },
      });
      await transcode(src, out);
      const expected = TIMESTAMPS.map((t) => t / 1000);
      const before = await ptsSeconds(src);
      const after = await ptsSeconds(out);
      expect(after).toHaveLength(TIMESTAMPS.length);
      for (let i = 0; i < expected.length; i++) {
        expect(Math.abs(before[i]! - expected[i]!)).toBeLessThan(1e-3);
        expect(Math.abs(after[i]! - expected[i]!)).toBeLessThan(1e-3);
      }
      const info = await probe(out);
      const v = info.streams.find((s) => s.type === 'video');
      expect(v?.type === 'video' && v.vfr).toBe(true);
    });
  }

  test('a constant-rate clip is not flagged as VFR', async () => {
    const src = `${tmp.path}/cfr.mp4`;
    await writeTestClip(src, { width: 160, height: 120, frames: 40, frameRate: { num: 30000, den: 1001 } });
    const v = (await probe(src)).streams.find((s) => s.type === 'video');
    expect(v?.type === 'video' && v.vfr).toBe(false);
    expect(v?.type === 'video' && v.avgFrameRate).toEqual({ num: 30000, den: 1001 });
  });
});

import { VideoReader } from '@framecraft/io';
import { writeTestClip } from '@framecraft/io/testing';
import { decodeAll, samePixels } from '@framecraft/test-utils';
import { beforeAll, describe, expect, test, useTempDir } from '@framecraft/test-utils/harness';

describe('frame-accurate seeking', () => {
  const tmp = useTempDir();
  let src = '';
  beforeAll(async () => {
    src = `${tmp.path}/gop.mp4`;
    // Short GOPs with B-frames make "seek to keyframe and decode forward" do real work.
    await writeTestClip(src, { width: 160, height: 96, frames: 90, audio: false });
  });

  test('frame N after a seek equals frame N read sequentially', async () => {
    const all = await decodeAll(src);
    await using reader = await VideoReader.open(src);
    for (const n of [0, 1, 29, 30, 31, 47, 88, 89]) {
      const f = await reader.frameAt({ frame: n });
      expect(f.pts).toBe(all[n]!.pts);
      expect(samePixels(f, all[n]!)).toBe(true);
    }
  });

  test('seeking by time lands on the frame at or after that time', async () => {
    const all = await decodeAll(src);
    await using reader = await VideoReader.open(src);
    const f = await reader.frameAt({ time: 1.0 });
    expect(samePixels(f, all[30]!)).toBe(true);
    const g = await reader.frameAt({ time: 1.01 });
    expect(samePixels(g, all[31]!)).toBe(true);
  });

  test('a range [start, end) yields exactly those frames, in order, backwards or forwards', async () => {
    const all = await decodeAll(src);
    await using reader = await VideoReader.open(src);
    for (const [start, end] of [
      [60, 75],
      [10, 20],
      [0, 5],
      [85, 200],
    ] as const) {
      const got = [];
      for await (const f of reader.frames({ start: { frame: start }, end: { frame: end }, copy: true }))
        got.push(f);
      const want = all.slice(start, end);
      expect(got.map((f) => f.pts)).toEqual(want.map((f) => f.pts));
      for (const [i, f] of got.entries()) expect(samePixels(f, want[i]!)).toBe(true);
    }
  });

  test('gray8 comes straight from the Y plane and rgb24 converts', async () => {
    await using reader = await VideoReader.open(src);
    const yuv = await reader.frameAt({ frame: 5 });
    const gray = await reader.frameAt({ frame: 5 }, 'gray8');
    expect(gray.format).toBe('gray8');
    expect(gray.planes).toHaveLength(1);
    expect(Array.from(gray.planes[0]!.data.subarray(0, 160))).toEqual(
      Array.from(yuv.planes[0]!.data.subarray(0, 160)),
    );
    const rgb = await reader.frameAt({ frame: 5 }, 'rgb24');
    expect(rgb.format).toBe('rgb24');
    expect(rgb.planes[0]!.stride).toBeGreaterThanOrEqual(160 * 3);
    expect(await reader.frameTimestamps()).toHaveLength(90);
  });
});

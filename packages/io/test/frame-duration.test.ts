import { createFrame } from '@framecraft/core';
import { VideoReader, VideoWriter } from '@framecraft/io';
import { describe, expect, test, useTempDir } from '@framecraft/test-utils/harness';

describe('frames without a duration', () => {
  const tmp = useTempDir();

  test('the last one is kept: it lasts one frame period (MP4 edit lists cut it otherwise)', async () => {
    // 29.97 fps in 1/30000 units, B-frames on (x264's default): the case where a filter graph's
    // frames (duration 0) lost their last frame to the edit list.
    const out = `${tmp.path}/no-duration.mp4`;
    const writer = await VideoWriter.create(out, {
      width: 64,
      height: 48,
      timeBase: { num: 1, den: 30000 },
      frameRate: { num: 30000, den: 1001 },
      preset: 'ultrafast',
    });
    for (let i = 0; i < 25; i++) {
      const f = createFrame({
        width: 64,
        height: 48,
        format: 'yuv420p',
        pts: i * 1001,
        timeBase: { num: 1, den: 30000 },
      });
      f.planes[0]!.data.fill(16 + i * 8);
      await writer.write(f);
    }
    await writer.close();
    await using reader = await VideoReader.open(out);
    const pts: number[] = [];
    for await (const f of reader.frames()) pts.push(f.pts);
    expect(pts).toHaveLength(25);
    expect(pts.at(-1)).toBe(24 * 1001);
  });
});

import { createFrame } from '@framecraft/core';
import { encodedColor, probe, VideoReader, VideoWriter } from '@framecraft/io';
import { describe, expect, test, useTempDir } from '@framecraft/test-utils/harness';

describe('RGB frames into a YUV encode', () => {
  const tmp = useTempDir();

  test('are tagged with the matrix they were converted with, never GBR, and decode back to their colours', async () => {
    for (const [primaries, height, matrix] of [
      ['bt709', 64, 'bt709'],
      ['smpte170m', 64, 'smpte170m'],
      ['unknown', 64, 'smpte170m'],
      ['unknown', 720, 'bt709'],
    ] as const) {
      const color = { range: 'full', primaries, transfer: 'bt709', matrix: 'rgb' } as const;
      expect(encodedColor(color, 'yuv420p', height).matrix).toBe(matrix);
      expect(encodedColor(color, 'rgb24', height).matrix).toBe('rgb');
    }
    const out = `${tmp.path}/rgb.mp4`;
    const color = { range: 'full', primaries: 'bt709', transfer: 'bt709', matrix: 'rgb' } as const;
    const writer = await VideoWriter.create(out, {
      width: 64,
      height: 48,
      timeBase: { num: 1, den: 25 },
      frameRate: { num: 25, den: 1 },
      lossless: true,
      pixelFormat: 'yuv444p',
      color,
    });
    const frame = createFrame({
      width: 64,
      height: 48,
      format: 'rgb24',
      color,
      timeBase: { num: 1, den: 25 },
    });
    // Flat patches of saturated colours: red, green, blue, a skin tone.
    const patches = [
      [220, 30, 30],
      [30, 200, 60],
      [40, 50, 210],
      [224, 172, 140],
    ] as const;
    const d = frame.planes[0]!.data;
    for (let i = 0; i < 64 * 48; i++) d.set(patches[Math.floor((i % 64) / 16)]!, i * 3);
    for (let i = 0; i < 2; i++) await writer.write({ ...frame, pts: i });
    await writer.close();
    const v = (await probe(out)).streams[0];
    expect(v?.type === 'video' && v.color.matrix).toBe('bt709');
    await using reader = await VideoReader.open(out);
    const back = await reader.frameAt({ frame: 0 }, 'rgb24');
    for (const [k, rgb] of patches.entries()) {
      const at = (24 * 64 + k * 16 + 8) * 3;
      for (let c = 0; c < 3; c++)
        expect(Math.abs(back.planes[0]!.data[at + c]! - rgb[c]!)).toBeLessThanOrEqual(3);
    }
  });
});

import { type ColorInfo, createFrame } from '@framecraft/core';
import { probe, transcode, VideoWriter } from '@framecraft/io';
import { writeTestClip } from '@framecraft/io/testing';
import { decodeAll, psnr } from '@framecraft/test-utils';
import { describe, expect, test, useTempDir } from '@framecraft/test-utils/harness';

const CASES: readonly [string, ColorInfo][] = [
  ['bt709 limited', { range: 'limited', primaries: 'bt709', transfer: 'bt709', matrix: 'bt709' }],
  ['bt709 full', { range: 'full', primaries: 'bt709', transfer: 'bt709', matrix: 'bt709' }],
  ['bt601 limited', { range: 'limited', primaries: 'smpte170m', transfer: 'smpte170m', matrix: 'smpte170m' }],
  ['bt601 full', { range: 'full', primaries: 'bt470bg', transfer: 'smpte170m', matrix: 'bt470bg' }],
];

describe('color tags and colors survive a transcode', () => {
  const tmp = useTempDir();

  for (const [name, color] of CASES) {
    test(name, async () => {
      const src = `${tmp.path}/${name.replace(' ', '-')}.mp4`;
      const out = `${tmp.path}/${name.replace(' ', '-')}-out.mp4`;
      const clip = await writeTestClip(src, { width: 192, height: 144, frames: 12, color, audio: false });
      await transcode(src, out, { crf: 16 });
      const v = (await probe(out)).streams.find((s) => s.type === 'video');
      expect(v?.type === 'video' && v.color).toEqual(color);

      // YUV planes as stored, then RGB as a viewer sees them.
      const a = await decodeAll(src);
      const b = await decodeAll(out);
      expect(b).toHaveLength(12);
      for (let i = 0; i < a.length; i++) expect(psnr(a[i]!, b[i]!)).toBeGreaterThanOrEqual(40);
      const ra = await decodeAll(src, 'rgb24');
      const rb = await decodeAll(out, 'rgb24');
      for (let i = 0; i < ra.length; i++) expect(psnr(ra[i]!, rb[i]!)).toBeGreaterThanOrEqual(40);
      // Flat colour bars read back as drawn (a wrong matrix or range is off by 10+ code values).
      const drawn = clip.pictures[0]!.planes[0]!.data;
      const read = ra[0]!.planes[0]!;
      const y = Math.floor(144 * 0.9);
      for (let bar = 0; bar < 6; bar++) {
        const x = Math.floor(((bar + 0.5) * 192) / 6);
        for (let c = 0; c < 3; c++) {
          expect(
            Math.abs(read.data[y * read.stride + x * 3 + c]! - drawn[(y * 192 + x) * 3 + c]!),
          ).toBeLessThanOrEqual(3);
        }
      }
    });
  }
});

describe('gray8 frames are written as neutral YUV', () => {
  const tmp = useTempDir();
  for (const range of ['full', 'limited'] as const) {
    test(`${range} range target: luma kept (or mapped to 16-235), chroma exactly 128`, async () => {
      const out = `${tmp.path}/gray-${range}.mkv`;
      const color: ColorInfo = { range, primaries: 'bt709', transfer: 'bt709', matrix: 'bt709' };
      const w = await VideoWriter.create(out, {
        width: 66,
        height: 38,
        timeBase: { num: 1, den: 25 },
        codec: 'ffv1',
        color,
      });
      const f = createFrame({
        width: 66,
        height: 38,
        format: 'gray8',
        timeBase: { num: 1, den: 25 },
        duration: 1,
        align: 64,
      });
      const d = f.planes[0]!.data as Uint8Array;
      for (let y = 0; y < 38; y++)
        for (let x = 0; x < 66; x++) d[y * f.planes[0]!.stride + x] = (x * 4 + y) & 255;
      await w.write(f);
      await w.close();
      const [g] = await decodeAll(out);
      expect(g!.format).toBe('yuv420p');
      expect(new Set(g!.planes[1]!.data)).toEqual(new Set([128]));
      expect(new Set(g!.planes[2]!.data)).toEqual(new Set([128]));
      const p = g!.planes[0]!;
      for (const [x, y] of [
        [0, 0],
        [65, 37],
        [30, 20],
      ] as const) {
        const v = (x * 4 + y) & 255;
        expect(p.data[y * p.stride + x]).toBe(range === 'full' ? v : Math.round(16 + (v * 219) / 255));
      }
    });
  }
});

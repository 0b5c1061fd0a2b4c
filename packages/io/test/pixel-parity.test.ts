import { transcode } from '@framecraft/io';
import { writeTestClip } from '@framecraft/io/testing';
import { decodeAll, samePixels } from '@framecraft/test-utils';
import { describe, expect, test, useTempDir } from '@framecraft/test-utils/harness';

describe('identity pass with a lossless encoder', () => {
  const tmp = useTempDir();

  for (const [codec, ext] of [
    ['libx264', 'mp4'],
    ['ffv1', 'mkv'],
  ] as const) {
    test(`${codec}: decoded output frames equal decoded input frames`, async () => {
      const src = `${tmp.path}/src-${codec}.${ext}`;
      await writeTestClip(src, { width: 176, height: 144, frames: 24, codec, lossless: true, audio: false });
      const out = `${tmp.path}/out-${codec}.${ext}`;
      const result = await transcode(src, out, { codec, lossless: true });
      expect(result.encoder).toBe(codec);
      const a = await decodeAll(src);
      const b = await decodeAll(out);
      expect(b.length).toBe(24);
      expect(b.length).toBe(a.length);
      for (let i = 0; i < a.length; i++) {
        expect(b[i]!.pts).toBe(a[i]!.pts);
        expect(samePixels(a[i]!, b[i]!)).toBe(true);
      }
    });
  }
});

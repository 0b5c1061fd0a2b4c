import { diskSpace, probe, transcode } from '@framecraft/io';
import { writeTestClip } from '@framecraft/io/testing';
import { decodeAll, psnr } from '@framecraft/test-utils';
import { describe, expect, test, useTempDir } from '@framecraft/test-utils/harness';

describe('probe: stream details that must survive a transcode', () => {
  const tmp = useTempDir();

  test('10-bit HDR (PQ, BT.2020) is reported, kept 10-bit and tagged after a transcode', async () => {
    const src = `${tmp.path}/hdr10.mp4`;
    const color = {
      range: 'limited',
      primaries: 'bt2020',
      transfer: 'smpte2084',
      matrix: 'bt2020nc',
    } as const;
    await writeTestClip(src, {
      width: 160,
      height: 96,
      frames: 10,
      pixelFormat: 'yuv420p10',
      color,
      audio: false,
    });
    const out = `${tmp.path}/hdr10-out.mp4`;
    await transcode(src, out, { crf: 14 });
    for (const file of [src, out]) {
      const v = (await probe(file)).streams[0];
      expect(v?.type).toBe('video');
      if (v?.type !== 'video') return;
      expect(v.bitDepth).toBe(10);
      expect(v.pixelFormat).toBe('yuv420p10le');
      expect(v.hdr).toBe(true);
      expect(v.color).toEqual(color);
    }
    const a = await decodeAll(src);
    const b = await decodeAll(out);
    expect(a[0]!.format).toBe('yuv420p10');
    expect(a[0]!.planes[0]!.data).toBeInstanceOf(Uint16Array);
    expect(Math.max(...a[0]!.planes[0]!.data)).toBeGreaterThan(255);
    for (let i = 0; i < a.length; i++) expect(psnr(a[i]!, b[i]!)).toBeGreaterThanOrEqual(40);
  });

  test('rotation from the display matrix is reported and kept', async () => {
    const src = `${tmp.path}/portrait.mp4`;
    await writeTestClip(src, { width: 160, height: 96, frames: 5, rotation: 90, audio: false });
    const before = (await probe(src)).streams[0];
    expect(before?.type === 'video' && before.rotation).toBe(90);
    await transcode(src, `${tmp.path}/portrait-out.mp4`);
    const after = (await probe(`${tmp.path}/portrait-out.mp4`)).streams[0];
    expect(after?.type === 'video' && after.rotation).toBe(90);
    const plain = `${tmp.path}/plain.mp4`;
    await writeTestClip(plain, { width: 160, height: 96, frames: 2, audio: false });
    const p = (await probe(plain)).streams[0];
    expect(p?.type === 'video' && p.rotation).toBe(0);
  });

  test('probe output is JSON-serialisable and complete', async () => {
    const src = `${tmp.path}/json.mp4`;
    await writeTestClip(src, { width: 160, height: 96, frames: 30, metadata: { title: 'T' } });
    const info = await probe(src, { keyframes: true });
    const round = JSON.parse(JSON.stringify(info));
    expect(round).toEqual(info);
    expect(info.metadata.title).toBe('T');
    const [v, a] = info.streams;
    expect(v).toMatchObject({
      type: 'video',
      codec: 'h264',
      width: 160,
      height: 96,
      frameCount: 30,
      vfr: false,
    });
    expect(v?.type === 'video' && v.keyframes?.[0]).toBe(0);
    expect(a).toMatchObject({ type: 'audio', codec: 'aac', sampleRate: 48000, channels: 2 });
    expect(info.duration).toBeCloseTo(1, 1);
  });

  test('diskSpace reports free and total bytes of a folder', async () => {
    const space = await diskSpace(tmp.path);
    expect(space.total).toBeGreaterThan(0);
    expect(space.free).toBeGreaterThan(0);
    expect(space.free).toBeLessThanOrEqual(space.total);
    await expect(diskSpace(`${tmp.path}/missing/folder`)).rejects.toThrow(/ENOENT/);
  });
});

import { existsSync } from 'node:fs';
import type { EncoderFallback } from '@framecraft/io';
import { checkEncoder, hardwareInfo, parseNvidiaSmi, probe, transcode } from '@framecraft/io';
import { writeTestClip } from '@framecraft/io/testing';
import { describe, expect, test, useTempDir } from '@framecraft/test-utils/harness';

describe('NVENC detection and fallback', () => {
  const tmp = useTempDir();

  test('NVENC is used only when it really encodes; otherwise the fallback is reported, never silent', async () => {
    const nvenc = await checkEncoder('h264_nvenc');
    const src = `${tmp.path}/src.mp4`;
    await writeTestClip(src, { width: 160, height: 96, frames: 10, audio: false });
    const events: EncoderFallback[] = [];
    const warnings: string[] = [];
    const res = await transcode(src, `${tmp.path}/out.mp4`, {
      codec: 'h264_nvenc',
      onFallback: (e) => events.push(e),
      onWarning: (m) => warnings.push(m),
    });
    if (nvenc.usable) {
      expect(res.encoder).toBe('h264_nvenc');
      expect(res.fallback).toBeNull();
      expect(events).toEqual([]);
    } else {
      expect(nvenc.reason).toBeTruthy();
      expect(res.encoder).toBe('libx264');
      expect(res.fallback?.requested).toBe('h264_nvenc');
      expect(events).toHaveLength(1);
      expect(warnings.join('\n')).toContain('h264_nvenc is not usable here');
    }
    const v = (await probe(`${tmp.path}/out.mp4`)).streams[0];
    expect(v?.codec).toBe('h264');
  });

  test('codec "auto" picks NVENC or libx264 and says which', async () => {
    const src = `${tmp.path}/src2.mp4`;
    await writeTestClip(src, { width: 160, height: 96, frames: 5, audio: false });
    const res = await transcode(src, `${tmp.path}/auto.mp4`, { codec: 'auto', onWarning: () => {} });
    expect(['h264_nvenc', 'libx264']).toContain(res.encoder);
    expect(res.fallback === null).toBe(res.encoder === 'h264_nvenc');
  });

  test('hardware info degrades to a clean "none" without a GPU', async () => {
    const hw = await hardwareInfo({ nvidiaSmi: `${tmp.path}/no-such-nvidia-smi` });
    expect(hw.gpus).toEqual([]);
    expect(hw.gpuNote).toContain('no NVIDIA GPU');
    expect(hw.videoEncoders).toContain('libx264');
    expect(hw.hardwareEncoders).toContain('h264_nvenc');
    // The same verdict as a direct one-frame encode; where it fails, the reason is FFmpeg's.
    const direct = await checkEncoder('h264_nvenc');
    expect(hw.nvenc).toEqual(direct);
    // Without the NVIDIA driver's device nodes NVENC cannot encode: the answer must be no.
    if (!existsSync('/dev/nvidiactl')) expect(direct.usable).toBe(false);
    if (direct.usable) expect(direct.reason).toBeNull();
    else expect(direct.reason).toMatch(/\w{4,}/);
  });

  test('nvidia-smi CSV is parsed', () => {
    const gpus = parseNvidiaSmi(
      '0, NVIDIA H100 80GB HBM3, 81559, 1234, 41, 7, 580.65.06\n1, NVIDIA L4, 23034, [N/A], [N/A], 0, 580.65.06\n',
    );
    expect(gpus).toHaveLength(2);
    expect(gpus[0]).toEqual({
      index: 0,
      name: 'NVIDIA H100 80GB HBM3',
      memoryTotalMiB: 81559,
      memoryUsedMiB: 1234,
      temperatureC: 41,
      utilizationPercent: 7,
      driverVersion: '580.65.06',
    });
    expect(gpus[1]?.temperatureC).toBeNull();
  });
});

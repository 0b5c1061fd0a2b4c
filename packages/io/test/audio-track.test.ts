import { join } from 'node:path';
import { createFrame } from '@framecraft/core';
import { readAudio, VideoWriter } from '@framecraft/io';
import { describe, expect, test, useTempDir } from '@framecraft/test-utils/harness';

const RATE = 48_000;

/** A stereo test signal: a 440 Hz sine left, a 660 Hz one right, at half scale. */
function signal(length: number): [Float32Array, Float32Array] {
  const l = new Float32Array(length);
  const r = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    l[i] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / RATE);
    r[i] = 0.5 * Math.sin((2 * Math.PI * 660 * i) / RATE);
  }
  return [l, r];
}

/** Write one second of video with the signal given in uneven pieces, as a decoder hands them over. */
async function writeWithAudio(
  path: string,
  codec: string,
  samples: [Float32Array, Float32Array],
): Promise<void> {
  await using writer = await VideoWriter.create(path, {
    width: 32,
    height: 32,
    timeBase: { num: 1, den: 25 },
    frameRate: { num: 25, den: 1 },
    audio: { sampleRate: RATE, channels: 2, codec },
  });
  const pieces = [700, 3000, 1, 4096, 100, 12_000];
  let at = 0;
  for (let p = 0; at < samples[0].length; p++) {
    const n = Math.min(pieces[p % pieces.length]!, samples[0].length - at);
    await writer.writeAudio([samples[0].subarray(at, at + n), samples[1].subarray(at, at + n)]);
    at += n;
  }
  for (let i = 0; i < 25; i++) {
    const frame = createFrame({
      width: 32,
      height: 32,
      format: 'yuv420p',
      pts: i,
      timeBase: { num: 1, den: 25 },
    });
    await writer.write(frame);
  }
  await writer.close();
}

function rms(x: Float32Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / (to - from));
}

describe('audio track', () => {
  const dir = useTempDir();

  test('PCM samples written in uneven pieces come back exactly (16-bit quantised), in both channels', async () => {
    const samples = signal(RATE);
    const path = join(dir.path, 'pcm.mkv');
    await writeWithAudio(path, 'pcm_s16le', samples);
    const audio = await readAudio(path);
    expect(audio.sampleRate).toBe(RATE);
    expect(audio.channels.length).toBe(2);
    expect(audio.channels[0]!.length).toBe(RATE);
    for (let c = 0; c < 2; c++)
      for (let i = 0; i < RATE; i += 97) {
        const expected = Math.round(samples[c]![i]! * 32767) / 32768;
        expect(Math.abs(audio.channels[c]![i]! - expected)).toBeLessThan(1 / 32768 + 1e-6);
      }
  });

  for (const codec of ['aac', 'libopus'])
    test(`${codec}: the tone keeps its level in each channel, and no sample is lost`, async () => {
      const samples = signal(RATE);
      const path = join(dir.path, `${codec}.mkv`);
      await writeWithAudio(path, codec, samples);
      const audio = await readAudio(path);
      const decoded = audio.channels[0]!.length;
      // Encoder delay and the last frame's padding may add samples; none go missing.
      expect(decoded * (RATE / audio.sampleRate)).toBeGreaterThanOrEqual(RATE * 0.99);
      const mid = Math.floor(audio.channels[0]!.length / 2);
      for (let c = 0; c < 2; c++) {
        const level = rms(audio.channels[c]!, mid - 4800, mid + 4800);
        expect(level).toBeGreaterThan(0.5 / Math.SQRT2 - 0.03);
        expect(level).toBeLessThan(0.5 / Math.SQRT2 + 0.03);
      }
    });
});

import { existsSync, readFileSync } from 'node:fs';
import { readdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FramecraftError } from '@framecraft/core';
import { probe, remux, transcode, VideoReader } from '@framecraft/io';
import { writeTestClip } from '@framecraft/io/testing';
import { writeUndecodableVideo, writeWav } from '@framecraft/test-utils';
import { beforeAll, describe, expect, test, useTempDir } from '@framecraft/test-utils/harness';

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(FramecraftError.is(err)).toBe(true);
    return (err as FramecraftError).code;
  }
  throw new Error('expected a failure');
}

describe('bad inputs get their own clear errors', () => {
  const tmp = useTempDir();
  const files: Record<string, string> = {};
  beforeAll(async () => {
    const dir = tmp.path;
    files.missing = join(dir, 'does-not-exist.mp4');
    files.empty = join(dir, 'empty.mp4');
    await writeFile(files.empty, '');
    files.text = join(dir, 'notes.mp4');
    await writeFile(files.text, 'these are my notes, not a video\n'.repeat(200));
    files.truncated = join(dir, 'truncated.mp4');
    await writeTestClip(files.truncated, { width: 160, height: 96, frames: 60, audio: false });
    await truncate(files.truncated, Math.floor(readFileSync(files.truncated).length * 0.5));
    // Matroska has no sample index: truncation shows only when the data stops before the duration.
    files.truncatedMkv = join(dir, 'truncated.mkv');
    await writeTestClip(files.truncatedMkv, { width: 160, height: 96, frames: 90, audio: false });
    await truncate(files.truncatedMkv, Math.floor(readFileSync(files.truncatedMkv).length * 0.4));
    files.audioOnly = join(dir, 'voice.wav');
    await writeWav(files.audioOnly);
    files.unsupported = join(dir, 'evc.mp4');
    await writeUndecodableVideo(files.unsupported);
  });

  const cases: [string, string][] = [
    ['missing', 'ERR_FILE_NOT_FOUND'],
    ['empty', 'ERR_EMPTY_FILE'],
    ['text', 'ERR_NOT_MEDIA'],
    ['truncated', 'ERR_TRUNCATED_MEDIA'],
    ['truncatedMkv', 'ERR_TRUNCATED_MEDIA'],
    ['audioOnly', 'ERR_NO_VIDEO_STREAM'],
    ['unsupported', 'ERR_UNSUPPORTED_CODEC'],
  ];

  for (const [name, code] of cases) {
    test(`${name}: ${code}, naming the file, and no output left`, async () => {
      const file = files[name]!;
      const out = join(tmp.path, `${name}-out.mp4`);
      const got = await codeOf(
        (async () => {
          await using r = await VideoReader.open(file);
          for await (const _ of r.frames()) {
            // read to the end: truncation may only show mid-stream
          }
        })(),
      );
      expect(got).toBe(code);
      const err = (await transcode(file, out).catch((e: unknown) => e)) as FramecraftError;
      expect(err.code).toBe(code);
      expect(err.message).toContain(file);
      expect(existsSync(out)).toBe(false);
      expect((await readdir(tmp.path)).filter((f) => f.includes('.partial-'))).toEqual([]);
    });
  }

  test('a complete Matroska file whose audio outlasts its video is not called truncated', async () => {
    const shortVideo = join(tmp.path, 'short.mp4');
    const longAudio = join(tmp.path, 'long.mp4');
    await writeTestClip(shortVideo, { width: 160, height: 96, frames: 30, audio: false });
    await writeTestClip(longAudio, { width: 160, height: 96, frames: 120 });
    const mixed = join(tmp.path, 'mixed.mkv');
    await remux({ output: mixed, segments: [shortVideo], extraSources: [longAudio] });
    await using reader = await VideoReader.open(mixed);
    let frames = 0;
    for await (const _ of reader.frames()) frames++;
    expect(frames).toBe(30);
    expect(reader.info.duration).toBeGreaterThan(3.5);
  });

  test('probe reports a clear error too, and succeeds on audio-only files', async () => {
    expect(await codeOf(probe(files.text!))).toBe('ERR_NOT_MEDIA');
    expect(await codeOf(probe(files.missing!))).toBe('ERR_FILE_NOT_FOUND');
    const wav = await probe(files.audioOnly!);
    expect(wav.streams.map((s) => s.type)).toEqual(['audio']);
  });
});

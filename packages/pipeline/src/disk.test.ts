import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { existsSync, statfsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeTestClip } from '@framecraft/io/testing';
import { decodeAll, tempDir } from '@framecraft/test-utils';
import { DiskFullError } from './errors.ts';
import { readJournal } from './journal.ts';
import { render } from './render.ts';

// A small tmpfs stands in for a full disk. Mounting needs root; elsewhere the test says so and skips.
const { dir, cleanup } = await tempDir();
const disk = join(dir, 'small-disk');
await mkdir(disk);
const mounted =
  process.platform === 'linux' &&
  process.getuid?.() === 0 &&
  spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', disk]).status === 0;
if (!mounted) console.log('disk.test.ts: skipped (mounting a tmpfs needs root on Linux)');
afterAll(async () => {
  if (mounted) spawnSync('umount', [disk]);
  await cleanup();
});
process.env.FRAMECRAFT_HOME = join(dir, 'home');

let clip = '';
beforeAll(async () => {
  clip = join(dir, 'clip.mp4');
  await writeTestClip(clip, { width: 160, height: 96, frames: 90, audio: true, crf: 18 });
});

const job = (name: string, workDir: string) => ({
  input: clip,
  output: join(dir, `${name}.mp4`),
  style: 'pencil',
  chunkDuration: 1,
  codec: 'libx264',
  encoderPreset: 'ultrafast',
  workers: 1,
  workDir,
});

describe.if(mounted)('a full disk', () => {
  test('is refused before rendering when the estimate does not fit: clear error, nothing written', async () => {
    const filler = join(disk, 'filler');
    await writeFile(filler, Buffer.alloc(3 * 1024 * 1024 - 64 * 1024));
    const workDir = join(disk, 'work-a');
    const err = await render(job('a', workDir)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiskFullError);
    expect((err as Error).message).toMatch(
      /^Not enough disk space in .*work-a: about \d+ MiB needed, 0 MiB free/,
    );
    expect(existsSync(join(dir, 'a.mp4'))).toBe(false);
    await rm(filler);
    await rm(workDir, { recursive: true, force: true });
  });

  test('filling up between chunks stops with a resumable state; freeing space and rerunning finishes', async () => {
    const workDir = join(disk, 'work-b');
    const filler = join(disk, 'filler');
    let filled = false;
    const err = await render(job('b', workDir), {
      onProgress: (p) => {
        // Another program eats the free space once the first chunk is done.
        if (p.chunksDone === 1 && !filled) {
          filled = true;
          const { bavail, bsize } = statfsSync(disk);
          spawnSync('fallocate', ['-l', String(Number(bavail) * Number(bsize) - 16384), filler]);
        }
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiskFullError);
    expect(existsSync(join(dir, 'b.mp4'))).toBe(false);
    const journal = await readJournal(workDir);
    expect(journal?.chunks_completed).toEqual([0]);
    await rm(filler);
    const res = await render(job('b', workDir));
    expect(res.reused).toBe(1);
    expect((await decodeAll(res.output!)).length).toBe(90);
  });
});

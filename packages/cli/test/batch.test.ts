// `framecraft render <paths…> --out-dir`: batches of files, folders and globs, and --watch.
import { beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { probe } from '@framecraft/io';
import { writeTestClip } from '@framecraft/io/testing';
import { writeUndecodableVideo } from '@framecraft/test-utils';
import { type CliRun, runCli, runUntil, testFolders } from './harness.ts';

const { dir } = await testFolders();

const run = (...args: string[]): CliRun => runCli(args, dir);

const clips = join(dir, 'clips');
beforeAll(async () => {
  await mkdir(join(clips, 'more'), { recursive: true });
  await writeTestClip(join(clips, 'one.mp4'), { width: 64, height: 48, frames: 10 });
  await writeTestClip(join(clips, 'two.mov'), { width: 64, height: 48, frames: 12, seed: 2 });
  await writeTestClip(join(clips, 'more', 'three.mkv'), { width: 64, height: 48, frames: 8, seed: 3 });
  await writeUndecodableVideo(join(clips, 'broken.mp4'), 'h264');
  await writeFile(join(clips, 'notes.txt'), 'not a video');
});

describe('render --out-dir', () => {
  test('a folder, a glob and a missing name: every video rendered, a failure does not stop the batch, a table, exit 1', async () => {
    const out = join(dir, 'out-a');
    const r = run(
      'render',
      'clips',
      'clips/more/*.mkv',
      'clips/gone.mp4',
      '--out-dir',
      out,
      '--style',
      'pencil',
    );
    expect(r.status).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^file\s+frames\s+fps\s+result$/);
    const row = (name: string): string => lines.find((l) => l.startsWith(name)) ?? '';
    expect(row('clips/gone.mp4')).toMatch(
      /failed: error \[ERR_FILE_NOT_FOUND\]: clips\/gone\.mp4: no such file/,
    );
    expect(row('clips/broken.mp4')).toMatch(/^clips\/broken\.mp4\s+-\s+-\s+failed: error \[ERR_NO_FRAMES\]/);
    expect(row('clips/one.mp4')).toMatch(/^clips\/one\.mp4\s+10\s+[\d.]+\s+done -> out-a\/one-pencil\.mp4$/);
    expect(row('clips/two.mov')).toMatch(/\s12\s.*done -> out-a\/two-pencil\.mov$/);
    // The glob's file lands directly under the output folder (the glob's fixed part is its base).
    expect(row('clips/more/three.mkv')).toMatch(/done -> out-a\/three-pencil\.mkv$/);
    expect(lines.at(-1)).toBe('5 file(s): 3 rendered, 0 skipped, 2 failed.');
    for (const [name, frames] of [
      ['one-pencil.mp4', 10],
      ['two-pencil.mov', 12],
      ['three-pencil.mkv', 8],
    ] as const) {
      const info = await probe(join(out, name), { keyframes: true });
      expect(info.streams[0]?.type === 'video' && info.streams[0].frameCount).toBe(frames);
      expect(info.streams.map((s) => s.type)).toEqual(['video', 'audio']);
    }
    // Again: what exists is skipped, untouched; --overwrite renders it again.
    const before = readFileSync(join(out, 'one-pencil.mp4'));
    const again = run('render', 'clips/one.mp4', '--out-dir', out, '--style', 'pencil', '--json');
    expect(again.status).toBe(0);
    const events = again.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => e.event)).toEqual(['file-skipped', 'done']);
    expect(events[0]).toMatchObject({ input: join(clips, 'one.mp4'), output: join(out, 'one-pencil.mp4') });
    expect(events[1]).toMatchObject({ files: 1, done: 0, skipped: 1, failed: 0 });
    expect(readFileSync(join(out, 'one-pencil.mp4')).equals(before)).toBe(true);
    const over = run(
      'render',
      'clips/one.mp4',
      '--out-dir',
      out,
      '--style',
      'cartoon',
      '--overwrite',
      '--json',
    );
    expect(over.status).toBe(0);
    const kinds = over.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; input?: string; output?: string });
    expect(kinds[0]).toEqual({
      event: 'file-start',
      input: join(clips, 'one.mp4'),
      output: join(out, 'one-cartoon.mp4'),
    });
    // Progress events name their file.
    expect(kinds.some((e) => e.event === 'progress' && e.input === join(clips, 'one.mp4'))).toBe(true);
    expect(kinds.at(-2)).toMatchObject({ event: 'file-done', frames: 10 });
  }, 120_000);

  test('recursive keeps the folder layout; outputs that would collide are refused before any work', async () => {
    const out = join(dir, 'out-b');
    const r = run('render', 'clips', '--recursive', '--out-dir', out, '--style', 'identity');
    expect(r.status).toBe(1);
    expect(existsSync(join(out, 'more', 'three-identity.mkv'))).toBe(true);
    await mkdir(join(dir, 'twin'), { recursive: true });
    await copyFile(join(clips, 'one.mp4'), join(dir, 'twin', 'one.mp4'));
    const clash = run(
      'render',
      'clips/one.mp4',
      'twin/one.mp4',
      '--out-dir',
      join(dir, 'out-c'),
      '--style',
      'pencil',
    );
    expect(clash.status).toBe(1);
    expect(clash.stderr.trim()).toMatch(
      /^error \[ERR_BATCH_OUTPUT_CLASH\]: .*one\.mp4 and .*one\.mp4 would both be rendered to .*one-pencil\.mp4/,
    );
    expect(existsSync(join(dir, 'out-c', 'one-pencil.mp4'))).toBe(false);
    // Two positional arguments without --out-dir stay <input> <output>; three are refused.
    expect(run('render', 'clips/one.mp4', 'clips/two.mov', 'x.mp4', '--style', 'pencil').stderr).toContain(
      'render takes <input> <output>, or inputs (files, folders, globs) with --out-dir <folder>; got 3 argument(s)',
    );
  }, 120_000);

  test('Ctrl-C stops the batch: the file in progress keeps its chunks, the rest is listed; the rerun continues', async () => {
    const long = join(dir, 'long');
    await mkdir(long, { recursive: true });
    await writeTestClip(join(long, 'a-long.mp4'), { width: 320, height: 180, frames: 300 });
    await copyFile(join(clips, 'one.mp4'), join(long, 'b-short.mp4'));
    const out = join(dir, 'out-d');
    const args = [
      'render',
      'long',
      '--out-dir',
      out,
      '--style',
      'cartoon',
      '--chunk-duration',
      '1',
      '--workers',
      '1',
    ];
    const stopped = await runUntil(args, (s) => / render [1-9]\d*\/300 frames/.test(s), 'SIGINT', dir);
    expect(stopped.status).toBe(130);
    expect(stopped.stdout).toMatch(
      /long\/a-long\.mp4\s+-\s+-\s+interrupted: \d+ of 10 chunk\(s\) are done and kept: run the same command again to continue/,
    );
    expect(stopped.stdout).toMatch(/long\/b-short\.mp4\s+-\s+-\s+not started/);
    expect(stopped.stderr.trim().split('\n').at(-1)).toBe(
      'error [ERR_CANCELED]: The batch stopped by Ctrl-C (SIGINT); long/a-long.mp4 keeps its finished chunks: run the same command again to continue (finished outputs are skipped)',
    );
    const rerun = run(...args);
    expect(rerun.status).toBe(0);
    expect(rerun.stdout).toMatch(
      /long\/a-long\.mp4\s+300\s+[\d.]+\s+done -> out-d\/a-long-cartoon\.mp4 \(\d+ chunk\(s\) reused\)/,
    );
    expect(rerun.stdout).toMatch(/long\/b-short\.mp4\s+10\s/);
  }, 120_000);
});

describe('render --watch', () => {
  test('renders each new video once it stops growing, leaves its own outputs alone; Ctrl-C ends the watch cleanly', async () => {
    const inbox = join(dir, 'inbox');
    await mkdir(inbox, { recursive: true });
    const out = join(inbox, 'done');
    const source = readFileSync(join(clips, 'two.mov'));
    const copied = join(inbox, 'arriving.mov');
    let step = 0;
    const r = await runUntil(
      ['render', 'inbox', '--out-dir', out, '--style', 'pencil', '--watch', '--poll', '0.2', '--settle', '1'],
      (seen) => {
        // Once watching, a file arrives in two halves, a while apart: it must not be rendered half-copied.
        if (step === 0 && seen.includes('Watching')) {
          step = 1;
          void writeFile(copied, source.subarray(0, 2000)).then(() =>
            new Promise((res) => setTimeout(res, 600)).then(() => appendFile(copied, source.subarray(2000))),
          );
        }
        return /done: \d+ frames/.test(seen);
      },
      'SIGINT',
      dir,
    );
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('Watching inbox for new videos -> inbox/done');
    expect(r.stderr).toContain('inbox/arriving.mov -> inbox/done/arriving-pencil.mov');
    expect(r.stderr).toContain('Stopped watching (SIGINT); run the same command again to watch on.');
    expect(r.stdout).toMatch(
      /inbox\/arriving\.mov\s+12\s+[\d.]+\s+done -> inbox\/done\/arriving-pencil\.mov/,
    );
    expect(r.stdout.trim().split('\n').at(-1)).toBe('1 file(s): 1 rendered, 0 skipped, 0 failed.');
    const info = await probe(join(out, 'arriving-pencil.mov'), { keyframes: true });
    expect(info.streams[0]?.type === 'video' && info.streams[0].frameCount).toBe(12);
  }, 120_000);
});

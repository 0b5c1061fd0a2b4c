import { afterAll, describe, expect, test } from 'bun:test';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '@framecraft/test-utils';
import { batchOutput, isBatchVideo, planBatch } from './batch.ts';

const { dir, cleanup } = await tempDir();
afterAll(cleanup);

describe('planBatch', () => {
  test('files, folders (recursive or not) and globs become videos with outputs named after them', async () => {
    const clips = join(dir, 'clips');
    await mkdir(join(clips, 'day2'), { recursive: true });
    await mkdir(join(clips, 'out'), { recursive: true });
    for (const f of [
      'a.mp4',
      'b.MOV',
      'c.webm',
      'e.avi',
      'notes.txt',
      '.hidden.mp4',
      '.a-pencil.partial-1-00ff00ff.mp4',
      'day2/d.mkv',
      'out/a-pencil.mp4',
    ])
      await writeFile(join(clips, f), 'x');
    const outDir = join(clips, 'out');
    const flat = await planBatch({ inputs: [clips], outDir, style: 'pencil' });
    expect(flat.items).toEqual([
      { input: join(clips, 'a.mp4'), output: join(outDir, 'a-pencil.mp4') },
      { input: join(clips, 'b.MOV'), output: join(outDir, 'b-pencil.MOV') },
      { input: join(clips, 'c.webm'), output: join(outDir, 'c-pencil.webm') },
      // AVI is read but not written: the output is an MP4.
      { input: join(clips, 'e.avi'), output: join(outDir, 'e-pencil.mp4') },
    ]);
    // Recursive: subfolders keep their layout; the output folder's own files are never inputs.
    const deep = await planBatch({ inputs: [clips], outDir, style: 'pencil', recursive: true });
    expect(deep.items.map((i) => i.output)).toEqual([
      join(outDir, 'a-pencil.mp4'),
      join(outDir, 'b-pencil.MOV'),
      join(outDir, 'c-pencil.webm'),
      join(outDir, 'day2', 'd-pencil.mkv'),
      join(outDir, 'e-pencil.mp4'),
    ]);
    // A glob keeps the layout below its fixed part; a file given twice is taken once; a name that
    // matches nothing is reported.
    const globbed = await planBatch({
      inputs: [
        join(clips, '**/*.mkv'),
        join(clips, 'a.mp4'),
        join(clips, 'a.mp4'),
        join(dir, 'nope.mp4'),
        join(dir, '*.avi'),
      ],
      outDir: join(dir, 'o'),
      style: 'comic',
    });
    expect(globbed.items).toEqual([
      { input: join(clips, 'day2', 'd.mkv'), output: join(dir, 'o', 'day2', 'd-comic.mkv') },
      { input: join(clips, 'a.mp4'), output: join(dir, 'o', 'a-comic.mp4') },
    ]);
    expect(globbed.missing).toEqual([join(dir, 'nope.mp4'), join(dir, '*.avi')]);
  });

  test('two inputs that would write one output are refused before anything is rendered', async () => {
    await mkdir(join(dir, 'x'), { recursive: true });
    await mkdir(join(dir, 'y'), { recursive: true });
    await writeFile(join(dir, 'x', 'clip.mp4'), 'x');
    await writeFile(join(dir, 'y', 'clip.mp4'), 'x');
    await expect(
      planBatch({ inputs: [join(dir, 'x'), join(dir, 'y')], outDir: join(dir, 'o2'), style: 'pencil' }),
    ).rejects.toMatchObject({
      code: 'ERR_BATCH_OUTPUT_CLASH',
      message: expect.stringContaining('would both be rendered to'),
    });
  });

  test('video names and output names', () => {
    expect([
      isBatchVideo('a.MKV'),
      isBatchVideo('.a.mp4'),
      isBatchVideo('a.txt'),
      isBatchVideo('a.mp4.part'),
    ]).toEqual([true, false, false, false]);
    expect(batchOutput('/m/in/x/clip.avi', '/m/in', '/m/out', 'cartoon')).toBe('/m/out/x/clip-cartoon.mp4');
    expect(batchOutput('/elsewhere/clip.mov', '/m/in', '/m/out', 'cartoon')).toBe('/m/out/clip-cartoon.mov');
  });
});

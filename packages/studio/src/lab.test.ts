import { describe, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '@framecraft/test-utils';
import { type LabComparison, LabComparisons } from './lab.ts';

async function fakeComparison(dir: string, id: string): Promise<LabComparison> {
  const out = join(dir, id);
  await mkdir(out, { recursive: true });
  const images = { original: join(out, 'original.png'), a: join(out, 'a.png'), b: join(out, 'b.png') };
  for (const f of Object.values(images)) await writeFile(f, 'png');
  return {
    id,
    input: 'clip.mp4',
    frameIndex: 0,
    time: 0,
    a: { style: 'pencil' },
    b: { style: 'comic' },
    images,
  };
}

describe('LabComparisons', () => {
  test('keeps the most recently used comparisons and drops the oldest with its images', async () => {
    const tmp = await tempDir();
    const cache = new LabComparisons(2);
    const [one, two, three] = [
      await fakeComparison(tmp.dir, 'one'),
      await fakeComparison(tmp.dir, 'two'),
      await fakeComparison(tmp.dir, 'three'),
    ];
    cache.add(one);
    cache.add(two);
    expect(cache.get('one').id).toBe('one'); // now the most recent
    cache.add(three);
    expect(cache.size).toBe(2);
    expect(cache.get('one').id).toBe('one');
    expect(() => cache.get('two')).toThrow(expect.objectContaining({ code: 'ERR_LAB_NOT_FOUND' }));
    // The dropped comparison's images go (asynchronously); the kept ones stay.
    for (let i = 0; i < 100 && existsSync(join(tmp.dir, 'two')); i++) await Bun.sleep(10);
    expect(existsSync(join(tmp.dir, 'two'))).toBe(false);
    expect(existsSync(one.images.a)).toBe(true);
    expect(existsSync(three.images.b)).toBe(true);
    await tmp.cleanup();
  });
});

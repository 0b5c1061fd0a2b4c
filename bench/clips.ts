// Real-footage clips shared by the end-to-end benchmarks, prepared once into bench/.cache.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Where prepared clips are cached (git-ignored). */
export const CACHE: string = join(import.meta.dir, '.cache');
/** The real clips beside the repository (see ../shared/media/SOURCES.md). */
export const SHARED_MEDIA: string = join(import.meta.dir, '..', '..', 'shared', 'media');

/**
 * flower.mp4 played four times (20 s, so process start-up is a small share of each run) and scaled
 * to a height, encoded once and cached.
 *
 * @param height - Output height in lines (720, 1080, …).
 * @returns The cached clip's path.
 * @throws {Error} When ../shared/media/flower.mp4 is missing or ffmpeg fails.
 */
export async function flowerClip(height: number): Promise<string> {
  const flower = join(SHARED_MEDIA, 'flower.mp4');
  const path = join(CACHE, `flower-${height}p.mp4`);
  if (existsSync(path)) return path;
  if (!existsSync(flower)) throw new Error(`${flower} is needed for this benchmark`);
  await mkdir(CACHE, { recursive: true });
  const args = [
    '-v',
    'error',
    '-y',
    '-stream_loop',
    '3',
    '-i',
    flower,
    '-vf',
    `scale=-2:${height}:flags=lanczos`,
  ];
  const encode = ['-c:v', 'libx264', '-crf', '16', '-preset', 'medium', '-c:a', 'aac', path];
  const proc = Bun.spawn(['ffmpeg', ...args, ...encode], { stdout: 'ignore', stderr: 'pipe' });
  if ((await proc.exited) !== 0)
    throw new Error(`ffmpeg could not prepare ${path}:\n${await new Response(proc.stderr).text()}`);
  return path;
}

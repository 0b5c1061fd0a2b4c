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

/** A finished command: wall time and its output. */
export interface Timed {
  readonly ms: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Run a command to completion and time it (start-up included, as a user would pay it).
 *
 * @param cmd - Program and arguments.
 * @param env - Extra environment variables.
 * @returns Wall time and output.
 * @throws {Error} With the command's stderr when it exits non-zero.
 */
export async function timeCommand(cmd: string[], env: Record<string, string> = {}): Promise<Timed> {
  const t0 = performance.now();
  const p = Bun.spawn(cmd, { stdout: 'pipe', stderr: 'pipe', env: { ...process.env, ...env } });
  const [stdout, stderr, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`${cmd.join(' ')} failed (${code}):\n${stderr}`);
  return { ms, stdout, stderr };
}

/** ffmpeg arguments of a bare transcode with the baselines' encoder settings (libx264 veryfast, CRF 23, audio copied). */
export function bareTranscodeArgs(input: string, output: string): string[] {
  return [
    '-v',
    'error',
    '-y',
    '-i',
    input,
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-crf',
    '23',
    '-c:a',
    'copy',
    output,
  ];
}

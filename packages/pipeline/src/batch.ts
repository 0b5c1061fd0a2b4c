import { type Stats, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { OUTPUT_CONTAINERS } from '@framecraft/io';
import { glob, isDynamicPattern } from 'tinyglobby';
import { PipelineError } from './errors.ts';

/** File extensions taken as videos when a folder or a glob is given (lower case, with the dot). */
export const VIDEO_EXTENSIONS: ReadonlySet<string> = new Set([
  '.mp4',
  '.m4v',
  '.mov',
  '.mkv',
  '.webm',
  '.avi',
  '.mts',
  '.m2ts',
  '.ts',
  '.mpg',
  '.mpeg',
  '.wmv',
  '.flv',
  '.3gp',
  '.ogv',
  '.mxf',
]);

/** One video of a batch and where its render goes. */
export interface BatchItem {
  /** Absolute input path. */
  readonly input: string;
  /** Absolute output path: `<outDir>/<subfolder>/<stem>-<style>.<ext>`. */
  readonly output: string;
}

/** Options of {@link planBatch}. */
export interface BatchOptions {
  /** Files, folders (their videos) and glob patterns (`clips/**\/*.mov`). */
  readonly inputs: readonly string[];
  /** Where the outputs go; created by the caller. */
  readonly outDir: string;
  /** The style, for the output names. */
  readonly style: string;
  /** Also take the videos in a folder's subfolders (their layout is kept under `outDir`). */
  readonly recursive?: boolean;
}

/** What {@link planBatch} found. */
export interface BatchPlan {
  readonly items: readonly BatchItem[];
  /** Arguments that name nothing: not a file, a folder or a glob that matches a video. */
  readonly missing: readonly string[];
}

/**
 * Whether a folder entry is a video a batch takes: a known video extension, and not a hidden file
 * (which includes the temporary `.name.partial-…` files renders write beside their outputs).
 *
 * @param name - The file name.
 * @returns True for a video.
 */
export function isBatchVideo(name: string): boolean {
  return !name.startsWith('.') && VIDEO_EXTENSIONS.has(extname(name).toLowerCase());
}

/**
 * The output a batch writes for an input: its stem and the style, in the input's container when
 * renders write it (.mp4, .m4v, .mov, .mkv), else .mp4; under `outDir`, in the input's subfolder
 * relative to `base` (the folder or glob root it was found in).
 *
 * @param input - Absolute input path.
 * @param base - The folder it was found in (its own folder for a file given by name).
 * @param outDir - Absolute output folder.
 * @param style - The style.
 * @returns The output path.
 */
export function batchOutput(input: string, base: string, outDir: string, style: string): string {
  const ext = extname(input);
  const out = ext.toLowerCase() in OUTPUT_CONTAINERS ? ext : '.mp4';
  const sub = relative(base, dirname(input));
  const folder = sub === '' || sub.startsWith('..') || isAbsolute(sub) ? outDir : join(outDir, sub);
  return join(folder, `${basename(input, ext)}-${style}${out}`);
}

/** The folder part of a glob before its first dynamic segment (`clips/2024/*.mp4` → `clips/2024`). */
function globBase(pattern: string): string {
  const parts = pattern.split(/[\\/]/);
  const fixed: string[] = [];
  for (const part of parts) {
    if (isDynamicPattern(part)) break;
    fixed.push(part);
  }
  return resolve(fixed.join(sep) || '.');
}

async function videosIn(folder: string, recursive: boolean): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await readdir(folder, { withFileTypes: true })).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const path = join(folder, entry.name);
    if (entry.isDirectory() && recursive && !entry.name.startsWith('.'))
      out.push(...(await videosIn(path, true)));
    else if (entry.isFile() && isBatchVideo(entry.name)) out.push(path);
  }
  return out;
}

/**
 * Expand a batch's arguments into videos and name their outputs: a file is taken as it is, a
 * folder gives the videos in it (and in its subfolders with `recursive`), a glob pattern the videos
 * it matches. Files under `outDir` are left out (a watched folder's own outputs), each input is
 * taken once, in the order given.
 *
 * @param options - Arguments, output folder, style.
 * @returns The items and the arguments that named nothing.
 * @throws {FramecraftError} `ERR_BATCH_OUTPUT_CLASH` when two inputs would write the same output.
 */
export async function planBatch(options: BatchOptions): Promise<BatchPlan> {
  const outDir = resolve(options.outDir);
  const found: { input: string; base: string }[] = [];
  const missing: string[] = [];
  for (const arg of options.inputs) {
    let st: Stats | undefined;
    try {
      st = statSync(arg);
    } catch {
      st = undefined;
    }
    if (st?.isDirectory()) {
      const dir = resolve(arg);
      for (const f of await videosIn(dir, options.recursive ?? false)) found.push({ input: f, base: dir });
    } else if (st !== undefined) found.push({ input: resolve(arg), base: dirname(resolve(arg)) });
    else if (isDynamicPattern(arg)) {
      const base = globBase(arg);
      const matches = (await glob([arg], { absolute: true, onlyFiles: true, dot: false }))
        .filter((f) => isBatchVideo(basename(f)))
        .sort();
      if (matches.length === 0) missing.push(arg);
      for (const f of matches) found.push({ input: f, base });
    } else missing.push(arg);
  }
  const seen = new Set<string>();
  const byOutput = new Map<string, string>();
  const items: BatchItem[] = [];
  for (const { input, base } of found) {
    if (seen.has(input) || input === outDir || input.startsWith(`${outDir}${sep}`)) continue;
    seen.add(input);
    const output = batchOutput(input, base, outDir, options.style);
    const other = byOutput.get(output);
    if (other !== undefined)
      throw new PipelineError(
        'ERR_BATCH_OUTPUT_CLASH',
        `${other} and ${input} would both be rendered to ${output}; give them separate --out-dir folders (or rename one).`,
      );
    byOutput.set(output, input);
    items.push({ input, output });
  }
  return { items, missing };
}

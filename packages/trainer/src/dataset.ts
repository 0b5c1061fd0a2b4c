import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { createFrame } from '@framecraft/core';
import { SceneCutDetector } from '@framecraft/temporal';
import sharp from 'sharp';
import { TrainerError } from './errors.ts';

/** One input/target pair of images on disk. */
export interface TrainingPair {
  /** Unique within a dataset; file-name safe. */
  readonly id: string;
  readonly input: string;
  readonly target: string;
  /** Frames of one shot share this; the split never puts one shot on both sides. */
  readonly shot: string;
  /** Position within the shot (frame index or name order): consecutive pairs feed the temporal term. */
  readonly order: number;
}

/** A split dataset. */
export interface SplitPairs {
  readonly train: readonly TrainingPair[];
  readonly validation: readonly TrainingPair[];
  /** Why there is no validation side, when there is none. */
  readonly warning: string | null;
}

const IMAGE = new Set(['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff']);

async function imagesIn(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of (await readdir(dir)).sort()) {
    if (IMAGE.has(extname(name).toLowerCase())) out.set(basename(name, extname(name)), join(dir, name));
  }
  return out;
}

/**
 * Input/target pairs from a folder: `input/NAME.png` with `target/NAME.png` (PNG, JPEG, WebP or
 * TIFF; matched by name). Shots come from `shots.json` (`{ "NAME": "shot id" }`) when present,
 * else from a scene-cut detector run over the inputs in name order.
 *
 * @param dir - The folder.
 * @returns The pairs in name order.
 * @throws {FramecraftError} `ERR_DATASET` for a missing folder, an input without target (or the
 *   reverse), or no pairs at all.
 */
export async function pairsFromFolder(dir: string): Promise<TrainingPair[]> {
  const inDir = join(dir, 'input');
  const outDir = join(dir, 'target');
  for (const d of [inDir, outDir])
    if (!existsSync(d))
      throw new TrainerError(
        'ERR_DATASET',
        `${dir}: no ${basename(d)}/ folder (pairs are input/NAME.png + target/NAME.png)`,
      );
  const inputs = await imagesIn(inDir);
  const targets = await imagesIn(outDir);
  const orphans = [
    ...[...inputs.keys()].filter((n) => !targets.has(n)).map((n) => `input/${n} has no target`),
    ...[...targets.keys()].filter((n) => !inputs.has(n)).map((n) => `target/${n} has no input`),
  ];
  if (orphans.length > 0) throw new TrainerError('ERR_DATASET', `${dir}: ${orphans.slice(0, 5).join('; ')}`);
  if (inputs.size === 0)
    throw new TrainerError('ERR_DATASET', `${dir}: no image pairs in input/ and target/`);
  const names = [...inputs.keys()];
  const shotsFile = join(dir, 'shots.json');
  let shots: Record<string, string>;
  if (existsSync(shotsFile)) {
    try {
      shots = JSON.parse(await readFile(shotsFile, 'utf8')) as Record<string, string>;
    } catch (err) {
      throw new TrainerError('ERR_DATASET', `${shotsFile}: not valid JSON (${(err as Error).message})`);
    }
  } else
    shots = await detectShots(
      names.map((n) => inputs.get(n)!),
      names,
    );
  return names.map((name, order) => ({
    id: name.replace(/[^A-Za-z0-9._-]/g, '_'),
    input: inputs.get(name)!,
    target: targets.get(name)!,
    shot: shots[name] ?? name,
    order,
  }));
}

/** Shot ids for images in order: a new shot wherever the luma histogram jumps. */
async function detectShots(
  files: readonly string[],
  names: readonly string[],
): Promise<Record<string, string>> {
  const detector = SceneCutDetector.create({ minGap: 0 });
  const out: Record<string, string> = {};
  let shot = 0;
  for (let i = 0; i < files.length; i++) {
    const { data, info } = await sharp(files[i]!)
      .greyscale()
      .resize(160, 90, { fit: 'fill' })
      .raw()
      .toBuffer({ resolveWithObject: true })
      .catch((err: Error) => {
        throw new TrainerError('ERR_DATASET', `${files[i]}: not a readable image (${err.message})`, {
          cause: err,
        });
      });
    const frame = createFrame({ width: info.width, height: info.height, format: 'gray8' });
    (frame.planes[0]!.data as Uint8Array).set(data.subarray(0, info.width * info.height));
    if (detector.process(frame)) shot++;
    out[names[i]!] = `shot-${shot}`;
  }
  return out;
}

/** A small seeded generator (mulberry32) for the split. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Split pairs into training and validation by whole shots (seeded): validation gets shots until it
 * holds about `share` of the pairs, and training always keeps at least one shot. With a single
 * shot there is no honest validation set: everything trains and `warning` says so.
 *
 * @param pairs - The pairs.
 * @param options - Validation share (default 0.2) and seed.
 */
export function splitByShot(
  pairs: readonly TrainingPair[],
  options: { share?: number; seed?: number } = {},
): SplitPairs {
  const share = options.share ?? 0.2;
  const shots = [...new Set(pairs.map((p) => p.shot))];
  if (shots.length < 2)
    return {
      train: pairs,
      validation: [],
      warning: 'every pair comes from one shot: no validation set (it would share a shot with training)',
    };
  const rand = seeded(options.seed ?? 1);
  for (let i = shots.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [shots[i], shots[j]] = [shots[j]!, shots[i]!];
  }
  const held = new Set<string>();
  let count = 0;
  for (const s of shots) {
    if (held.size === shots.length - 1 || count >= share * pairs.length) break;
    held.add(s);
    count += pairs.filter((p) => p.shot === s).length;
  }
  return {
    train: pairs.filter((p) => !held.has(p.shot)),
    validation: pairs.filter((p) => held.has(p.shot)),
    warning: null,
  };
}

/** Options of {@link prepareDataset}. */
export interface PrepareOptions {
  /** Longest side of the stored images; larger pairs are scaled down (default 512). */
  readonly maxSide?: number;
}

/** What {@link prepareDataset} wrote. */
export interface PreparedDataset {
  readonly dir: string;
  readonly train: number;
  readonly validation: number;
}

/**
 * Write a split dataset for the training script: raw RGB24 files (decoded and scaled by sharp,
 * targets scaled to their input's size) and `index.json` with sizes, shots and each pair's
 * predecessor in the same shot and split (for the temporal term). Written to a temporary folder
 * and renamed into place.
 *
 * @param split - The split pairs.
 * @param dir - The dataset folder (replaced).
 * @param options - Size limit.
 * @throws {FramecraftError} `ERR_DATASET` naming an image sharp cannot read.
 */
export async function prepareDataset(
  split: SplitPairs,
  dir: string,
  options: PrepareOptions = {},
): Promise<PreparedDataset> {
  const maxSide = options.maxSide ?? 512;
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const index: Record<string, unknown>[] = [];
  for (const [side, pairs] of [
    ['train', split.train],
    ['validation', split.validation],
  ] as const) {
    const sorted = [...pairs].sort((a, b) =>
      a.shot === b.shot ? a.order - b.order : a.shot < b.shot ? -1 : 1,
    );
    let previous: TrainingPair | null = null;
    for (const p of sorted) {
      const input = await rgb(p.input, (img, w, h) => {
        const scale = Math.min(1, maxSide / Math.max(w, h));
        return img.resize(Math.max(4, Math.round(w * scale)), Math.max(4, Math.round(h * scale)), {
          fit: 'fill',
        });
      });
      const target = await rgb(p.target, (img) => img.resize(input.width, input.height, { fit: 'fill' }));
      await writeFile(join(tmp, `${p.id}.in.rgb`), input.data);
      await writeFile(join(tmp, `${p.id}.out.rgb`), target.data);
      const prev =
        previous !== null && previous.shot === p.shot && previous.order === p.order - 1 ? previous.id : null;
      index.push({
        id: p.id,
        split: side,
        width: input.width,
        height: input.height,
        input: `${p.id}.in.rgb`,
        target: `${p.id}.out.rgb`,
        shot: p.shot,
        prev,
      });
      previous = p;
    }
  }
  await writeFile(join(tmp, 'index.json'), `${JSON.stringify({ pairs: index }, null, 1)}\n`);
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  return { dir, train: split.train.length, validation: split.validation.length };
}

async function rgb(
  file: string,
  shape: (img: sharp.Sharp, w: number, h: number) => sharp.Sharp,
): Promise<{ data: Buffer; width: number; height: number }> {
  try {
    const img = sharp(file);
    const meta = await img.metadata();
    const { data, info } = await shape(
      img.removeAlpha().toColourspace('srgb'),
      meta.width ?? 0,
      meta.height ?? 0,
    )
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  } catch (err) {
    throw new TrainerError('ERR_DATASET', `${file}: not a readable image (${(err as Error).message})`, {
      cause: err,
    });
  }
}

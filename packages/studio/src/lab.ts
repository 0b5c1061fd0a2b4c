import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { rgbBytes } from '@framecraft/color';
import type { Frame } from '@framecraft/core';
import { VideoReader } from '@framecraft/io';
import type { ModelRegistry } from '@framecraft/ml';
import { resolveStyleModel } from '@framecraft/pipeline';
import {
  frameForStyle,
  loadStylizer,
  parseStylizerOptions,
  type StylizerPreset,
} from '@framecraft/stylizers';
import { LRUCache } from 'lru-cache';
import sharp from 'sharp';
import { StudioError } from './errors.ts';

/** One side of an A/B comparison. */
export interface LabSide {
  readonly style: string;
  readonly options?: Readonly<Record<string, unknown>> | undefined;
  readonly preset?: StylizerPreset | undefined;
}

/** A comparison rendered for the style lab. */
export interface LabComparison {
  readonly id: string;
  readonly input: string;
  /** The frame shown (display order). */
  readonly frameIndex: number;
  readonly time: number;
  readonly a: LabSide;
  readonly b: LabSide;
  /** PNG files: the original frame and both renderings. */
  readonly images: { readonly original: string; readonly a: string; readonly b: string };
}

/** Frames a stateful style sees before the one compared, as a render's pre-roll would give it. */
const WARM_FRAMES = 15;

async function png(frame: Frame, file: string): Promise<void> {
  await sharp(rgbBytes(frame), { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .png()
    .toFile(file);
}

/**
 * Render one frame of a clip with two settings (styles, options or presets) for an A/B look. Each
 * side's style sees the frames before it from up to 15 frames earlier, as in a render, so stateful
 * styles (cartoon, pencil's levels) look as they would in the video. Images go to `dir/<id>/`.
 *
 * @throws {FramecraftError} `ERR_LAB_TIME` for a time past the clip's end; style option errors.
 */
export async function compareSettings(o: {
  readonly input: string;
  readonly time: number;
  readonly a: LabSide;
  readonly b: LabSide;
  readonly dir: string;
  readonly seed?: number;
  /** Where models named in the options (the neural style's `model`) are found. */
  readonly registry: ModelRegistry;
}): Promise<LabComparison> {
  const id = `lab-${Date.now().toString(36)}-${randomUUID().slice(0, 6)}`;
  const out = join(o.dir, id);
  await mkdir(out, { recursive: true });
  await using reader = await VideoReader.open(o.input);
  const { width, height } = reader.stream;
  const times = (await reader.frameTimestamps()).map(
    (t) => (t * reader.stream.timeBase.num) / reader.stream.timeBase.den,
  );
  let target = times.findIndex((t) => t >= o.time - 1e-6);
  if (target < 0) {
    if (times.length === 0 || o.time > times.at(-1)! + 1)
      throw new StudioError(
        'ERR_LAB_TIME',
        `${o.input}: no frame at ${o.time} s (the clip ends at ${times.at(-1) ?? 0} s)`,
      );
    target = times.length - 1;
  }
  const sides = [];
  for (const side of [o.a, o.b]) {
    const style = await loadStylizer(side.style);
    const parsed = parseStylizerOptions(style, side.options ?? {}, side.preset) as Record<string, unknown>;
    const options = await resolveStyleModel(style, parsed, o.registry);
    sides.push({
      style,
      instance: await style.create(options, { width, height, seed: o.seed ?? 1 }),
    });
  }
  const first = Math.max(0, target - WARM_FRAMES);
  let index = first;
  const results: Frame[] = [];
  try {
    for await (const frame of reader.frames({
      format: 'yuv420p',
      start: { frame: first },
      end: { frame: target + 1 },
      copy: true,
    })) {
      for (let s = 0; s < sides.length; s++) {
        const { style, instance } = sides[s]!;
        const input = frameForStyle(frame, style.inputFormat);
        const styled = await instance.process(input);
        if (index === target) results[s] = styled;
      }
      if (index === target) await png(frame, join(out, 'original.png'));
      index++;
    }
  } finally {
    for (const s of sides) s.instance.dispose();
  }
  if (results.length !== 2)
    throw new StudioError('ERR_LAB_TIME', `${o.input}: frame ${target} could not be decoded`);
  await png(results[0]!, join(out, 'a.png'));
  await png(results[1]!, join(out, 'b.png'));
  return {
    id,
    input: o.input,
    frameIndex: target,
    time: times[target]!,
    a: o.a,
    b: o.b,
    images: { original: join(out, 'original.png'), a: join(out, 'a.png'), b: join(out, 'b.png') },
  };
}

/**
 * The comparisons a judgement can still refer to: the most recent `capacity` (32 by default), the
 * least recently used dropped first with its images (a judgement copies the images it keeps into
 * the feedback log), so a studio left open for weeks holds a bounded number of them.
 */
export class LabComparisons {
  readonly #cache: LRUCache<string, LabComparison>;

  /** @param capacity - Comparisons kept. */
  constructor(capacity = 32) {
    this.#cache = new LRUCache({
      max: capacity,
      dispose: (cmp) => {
        void rm(dirname(cmp.images.original), { recursive: true, force: true });
      },
    });
  }

  /** Keep a new comparison (dropping the oldest when full). */
  add(cmp: LabComparison): void {
    this.#cache.set(cmp.id, cmp);
  }

  /**
   * @throws {StudioError} `ERR_LAB_NOT_FOUND` for an unknown (or dropped) comparison.
   */
  get(id: string): LabComparison {
    const cmp = this.#cache.get(id);
    if (cmp === undefined) throw new StudioError('ERR_LAB_NOT_FOUND', `no comparison ${id}`);
    return cmp;
  }

  /** Comparisons kept now. */
  get size(): number {
    return this.#cache.size;
  }
}

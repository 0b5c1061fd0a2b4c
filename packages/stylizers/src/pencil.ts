import { type Frame, withTimingOf } from '@framecraft/core';
import { VideoFilter } from '@framecraft/io';
import * as v from 'valibot';
import { createRandom } from './random.ts';
import { kernelInstance, type Stylizer, type StylizerInstance } from './stylizer.ts';

/** Options of the pencil style, with defaults filled in. */
export interface PencilOptions {
  readonly sigma: number;
  readonly paper: 'none' | 'procedural';
  readonly paperStrength: number;
  readonly contrast: number;
}

/** Options as given (every field optional). */
export type PencilOptionsInput = { readonly [K in keyof PencilOptions]?: PencilOptions[K] | undefined };

const options: v.GenericSchema<PencilOptionsInput, PencilOptions> = v.object({
  /** Blur of the inverted luma, in pixels at 1080 lines (scaled with the frame height); 10 by default. */
  sigma: v.optional(v.pipe(v.number(), v.minValue(0.5), v.maxValue(60)), 10),
  /** Paper grain: `none` or `procedural` (seeded, fixed over the whole video so it never crawls). */
  paper: v.optional(v.picklist(['none', 'procedural']), 'procedural'),
  /** Strength of the paper grain, 0–1; 0.12 by default. */
  paperStrength: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1)), 0.12),
  /** Darkening of the strokes, 1 = the classic dodge, above 1 = heavier lines; 2 by default. */
  contrast: v.optional(v.pipe(v.number(), v.minValue(0.5), v.maxValue(4)), 2),
});

/**
 * Colour-dodge table: output for (gray, blurred inverted gray), 256 × 256 entries, so the blend is
 * one lookup per pixel. gray · 256 / (255 − blur), saturating at 255 (OpenCV's divide), then the
 * contrast curve darkens strokes.
 */
function dodgeTable(contrast: number): Uint8Array {
  const t = new Uint8Array(65536);
  for (let g = 0; g < 256; g++) {
    for (let b = 0; b < 256; b++) {
      const den = 255 - b;
      const dodge = den === 0 ? 255 : Math.min(255, Math.round((g * 256) / den));
      t[(g << 8) | b] = Math.round(255 * (dodge / 255) ** contrast);
    }
  }
  return t;
}

/** Seeded value noise in [1 − strength, 1] × 256, smooth at two scales: paper fibre and tooth. */
function paperTexture(width: number, height: number, seed: number, strength: number): Uint16Array {
  const rng = createRandom(seed).fork(0x70617065);
  const tex = new Uint16Array(width * height);
  const cell = 6;
  const gw = Math.ceil(width / cell) + 2;
  const gh = Math.ceil(height / cell) + 2;
  const grid = new Float32Array(gw * gh);
  for (let i = 0; i < grid.length; i++) grid[i] = rng.next();
  for (let y = 0; y < height; y++) {
    const gy = y / cell;
    const y0 = gy | 0;
    const fy = gy - y0;
    for (let x = 0; x < width; x++) {
      const gx = x / cell;
      const x0 = gx | 0;
      const fx = gx - x0;
      const a = grid[y0 * gw + x0]! + (grid[y0 * gw + x0 + 1]! - grid[y0 * gw + x0]!) * fx;
      const b = grid[(y0 + 1) * gw + x0]! + (grid[(y0 + 1) * gw + x0 + 1]! - grid[(y0 + 1) * gw + x0]!) * fx;
      const smooth = a + (b - a) * fy;
      const tooth = rng.next();
      const n = 0.85 * smooth + 0.15 * tooth;
      tex[y * width + x] = Math.round((1 - strength * n) * 256);
    }
  }
  return tex;
}

/**
 * Pencil sketch on luma: invert, Gaussian blur (FFmpeg's gblur in-process), colour dodge through a
 * lookup table, and a seeded paper grain that stays put from frame to frame.
 */
export const pencil: Stylizer<typeof options> = {
  name: 'pencil',
  description: 'Pencil sketch: luma, inverted and blurred, colour-dodged, on seeded paper grain.',
  options,
  inputFormat: 'gray8',
  presets: {
    speed: { sigma: 8, paper: 'none' },
    balanced: {},
    quality: { sigma: 12, paperStrength: 0.1 },
  },
  async create(o, context): Promise<StylizerInstance> {
    const { width, height, seed } = context;
    const sigma = (o.sigma * height) / 1080;
    const blur = await VideoFilter.create(`negate,gblur=sigma=${sigma.toFixed(3)}:steps=2,format=gray`);
    const table = dodgeTable(o.contrast);
    const paper =
      o.paper === 'procedural' && o.paperStrength > 0
        ? paperTexture(width, height, seed, o.paperStrength)
        : null;
    const run = (frame: Frame, out: Frame): Frame => {
      const [blurred] = blur.process(frame);
      const src = frame.planes[0]!;
      const bp = blurred!.planes[0]!;
      const dst = out.planes[0]!;
      const s = src.data as Uint8Array;
      const b = bp.data as Uint8Array;
      const d = dst.data as Uint8Array;
      for (let y = 0; y < height; y++) {
        const si = y * src.stride;
        const bi = y * bp.stride;
        const di = y * dst.stride;
        const pi = y * width;
        if (paper === null) {
          for (let x = 0; x < width; x++) d[di + x] = table[(s[si + x]! << 8) | b[bi + x]!]!;
        } else {
          for (let x = 0; x < width; x++)
            d[di + x] = (table[(s[si + x]! << 8) | b[bi + x]!]! * paper[pi + x]!) >> 8;
        }
      }
      return withTimingOf({ ...out, color: { ...frame.color, range: 'full' } }, frame);
    };
    return kernelInstance({
      name: 'pencil',
      width,
      height,
      inputFormat: 'gray8',
      outputFormat: 'gray8',
      run,
      close: () => {
        blur.close();
      },
    });
  },
};

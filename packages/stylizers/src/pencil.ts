import { createFrame, type Frame, FramecraftError, padFrame, withTimingOf } from '@framecraft/core';
import { VideoFilter } from '@framecraft/io';
import { histogramStep } from '@framecraft/temporal';
import * as v from 'valibot';
import { DodgeBlender } from './dodge.ts';
import type { StylizersErrorCode } from './errors.ts';
import { createRandom } from './random.ts';
import { kernelInstance, type Stylizer, type StylizerContext, type StylizerInstance } from './stylizer.ts';

/** Options of the pencil style, with defaults filled in. */
export interface PencilOptions {
  readonly sigma: number;
  readonly paper: 'none' | 'procedural' | 'image';
  readonly paperImage?: string | undefined;
  readonly paperStrength: number;
  readonly contrast: number;
  readonly levels: 'auto' | 'none';
  readonly noiseFloor: number;
}

/** Options as given (every field optional). */
export type PencilOptionsInput = { readonly [K in keyof PencilOptions]?: PencilOptions[K] | undefined };

/** Options of the colour-pencil style: the pencil's plus the strength of the colour wash. */
export interface ColorPencilOptions extends PencilOptions {
  readonly saturation: number;
}

/** Colour-pencil options as given (every field optional). */
export type ColorPencilOptionsInput = {
  readonly [K in keyof ColorPencilOptions]?: ColorPencilOptions[K] | undefined;
};

const pencilEntries = {
  /** Blur of the inverted luma, in pixels at 1080 lines (scaled with the frame height); 10 by default. */
  sigma: v.optional(v.pipe(v.number(), v.minValue(0.5), v.maxValue(60)), 10),
  /**
   * Paper: `none`, `procedural` (seeded grain, fixed over the whole video so it never crawls) or
   * `image` (the picture at `paperImage`, read through sharp, greyscale, scaled to cover the frame).
   */
  paper: v.optional(v.picklist(['none', 'procedural', 'image']), 'procedural'),
  /** A paper scan (PNG, JPEG, WebP, TIFF…) for `paper: 'image'`. */
  paperImage: v.optional(v.pipe(v.string(), v.minLength(1))),
  /** How strongly the paper shows (a multiply blend), 0–1; 0.12 by default. */
  paperStrength: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1)), 0.12),
  /** Darkening of the strokes, 1 = the classic dodge, above 1 = heavier lines; 2 by default. */
  contrast: v.optional(v.pipe(v.number(), v.minValue(0.5), v.maxValue(4)), 2),
  /**
   * `auto` (default): stretch flat, low-contrast luma to the full range before sketching, with
   * levels that follow the footage slowly (no pumping) and snap at shot changes; `none`: as is.
   */
  levels: v.optional(v.picklist(['auto', 'none']), 'auto'),
  /**
   * Differences from the local mean up to this many code values count as noise, not strokes
   * (the dodge would magnify them into speckle that crawls in dark areas); 0 turns it off.
   * Costs nothing per pixel: it is folded into the dodge table. 4 by default.
   */
  noiseFloor: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(32)), 4),
};

const needsImage = (o: { paper: string; paperImage?: string | undefined }): boolean =>
  o.paper !== 'image' || o.paperImage !== undefined;
const IMAGE_MESSAGE = "paper 'image' needs paperImage (a path)";

const options: v.GenericSchema<PencilOptionsInput, PencilOptions> = v.pipe(
  v.object(pencilEntries),
  v.forward(v.partialCheck([['paper'], ['paperImage']], needsImage, IMAGE_MESSAGE), ['paperImage']),
);

const colorOptions: v.GenericSchema<ColorPencilOptionsInput, ColorPencilOptions> = v.pipe(
  v.object({
    ...pencilEntries,
    /** Colour strength: 0 = grey sketch, 1 = the footage's own saturation, up to 2; 0.8 by default. */
    saturation: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(2)), 0.8),
  }),
  v.forward(v.partialCheck([['paper'], ['paperImage']], needsImage, IMAGE_MESSAGE), ['paperImage']),
);

/** Raised when a paper image cannot be read. */
export class PaperImageError extends FramecraftError<StylizersErrorCode> {
  /** The image path. */
  readonly file: string;

  /**
   * @param file - The image path.
   * @param reason - What is wrong.
   * @param cause - The underlying error.
   */
  constructor(file: string, reason: string, cause?: unknown) {
    super('ERR_PAPER_IMAGE', `Paper image "${file}": ${reason}`, { cause });
    this.name = 'PaperImageError';
    this.file = file;
  }
}

/** The contrast curve: a dodge value (0–255) → the output, darkening strokes for `contrast` > 1. */
function contrastCurve(contrast: number): Uint8Array {
  const c = new Uint8Array(256);
  for (let v = 0; v < 256; v++) c[v] = Math.round(255 * (v / 255) ** contrast);
  return c;
}

/**
 * Colour-dodge table: output for (gray, blurred inverted gray), 256 × 256 entries, so the blend is
 * one lookup per pixel. gray · 256 / (255 − blur), saturating at 255 (OpenCV's divide), then the
 * contrast curve darkens strokes. The dodge divides by the local mean, so in dark areas it
 * multiplies the footage's noise (a mean of 30 turns ±3 of sensor or codec noise into ±26 of
 * speckle that crawls from frame to frame); `floor` code values of difference from the local
 * mean are dropped first (a soft threshold), which keeps every stroke darker than that.
 *
 * With `map` (the levels stretch), entry (g, b) is the dodge of (map[g], 255 − map[255 − b]): the
 * blur is linear, so the blurred stretched picture is the stretched blurred one (up to the 1 %
 * clipped tails), and the stretch costs nothing per pixel. `floor` is then in stretched code
 * values: the caller scales it by the stretch's gain, since the stretch magnifies noise as much.
 */
function fillDodgeTable(
  t: Uint8Array,
  curve: Uint8Array,
  floor: number,
  map: Uint8Array | null = null,
): Uint8Array {
  for (let g = 0; g < 256; g++) {
    const gs = map === null ? g : map[g]!;
    for (let b = 0; b < 256; b++) {
      const mean = map === null ? 255 - b : map[255 - b]!;
      const d = gs - mean;
      const cored = d > floor ? gs - floor : d < -floor ? gs + floor : mean;
      const dodge = mean === 0 ? 255 : Math.min(255, Math.round((cored * 256) / mean));
      t[(g << 8) | b] = curve[dodge]!;
    }
  }
  return t;
}

/**
 * Paper: seeded value noise in [1 − strength, 1] × 256 at the sizes paper shows (in pixels at 1080
 * lines, scaled with the frame): a faint unevenness of the sheet, the fibre's mottling, and the
 * tooth, a fine grain. Weighted towards the large scales: paper reads as a surface, not as noise,
 * and a texture the encoder would have to code block by block wherever strokes move costs bits
 * (the earlier texture, one 6-pixel scale plus per-pixel grain, took 22 % of a 1080p sketch's size).
 */
const PAPER_OCTAVES: ReadonlyArray<{ readonly cell: number; readonly weight: number }> = [
  { cell: 96, weight: 0.25 },
  { cell: 24, weight: 0.25 },
  { cell: 6, weight: 0.3 },
];
/** Weight of the per-pixel tooth. */
const PAPER_TOOTH = 0.2;

/** One size of smooth value noise (random values on a grid, smoothstep between), added into `acc`. */
function addOctave(
  acc: Float32Array,
  width: number,
  height: number,
  cell: number,
  weight: number,
  rng: ReturnType<typeof createRandom>,
): void {
  const gw = Math.ceil(width / cell) + 2;
  const gh = Math.ceil(height / cell) + 2;
  const grid = new Float32Array(gw * gh);
  for (let i = 0; i < grid.length; i++) grid[i] = rng.next() * weight;
  const smooth = (f: number): number => f * f * (3 - 2 * f);
  // Separable: each grid row across the width, then each pixel row between two of those.
  const x0 = new Int32Array(width);
  const fx = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const g = x / cell;
    x0[x] = g | 0;
    fx[x] = smooth(g - (g | 0));
  }
  const rows: Float32Array[] = [];
  for (let j = 0; j < gh; j++) {
    const r = new Float32Array(width);
    const o = j * gw;
    for (let x = 0; x < width; x++) {
      const a = grid[o + x0[x]!]!;
      r[x] = a + (grid[o + x0[x]! + 1]! - a) * fx[x]!;
    }
    rows.push(r);
  }
  for (let y = 0; y < height; y++) {
    const g = y / cell;
    const j = g | 0;
    const f = smooth(g - j);
    const a = rows[j]!;
    const b = rows[j + 1]!;
    for (let x = 0, i = y * width; x < width; x++, i++) acc[i]! += a[x]! + (b[x]! - a[x]!) * f;
  }
}

/** The last paper made in this thread: every chunk of a render asks for the same one. */
let lastPaper: { key: string; tex: Uint16Array } | null = null;

function paperTexture(width: number, height: number, seed: number, strength: number): Uint16Array {
  const key = `${width}x${height}:${seed}:${strength}`;
  if (lastPaper?.key === key) return lastPaper.tex;
  const rng = createRandom(seed).fork(0x70617065);
  const acc = new Float32Array(width * height);
  const scale = height / 1080;
  for (const { cell, weight } of PAPER_OCTAVES)
    addOctave(acc, width, height, Math.max(1.5, cell * scale), weight, rng);
  // The tooth: a hash of the pixel's place and the seed (the same grain wherever it is computed).
  const salt = rng.nextUint32();
  const tex = new Uint16Array(width * height);
  const unit = PAPER_TOOTH / 4294967296;
  for (let i = 0; i < tex.length; i++) {
    let h = Math.imul(i ^ salt, 0x9e3779b1);
    h = Math.imul(h ^ (h >>> 15), 0x85ebca77);
    h ^= h >>> 13;
    const n = acc[i]! + (h >>> 0) * unit;
    tex[i] = Math.round((1 - strength * n) * 256);
  }
  lastPaper = { key, tex };
  return tex;
}

/**
 * A paper scan as a multiplier in [1 − strength, 1] × 256: greyscale, scaled to cover the frame,
 * its 99th-percentile brightness taken as bare paper so a grey scan still reads as white paper.
 */
async function paperFromImage(
  file: string,
  width: number,
  height: number,
  strength: number,
): Promise<Uint16Array> {
  let sharp: typeof import('sharp');
  try {
    sharp = (await import('sharp')).default;
  } catch (err) {
    throw new PaperImageError(file, 'sharp (the image reader) could not be loaded; install sharp', err);
  }
  let data: Buffer;
  try {
    data = await sharp(file)
      .greyscale()
      .resize(width, height, { fit: 'cover' })
      .extractChannel(0)
      .raw()
      .toBuffer();
  } catch (err) {
    const reason =
      (err as NodeJS.ErrnoException).code === 'ENOENT' || /missing|no such file/i.test(String(err))
        ? 'file not found'
        : `not a readable image (${(err as Error).message})`;
    throw new PaperImageError(file, reason, err);
  }
  const hist = new Uint32Array(256);
  for (let i = 0; i < data.length; i++) hist[data[i]!]!++;
  let white = 255;
  for (let acc = 0, v = 0; v < 256; v++) {
    acc += hist[v]!;
    if (acc >= data.length * 0.99) {
      white = Math.max(1, v);
      break;
    }
  }
  const tex = new Uint16Array(width * height);
  for (let i = 0; i < tex.length; i++) {
    const m = Math.min(1, data[i]! / white);
    tex[i] = Math.round((1 - strength * (1 - m)) * 256);
  }
  return tex;
}

/**
 * Luma ranges (1st to 99th percentile) up to this share of the footage's nominal scale (16–235 in
 * limited-range video, 0–255 in full range) are stretched in full; from {@link LEVELS_UNTOUCHED}
 * up not at all; in between, part way. A normally exposed shot spans well over two thirds of its
 * scale. The dodge divides by the local mean, so moving the black point down to 0 magnifies the
 * noise in the shadows (at a mean of 30 with the black point moved from 16 to 22, 1.75× more than
 * the plain sketch), which on such footage costs more than the stretch gives: flower at 1080p
 * (Y 22–179 of 16–235, 72 %) stretched fully took 3.8 MB with shadows that crawl, as is 1.7 MB.
 * Fog, haze and underexposed footage sit well under the threshold.
 */
const LEVELS_FULL = 7 / 16;
const LEVELS_UNTOUCHED = 11 / 16;

/**
 * Levels that follow the footage without pumping: the 1st and 99th luma percentiles, jumping
 * there on the first frame and when they move a lot (a new shot), otherwise creeping towards them
 * in whole code values and holding still within ±2, so a static shot gives identical frames.
 * Only flat footage is stretched (see {@link LEVELS_FULL}).
 */
class AutoLevels {
  #lo = -1;
  #hi = -1;
  readonly #hist = new Uint32Array(256);
  readonly table = new Uint8Array(256);
  /** True when the levels leave the picture as it is (range already wide). */
  identity = true;
  /** The stretch's slope: how much it magnifies differences (and noise); 1 when identity. */
  gain = 1;

  /**
   * @param span - The footage's nominal scale: 255 for full range, 219 for limited (video's
   *   default, and what an untagged Y plane is taken to be).
   * @returns True when the levels (and so the table) changed.
   */
  update(data: Uint8Array, stride: number, width: number, height: number, span: number): boolean {
    const h = this.#hist;
    h.fill(0);
    const step = histogramStep(width, height);
    let n = 0;
    for (let y = 0; y < height; y += step) {
      for (let x = 0, i = y * stride; x < width; x += step, i += step) h[data[i]!]!++;
      n += Math.ceil(width / step);
    }
    let lo = 0;
    let hi = 255;
    for (let acc = 0, v = 0; v < 256; v++) {
      acc += h[v]!;
      if (acc > n * 0.01) {
        lo = v;
        break;
      }
    }
    for (let acc = 0, v = 255; v >= 0; v--) {
      acc += h[v]!;
      if (acc > n * 0.01) {
        hi = v;
        break;
      }
    }
    const before = [this.#lo, this.#hi];
    if (this.#lo < 0 || Math.abs(lo - this.#lo) > 48 || Math.abs(hi - this.#hi) > 48) {
      this.#lo = lo;
      this.#hi = hi;
    } else {
      this.#lo = creep(this.#lo, lo);
      this.#hi = creep(this.#hi, hi);
    }
    if (before[0] === this.#lo && before[1] === this.#hi) return false;
    // Stretch at most 3× (noise stays noise), only flat footage, fading out as the range widens.
    let a = this.#lo;
    let b = this.#hi;
    const share = (b - a) / span;
    const w = Math.min(1, Math.max(0, (LEVELS_UNTOUCHED - share) / (LEVELS_UNTOUCHED - LEVELS_FULL)));
    if (b - a < 85) {
      const mid = (a + b) / 2;
      a = mid - 42.5;
      b = mid + 42.5;
    }
    this.identity = w === 0 || (a <= 4 && b >= 251);
    this.gain = this.identity ? 1 : 1 + w * (255 / (b - a) - 1);
    for (let v = 0; v < 256; v++) {
      const s = Math.round(v + w * (((v - a) * 255) / (b - a) - v));
      this.table[v] = s < 0 ? 0 : s > 255 ? 255 : s;
    }
    return true;
  }
}

/** Move `from` towards `to`: nothing within ±2, else 15 % of the gap, at least one code value. */
function creep(from: number, to: number): number {
  const d = to - from;
  if (Math.abs(d) <= 2) return from;
  return from + Math.sign(d) * Math.max(1, Math.round(Math.abs(d) * 0.15));
}

/** The grey sketch both pencil styles draw, on a luma plane. */
interface Sketcher {
  /** Sketch `luma` (a gray8 frame or a gray8 view of a Y plane) into `out`'s first plane. */
  draw(luma: Frame, out: Frame): void;
  close(): void;
}

/** The paper scan, when the options use one, read as `create` reads it (at a token size). */
async function checkPaper(o: PencilOptions): Promise<void> {
  if (o.paperStrength > 0 && o.paper === 'image' && o.paperImage !== undefined)
    await paperFromImage(o.paperImage, 16, 16, o.paperStrength);
}

/**
 * Smallest side FFmpeg's gblur is given: on frames one pixel wide (1x1, 1x3) it corrupted the heap
 * and the process aborted; smaller frames are blurred as an edge-repeated copy of this size.
 */
const MIN_BLUR_SIDE = 16;

async function createSketcher(o: PencilOptions, context: StylizerContext): Promise<Sketcher> {
  const { width, height, seed } = context;
  const sigma = (o.sigma * height) / 1080;
  const blur = await VideoFilter.create(`negate,gblur=sigma=${sigma.toFixed(3)}:steps=2,format=gray`);
  const padded =
    width < MIN_BLUR_SIDE || height < MIN_BLUR_SIDE
      ? createFrame({
          width: Math.max(width, MIN_BLUR_SIDE),
          height: Math.max(height, MIN_BLUR_SIDE),
          format: 'gray8',
        })
      : null;
  const curve = contrastCurve(o.contrast);
  const table = fillDodgeTable(new Uint8Array(65536), curve, o.noiseFloor);
  let paper: Uint16Array | null = null;
  if (o.paperStrength > 0 && o.paper === 'procedural')
    paper = paperTexture(width, height, seed, o.paperStrength);
  if (o.paperStrength > 0 && o.paper === 'image' && o.paperImage !== undefined) {
    try {
      paper = await paperFromImage(o.paperImage, width, height, o.paperStrength);
    } catch (err) {
      blur.close();
      throw err;
    }
  }
  const levels = o.levels === 'auto' ? new AutoLevels() : null;
  // The stretch is folded into the dodge table instead of rewriting every pixel, with the noise
  // floor in the footage's code values (the stretch magnifies its noise by its gain).
  const folded = levels ? new Uint8Array(65536) : null;
  const blender = new DodgeBlender(width, height);
  blender.setPaper(paper);
  blender.setTable(table);
  return {
    draw(luma, out) {
      const src: Frame = luma;
      if (levels !== null && folded !== null) {
        const p = luma.planes[0]!;
        const span = luma.color.range === 'full' ? 255 : 219;
        if (levels.update(p.data as Uint8Array, p.stride, width, height, span)) {
          if (levels.identity) blender.setTable(table);
          else blender.setTable(fillDodgeTable(folded, curve, o.noiseFloor * levels.gain, levels.table));
        }
      }
      // The blend reads the blurred plane's top-left width x height through its stride.
      const [blurred] = blur.process(padded === null ? src : padFrame(src, padded));
      blender.blend(src.planes[0]!, blurred!.planes[0]!, out.planes[0]!);
    },
    close: () => blur.close(),
  };
}

/**
 * Pencil sketch on luma: optional auto levels, invert, Gaussian blur (FFmpeg's gblur in-process),
 * colour dodge through a lookup table, and paper (seeded grain or a scan) that stays put.
 */
export const pencil: Stylizer<typeof options> = {
  name: 'pencil',
  // 2: auto levels only for flat footage, noise floor in footage code values, paper at three sizes.
  version: 2,
  description:
    'Pencil sketch: luma, inverted and blurred, colour-dodged, on seeded paper grain or a paper scan.',
  options,
  inputFormat: 'gray8',
  presets: {
    speed: { sigma: 8, paper: 'none' },
    balanced: {},
    quality: { sigma: 12, paperStrength: 0.1 },
  },
  check: (o) => checkPaper(o),
  async create(o, context): Promise<StylizerInstance> {
    const sketcher = await createSketcher(o, context);
    return kernelInstance({
      name: 'pencil',
      // Auto levels follow the footage; without them each sketch depends on its frame alone.
      stateful: o.levels === 'auto',
      width: context.width,
      height: context.height,
      inputFormat: 'gray8',
      outputFormat: 'gray8',
      run: (frame, out) => {
        sketcher.draw(frame, out);
        return withTimingOf({ ...out, color: { ...frame.color, range: 'full' } }, frame);
      },
      close: () => sketcher.close(),
    });
  },
};

/**
 * Colour pencil: the pencil sketch as luma under the footage's own colours (in YUV: the sketch
 * replaces Y, chroma is kept and scaled by `saturation`), so strokes and paper carry a colour
 * wash. Reads and writes yuv420p: no RGB conversion anywhere.
 */
export const colorPencil: Stylizer<typeof colorOptions> = {
  name: 'color-pencil',
  version: 2,
  description: 'Colour pencil: the pencil sketch as luma under the footage’s own colours.',
  options: colorOptions,
  inputFormat: 'yuv420p',
  presets: {
    speed: { sigma: 8, paper: 'none' },
    balanced: {},
    quality: { sigma: 12, paperStrength: 0.1, saturation: 0.9 },
  },
  check: (o) => checkPaper(o),
  async create(o, context): Promise<StylizerInstance> {
    const sketcher = await createSketcher(o, context);
    const { width, height } = context;
    const chroma = new Uint8Array(256);
    let chromaFor: string | null = null;
    return kernelInstance({
      name: 'color-pencil',
      stateful: o.levels === 'auto',
      width,
      height,
      inputFormat: 'yuv420p',
      outputFormat: 'yuv420p',
      run: (frame, out) => {
        sketcher.draw({ ...frame, format: 'gray8', planes: [frame.planes[0]!] }, out);
        // The sketch is full-range luma: limited-range chroma is widened to match (255 / 224).
        const limited = frame.color.range !== 'full';
        const key = limited ? 'limited' : 'full';
        if (chromaFor !== key) {
          const k = o.saturation * (limited ? 255 / 224 : 1);
          for (let c = 0; c < 256; c++)
            chroma[c] = Math.max(0, Math.min(255, Math.round(128 + (c - 128) * k)));
          chromaFor = key;
        }
        const cw = (width + 1) >> 1;
        const ch = (height + 1) >> 1;
        for (let p = 1; p < 3; p++) {
          const sp = frame.planes[p]!;
          const dp = out.planes[p]!;
          const s = sp.data as Uint8Array;
          const d = dp.data as Uint8Array;
          for (let y = 0; y < ch; y++) {
            const si = y * sp.stride;
            const di = y * dp.stride;
            for (let x = 0; x < cw; x++) d[di + x] = chroma[s[si + x]!]!;
          }
        }
        return withTimingOf({ ...out, color: { ...frame.color, range: 'full' } }, frame);
      },
      close: () => sketcher.close(),
    });
  },
};

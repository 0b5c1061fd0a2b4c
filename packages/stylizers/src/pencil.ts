import { type Frame, FramecraftError, withTimingOf } from '@framecraft/core';
import { VideoFilter } from '@framecraft/io';
import { histogramStep } from '@framecraft/temporal';
import * as v from 'valibot';
import { DodgeBlender } from './dodge.ts';
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
export class PaperImageError extends FramecraftError {
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

/**
 * Colour-dodge table: output for (gray, blurred inverted gray), 256 × 256 entries, so the blend is
 * one lookup per pixel. gray · 256 / (255 − blur), saturating at 255 (OpenCV's divide), then the
 * contrast curve darkens strokes. The dodge divides by the local mean, so in dark areas it
 * multiplies the footage's noise (a mean of 30 turns ±3 of sensor or codec noise into ±26 of
 * speckle that crawls from frame to frame); `noiseFloor` code values of difference from the local
 * mean are dropped first (a soft threshold), which keeps every stroke darker than that.
 */
function dodgeTable(contrast: number, noiseFloor: number): Uint8Array {
  const t = new Uint8Array(65536);
  for (let g = 0; g < 256; g++) {
    for (let b = 0; b < 256; b++) {
      const mean = 255 - b;
      const d = g - mean;
      const cored = mean + Math.sign(d) * Math.max(0, Math.abs(d) - noiseFloor);
      const den = 255 - b;
      const dodge = den === 0 ? 255 : Math.min(255, Math.round((cored * 256) / den));
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
 * Levels that follow the footage without pumping: the 1st and 99th luma percentiles, jumping
 * there on the first frame and when they move a lot (a new shot), otherwise creeping towards them
 * in whole code values and holding still within ±2, so a static shot gives identical frames.
 */
class AutoLevels {
  #lo = -1;
  #hi = -1;
  readonly #hist = new Uint32Array(256);
  readonly table = new Uint8Array(256);
  /** True when the levels leave the picture as it is (range already wide). */
  identity = true;

  /** @returns True when the levels (and so the table) changed. */
  update(data: Uint8Array, stride: number, width: number, height: number): boolean {
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
    // Stretch at most 3× (noise stays noise) and never compress a wide range.
    let a = this.#lo;
    let b = this.#hi;
    if (b - a < 85) {
      const mid = (a + b) / 2;
      a = mid - 42.5;
      b = mid + 42.5;
    }
    this.identity = a <= 4 && b >= 251;
    for (let v = 0; v < 256; v++) {
      const s = Math.round(((v - a) * 255) / (b - a));
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

async function createSketcher(o: PencilOptions, context: StylizerContext): Promise<Sketcher> {
  const { width, height, seed } = context;
  const sigma = (o.sigma * height) / 1080;
  const blur = await VideoFilter.create(`negate,gblur=sigma=${sigma.toFixed(3)}:steps=2,format=gray`);
  const table = dodgeTable(o.contrast, o.noiseFloor);
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
  // The stretch is folded into the dodge table instead of rewriting every pixel: the blur is linear,
  // so the blurred stretched picture is the stretched blurred one (up to the 1 % clipped tails):
  // entry (g, b) of the folded table is the dodge of (t[g], 255 − t[255 − b]).
  const folded = levels ? new Uint8Array(65536) : null;
  const blender = new DodgeBlender(width, height);
  blender.setPaper(paper);
  blender.setTable(table);
  return {
    draw(luma, out) {
      const src: Frame = luma;
      if (levels !== null && folded !== null) {
        const p = luma.planes[0]!;
        if (levels.update(p.data as Uint8Array, p.stride, width, height)) {
          if (levels.identity) blender.setTable(table);
          else {
            const t = levels.table;
            for (let g = 0; g < 256; g++) {
              const row = t[g]! << 8;
              for (let b = 0; b < 256; b++) folded[(g << 8) | b] = table[row | (255 - t[255 - b]!)]!;
            }
            blender.setTable(folded);
          }
        }
      }
      const [blurred] = blur.process(src);
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

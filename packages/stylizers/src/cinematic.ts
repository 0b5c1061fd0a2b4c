import { readFile } from 'node:fs/promises';
import {
  applyLut3d,
  applyLut3dFloat,
  bakeLut3d,
  type Lut3D,
  type PreparedLut3D,
  parseCube,
  prepareLut3d,
} from '@framecraft/color';
import { createFrame, type Frame, withTimingOf } from '@framecraft/core';
import * as v from 'valibot';
import { StylizersError } from './errors.ts';
import { createRandom } from './random.ts';
import { kernelInstance, type Stylizer, type StylizerInstance } from './stylizer.ts';

/** Grades baked in code (no file needed). */
export const BUILT_IN_GRADES = ['none', 'teal-orange', 'warm', 'cool', 'bleach-bypass'] as const;
/** A built-in grade name. */
export type BuiltInGrade = (typeof BUILT_IN_GRADES)[number];

/** Options of the cinematic style, with defaults filled in. */
export interface CinematicOptions {
  /** A built-in grade; ignored when `lut` is set. */
  readonly grade: BuiltInGrade;
  /** Path of a .cube 3D LUT to grade with instead. */
  readonly lut: string | null;
  /** Mix of the graded and the original colour, 0–1. */
  readonly gradeStrength: number;
  /** S-curve contrast, 0 (none) – 1 (strong). */
  readonly curve: number;
  /** Bloom added from bright areas, 0–1. */
  readonly bloom: number;
  /** Luma above which areas bloom, 0–1. */
  readonly bloomThreshold: number;
  /** Film grain amplitude in code values (0 = off); changes every frame, fixed by the seed and timestamp. */
  readonly grain: number;
  /** Darkening of the corners, 0–1. */
  readonly vignette: number;
}

/** Options as given (every field optional). */
export type CinematicOptionsInput = {
  readonly [K in keyof CinematicOptions]?: CinematicOptions[K] | undefined;
};

const unit = (def: number) => v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1)), def);

const options: v.GenericSchema<CinematicOptionsInput, CinematicOptions> = v.object({
  grade: v.optional(v.picklist(BUILT_IN_GRADES), 'teal-orange'),
  lut: v.optional(v.nullable(v.pipe(v.string(), v.minLength(1))), null),
  gradeStrength: unit(1),
  curve: unit(0.35),
  bloom: unit(0.25),
  bloomThreshold: unit(0.75),
  grain: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(40)), 6),
  vignette: unit(0.35),
});

const luma = (r: number, g: number, b: number): number => 0.2126 * r + 0.7152 * g + 0.0722 * b;
const clamp01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);

function builtIn(grade: BuiltInGrade): (r: number, g: number, b: number) => [number, number, number] {
  switch (grade) {
    case 'teal-orange':
      // Shadows toward teal, highlights and skin toward orange, saturation kept.
      return (r, g, b) => {
        const y = luma(r, g, b);
        const t = y * y * (3 - 2 * y);
        return [
          clamp01(r + 0.08 * t - 0.04 * (1 - t)),
          clamp01(g + 0.01 * t + 0.02 * (1 - t)),
          clamp01(b - 0.07 * t + 0.06 * (1 - t)),
        ];
      };
    case 'warm':
      return (r, g, b) => [clamp01(r * 1.06 + 0.01), clamp01(g * 1.01), clamp01(b * 0.9)];
    case 'cool':
      return (r, g, b) => [clamp01(r * 0.92), clamp01(g * 1.0 + 0.01), clamp01(b * 1.08 + 0.01)];
    case 'bleach-bypass':
      // Desaturated, contrasty: blend with luma and stretch.
      return (r, g, b) => {
        const y = luma(r, g, b);
        const mix = (c: number): number => clamp01((0.45 * c + 0.55 * y - 0.5) * 1.25 + 0.5);
        return [mix(r), mix(g), mix(b)];
      };
    default:
      return (r, g, b) => [r, g, b];
  }
}

/** S-curve around mid grey with strength s (smoothstep blend). */
function sCurve(s: number): (x: number) => number {
  return (x) => x + s * (x * x * (3 - 2 * x) - x);
}

async function loadLut(path: string): Promise<Lut3D> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new StylizersError(
      'ERR_LUT_NOT_FOUND',
      `${path}: cannot read the LUT file (${(err as Error).message})`,
      { cause: err },
    );
  }
  const { lut3d } = parseCube(text, { file: path });
  if (lut3d === null) throw new StylizersError('ERR_LUT_PARSE', `${path}: has no 3D LUT (LUT_3D_SIZE)`);
  return lut3d;
}

/** Vignette gain per pixel in 1/256 units: 256 in the middle, falling smoothly to the corners. */
function vignetteMap(width: number, height: number, strength: number): Uint16Array {
  const m = new Uint16Array(width * height);
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const rmax = Math.hypot(cx, cy);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const r = Math.hypot(x - cx, y - cy) / rmax;
      const fall = r < 0.45 ? 0 : ((r - 0.45) / 0.55) ** 2;
      m[y * width + x] = Math.round((1 - strength * fall) * 256);
    }
  }
  return m;
}

const GRAIN_TILE = 256;

/**
 * Running-sum box blur of interleaved RGB floats along one axis, edges clamped.
 * `n` samples per line, `m` lines; `step` is the distance (in pixels) between neighbours on a line:
 * 1 for rows, the row length for columns (then lines are columns, `m` of them, one pixel apart).
 */
function boxBlur(from: Float32Array, to: Float32Array, n: number, m: number, r: number, step: number): void {
  const lineStep = step === 1 ? n : 1;
  const inv = 1 / (2 * r + 1);
  for (let j = 0; j < m; j++) {
    const base = j * lineStep;
    for (let c = 0; c < 3; c++) {
      let acc = 0;
      for (let i = -r; i <= r; i++) acc += from[(base + (i < 0 ? 0 : i >= n ? n - 1 : i) * step) * 3 + c]!;
      for (let i = 0; i < n; i++) {
        to[(base + i * step) * 3 + c] = acc * inv;
        const add = i + r + 1;
        const sub = i - r;
        acc +=
          from[(base + (add >= n ? n - 1 : add) * step) * 3 + c]! -
          from[(base + (sub < 0 ? 0 : sub) * step) * 3 + c]!;
      }
    }
  }
}

/**
 * Cinematic grade on rgb24: a 3D LUT (built-in or .cube) with an S-curve baked into it, bloom from
 * bright areas (computed at quarter resolution), seeded temporal film grain and a vignette.
 */
export const cinematic: Stylizer<typeof options> = {
  name: 'cinematic',
  description: 'Cinematic grade: 3D LUT (built-in or .cube) with an S-curve, bloom, film grain and vignette.',
  options,
  inputFormat: 'rgb24',
  presets: {
    speed: { bloom: 0, grain: 4 },
    balanced: {},
    quality: { bloom: 0.3, grain: 5 },
  },
  async check(o): Promise<void> {
    if (o.lut !== null) await loadLut(o.lut);
  },
  async create(o, context): Promise<StylizerInstance> {
    const { width, height, seed } = context;
    const source = o.lut === null ? null : await loadLut(o.lut);
    const grade = builtIn(o.grade);
    const curve = sCurve(o.curve);
    const k = o.gradeStrength;
    const px = new Float32Array(3);
    const sample = (r: number, g: number, b: number): [number, number, number] => {
      let base: ArrayLike<number>;
      if (source) {
        px[0] = r;
        px[1] = g;
        px[2] = b;
        base = applyLut3dFloat(px, source, {}, px);
      } else base = grade(r, g, b);
      return [curve(r + (base[0]! - r) * k), curve(g + (base[1]! - g) * k), curve(b + (base[2]! - b) * k)];
    };
    // Grade (built-in or .cube), strength and curve composed into one lattice: one lookup per pixel.
    const baked = bakeLut3d(Math.max(33, source?.size ?? 0), sample);
    const identityGrade = source === null && o.grade === 'none' && o.curve === 0;
    // Resolving every 8-bit input pays off from about 640×360 frames on (48 MiB, ~0.5 s once).
    const lut: Lut3D | PreparedLut3D = width * height >= 640 * 360 ? prepareLut3d(baked) : baked;
    const vignette = o.vignette > 0 ? vignetteMap(width, height, o.vignette) : null;
    const rng = createRandom(seed).fork(0x6772);
    const tiles: Int8Array[] = [];
    if (o.grain > 0) {
      for (let t = 0; t < 4; t++) {
        const tile = new Int8Array(GRAIN_TILE * GRAIN_TILE);
        for (let i = 0; i < tile.length; i++) {
          // Sum of three uniforms: roughly Gaussian grain.
          const n = rng.next() + rng.next() + rng.next() - 1.5;
          tile[i] = Math.max(-127, Math.min(127, Math.round(n * o.grain * 1.4)));
        }
        tiles.push(tile);
      }
    }
    const qw = Math.max(1, width >> 2);
    const qh = Math.max(1, height >> 2);
    const bright = new Float32Array(qw * qh * 3);
    const tmp = new Float32Array(qw * qh * 3);
    const graded = createFrame({ width, height, format: 'rgb24' });

    const bloomPass = (src: Uint8Array, stride: number): void => {
      const thr = o.bloomThreshold * 255;
      const norm = 1 / ((255 - thr + 1e-6) * 16);
      for (let y = 0; y < qh; y++) {
        const y0 = y * 4;
        const rows = Math.min(4, height - y0);
        for (let x = 0; x < qw; x++) {
          const x0 = x * 4 * 3;
          const cols = Math.min(4, width - x * 4) * 3;
          let r = 0;
          let g = 0;
          let b = 0;
          for (let dy = 0; dy < rows; dy++) {
            let i = (y0 + dy) * stride + x0;
            const end = i + cols;
            for (; i < end; i += 3) {
              r += src[i]!;
              g += src[i + 1]!;
              b += src[i + 2]!;
            }
          }
          // Edge blocks hold fewer samples; scale them up to a full block.
          const fill = 48 / (rows * cols);
          r *= fill;
          g *= fill;
          b *= fill;
          const over = Math.max(0, (0.2126 * r + 0.7152 * g + 0.0722 * b) / 16 - thr) * norm;
          const o3 = (y * qw + x) * 3;
          bright[o3] = r * over;
          bright[o3 + 1] = g * over;
          bright[o3 + 2] = b * over;
        }
      }
      // Two box blurs each way at quarter resolution (radius 3 ≈ a wide Gaussian at full size).
      for (let pass = 0; pass < 2; pass++) {
        boxBlur(bright, tmp, qw, qh, 3, 1);
        boxBlur(tmp, bright, qh, qw, 3, qw);
      }
    };

    const run = (frame: Frame, out: Frame): Frame => {
      const g = identityGrade ? frame : applyLut3d(frame, lut, {}, graded);
      const gp = g.planes[0]!;
      const gd = gp.data as Uint8Array;
      if (o.bloom > 0) bloomPass(gd, gp.stride);
      const dst = out.planes[0]!;
      const d = dst.data as Uint8Array;
      // Grain depends on the frame's timestamp, not on processing order: chunks render anywhere.
      const frng = createRandom(seed).fork(frame.pts);
      const tile = tiles.length ? tiles[frng.nextUint32() % tiles.length]! : null;
      const ox = frng.nextUint32() % GRAIN_TILE;
      const oy = frng.nextUint32() % GRAIN_TILE;
      const bloomK = o.bloom;
      for (let y = 0; y < height; y++) {
        const gi = y * gp.stride;
        const di = y * dst.stride;
        const qy = Math.min(qh - 1, y >> 2);
        const trow = ((y + oy) & (GRAIN_TILE - 1)) * GRAIN_TILE;
        const vrow = y * width;
        for (let x = 0; x < width; x++) {
          const p = gi + x * 3;
          let r = gd[p]!;
          let gg = gd[p + 1]!;
          let b = gd[p + 2]!;
          if (bloomK > 0) {
            const q = (qy * qw + Math.min(qw - 1, x >> 2)) * 3;
            r += bloomK * bright[q]!;
            gg += bloomK * bright[q + 1]!;
            b += bloomK * bright[q + 2]!;
          }
          if (vignette !== null) {
            const vg = vignette[vrow + x]! * (1 / 256);
            r *= vg;
            gg *= vg;
            b *= vg;
          }
          if (tile !== null) {
            const n = tile[trow + ((x + ox) & (GRAIN_TILE - 1))]!;
            r += n;
            gg += n;
            b += n;
          }
          const o3 = di + x * 3;
          d[o3] = r < 0 ? 0 : r > 255 ? 255 : r + 0.5;
          d[o3 + 1] = gg < 0 ? 0 : gg > 255 ? 255 : gg + 0.5;
          d[o3 + 2] = b < 0 ? 0 : b > 255 ? 255 : b + 0.5;
        }
      }
      return withTimingOf({ ...out, color: frame.color }, frame);
    };

    return kernelInstance({
      name: 'cinematic',
      stateful: false,
      width,
      height,
      inputFormat: 'rgb24',
      outputFormat: 'rgb24',
      run,
    });
  },
};

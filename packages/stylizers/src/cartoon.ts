import { type Frame, withTimingOf } from '@framecraft/core';
import { VideoFilter } from '@framecraft/io';
import { SceneCutDetector } from '@framecraft/temporal';
import * as v from 'valibot';
import { createRandom, type Random } from './random.ts';
import { kernelInstance, type Stylizer, type StylizerInstance } from './stylizer.ts';

/** Options of the cartoon style, with defaults filled in. */
export interface CartoonOptions {
  /** Palette size (k of k-means). */
  readonly colors: number;
  /** Bilateral passes on the half-size frame (edge-preserving smoothing). */
  readonly smoothing: number;
  /** Canny thresholds for the outlines, as fractions (FFmpeg edgedetect's low/high). */
  readonly edgeLow: number;
  readonly edgeHigh: number;
  /** k-means iterations per frame (warm-started from the previous frame's palette). */
  readonly iterations: number;
}

/** Options as given (every field optional). */
export type CartoonOptionsInput = { readonly [K in keyof CartoonOptions]?: CartoonOptions[K] | undefined };

const options: v.GenericSchema<CartoonOptionsInput, CartoonOptions> = v.object({
  colors: v.optional(v.pipe(v.number(), v.integer(), v.minValue(2), v.maxValue(32)), 8),
  smoothing: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(4)), 2),
  edgeLow: v.optional(v.pipe(v.number(), v.minValue(0.01), v.maxValue(1)), 0.08),
  edgeHigh: v.optional(v.pipe(v.number(), v.minValue(0.01), v.maxValue(1)), 0.25),
  iterations: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(20)), 3),
});

/** k-means++ seeding from samples (seeded, so a restart is reproducible). */
function seedPalette(samples: Float32Array, count: number, k: number, rng: Random): Float32Array {
  const palette = new Float32Array(k * 3);
  const first = rng.nextUint32() % count;
  palette.set(samples.subarray(first * 3, first * 3 + 3), 0);
  const dist = new Float32Array(count).fill(Number.POSITIVE_INFINITY);
  for (let c = 1; c < k; c++) {
    let total = 0;
    for (let i = 0; i < count; i++) {
      const dr = samples[i * 3]! - palette[(c - 1) * 3]!;
      const dg = samples[i * 3 + 1]! - palette[(c - 1) * 3 + 1]!;
      const db = samples[i * 3 + 2]! - palette[(c - 1) * 3 + 2]!;
      const d = dr * dr + dg * dg + db * db;
      if (d < dist[i]!) dist[i] = d;
      total += dist[i]!;
    }
    let pick = rng.next() * total;
    let chosen = count - 1;
    for (let i = 0; i < count; i++) {
      pick -= dist[i]!;
      if (pick <= 0) {
        chosen = i;
        break;
      }
    }
    palette.set(samples.subarray(chosen * 3, chosen * 3 + 3), c * 3);
  }
  return palette;
}

function nearest(palette: Float32Array, k: number, r: number, g: number, b: number): number {
  let best = 0;
  let bestD = Number.POSITIVE_INFINITY;
  for (let c = 0; c < k; c++) {
    const dr = r - palette[c * 3]!;
    const dg = g - palette[c * 3 + 1]!;
    const db = b - palette[c * 3 + 2]!;
    const d = dr * dr + dg * dg + db * db;
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

/**
 * Cartoon on rgb24: bilateral smoothing at half size (FFmpeg in-process), k-means colour
 * quantisation with a palette warm-started from the previous frame (so colours do not jump between
 * frames) and re-seeded at scene cuts, Canny outlines (FFmpeg edgedetect) drawn in black.
 */
export const cartoon: Stylizer<typeof options> = {
  name: 'cartoon',
  description: 'Cartoon: smoothed flat colours from a frame-stable k-means palette with black outlines.',
  options,
  inputFormat: 'rgb24',
  presets: {
    speed: { smoothing: 1, iterations: 2 },
    balanced: {},
    quality: { colors: 10, iterations: 5 },
  },
  async create(o, context): Promise<StylizerInstance> {
    const { width, height, seed } = context;
    const sw = Math.max(2, width >> 1);
    const sh = Math.max(2, height >> 1);
    const bilateral = Array.from({ length: o.smoothing }, () => 'bilateral=sigmaS=4:sigmaR=0.1').join(',');
    const smooth = await VideoFilter.create(
      `scale=${sw}:${sh}:flags=area,format=gbrp${bilateral ? `,${bilateral}` : ''},format=rgb24`,
    );
    const edges = await VideoFilter.create(
      `format=gray,edgedetect=low=${o.edgeLow}:high=${Math.max(o.edgeHigh, o.edgeLow)}`,
    );
    const cuts = SceneCutDetector.create();
    const rng = createRandom(seed).fork(0x6b6d);
    const k = o.colors;
    const step = Math.max(1, Math.floor(Math.sqrt((sw * sh) / 20000)));
    const maxSamples = Math.ceil(sw / step) * Math.ceil(sh / step);
    const samples = new Float32Array(maxSamples * 3);
    const labels = new Uint8Array(sw * sh);
    let palette: Float32Array | null = null;
    let shown: Uint8Array | null = null;
    // The shot before the last cut: its look (histogram) and palette. A flash or a brief cut-away
    // that returns to it restores its colours instead of converging to new ones.
    let previousShot: { histogram: Float64Array; palette: Float32Array; shown: Uint8Array } | null = null;
    let shotHistogram: Float64Array | null = null;

    const run = (frame: Frame, out: Frame): Frame => {
      const cut = cuts.process(frame);
      const [small] = smooth.process(frame);
      const [edge] = edges.process(frame);
      const sp = small!.planes[0]!;
      const s = sp.data as Uint8Array;
      let count = 0;
      for (let y = 0; y < sh; y += step) {
        for (let x = 0; x < sw; x += step) {
          const i = y * sp.stride + x * 3;
          samples[count * 3] = s[i]!;
          samples[count * 3 + 1] = s[i + 1]!;
          samples[count * 3 + 2] = s[i + 2]!;
          count++;
        }
      }
      // Warm start keeps colours stable over a shot; a cut (or the first frame) re-seeds — unless
      // the picture is back to the shot before the cut (a flash, a cut-away), whose palette returns.
      // The detector already measured this frame's luma histogram.
      const histogram = cuts.lastHistogram!;
      let fresh = palette === null || cut;
      let restored = false;
      if (previousShot !== null && !fresh && shotHistogram !== null) {
        let back = 0;
        let here = 0;
        for (let i = 0; i < 64; i++) {
          back += Math.abs(histogram[i]! - previousShot.histogram[i]!);
          here += Math.abs(histogram[i]! - shotHistogram[i]!);
        }
        if (back / 2 < 0.1 && back < here) {
          const swap = { histogram: shotHistogram, palette: palette!, shown: shown! };
          palette = previousShot.palette;
          shown = previousShot.shown;
          shotHistogram = previousShot.histogram;
          previousShot = swap;
          restored = true;
        }
      }
      if (fresh) {
        if (palette !== null && shown !== null && shotHistogram !== null)
          previousShot = { histogram: shotHistogram, palette, shown };
        palette = seedPalette(samples, count, k, rng.fork(frame.pts));
        shotHistogram = Float64Array.from(histogram);
      }
      if (restored) fresh = false;
      const p = palette!;
      const sums = new Float64Array(k * 4);
      // A new shot converges fully once (until no centroid moves by a quarter code value); later
      // frames refine the warm palette, and stop early when the picture did not change.
      const iterations = fresh ? 100 : o.iterations;
      for (let it = 0; it < iterations; it++) {
        let moved = 0;
        sums.fill(0);
        for (let i = 0; i < count; i++) {
          const r = samples[i * 3]!;
          const g = samples[i * 3 + 1]!;
          const b = samples[i * 3 + 2]!;
          const c = nearest(p, k, r, g, b);
          sums[c * 4] = sums[c * 4]! + r;
          sums[c * 4 + 1] = sums[c * 4 + 1]! + g;
          sums[c * 4 + 2] = sums[c * 4 + 2]! + b;
          sums[c * 4 + 3] = sums[c * 4 + 3]! + 1;
        }
        for (let c = 0; c < k; c++) {
          const n = sums[c * 4 + 3]!;
          if (n > 0) {
            const r = sums[c * 4]! / n;
            const g = sums[c * 4 + 1]! / n;
            const b = sums[c * 4 + 2]! / n;
            moved = Math.max(
              moved,
              Math.abs(r - p[c * 3]!),
              Math.abs(g - p[c * 3 + 1]!),
              Math.abs(b - p[c * 3 + 2]!),
            );
            p[c * 3] = r;
            p[c * 3 + 1] = g;
            p[c * 3 + 2] = b;
          }
        }
        if (moved < 0.25) break;
      }
      const ep = edge!.planes[0]!;
      const e = ep.data as Uint8Array;
      const dp = out.planes[0]!;
      const d = dp.data as Uint8Array;
      // The colours shown move only when a centroid drifts by more than a few code values, so
      // flat areas do not shimmer from tiny palette updates between frames.
      if (shown === null || fresh || shown.length !== k * 3) shown = Uint8Array.from(p, (x) => Math.round(x));
      else {
        for (let c = 0; c < k; c++) {
          const dr = p[c * 3]! - shown[c * 3]!;
          const dg = p[c * 3 + 1]! - shown[c * 3 + 1]!;
          const db = p[c * 3 + 2]! - shown[c * 3 + 2]!;
          if (dr * dr + dg * dg + db * db > 9) {
            shown[c * 3] = Math.round(p[c * 3]!);
            shown[c * 3 + 1] = Math.round(p[c * 3 + 1]!);
            shown[c * 3 + 2] = Math.round(p[c * 3 + 2]!);
          }
        }
      }
      const rounded = shown;
      // Assign with the shown palette, so an unchanged picture maps to unchanged colours.
      const shownF = Float32Array.from(shown);
      for (let y = 0; y < sh; y++) {
        for (let x = 0; x < sw; x++) {
          const i = y * sp.stride + x * 3;
          labels[y * sw + x] = nearest(shownF, k, s[i]!, s[i + 1]!, s[i + 2]!);
        }
      }
      for (let y = 0; y < height; y++) {
        const ly = Math.min(sh - 1, (y * sh) / height) | 0;
        for (let x = 0; x < width; x++) {
          const o3 = y * dp.stride + x * 3;
          if (e[y * ep.stride + x]! > 0) {
            d[o3] = 0;
            d[o3 + 1] = 0;
            d[o3 + 2] = 0;
            continue;
          }
          const c = labels[ly * sw + Math.min(sw - 1, ((x * sw) / width) | 0)]! * 3;
          d[o3] = rounded[c]!;
          d[o3 + 1] = rounded[c + 1]!;
          d[o3 + 2] = rounded[c + 2]!;
        }
      }
      return withTimingOf({ ...out, color: { ...frame.color, range: 'full', matrix: 'rgb' } }, frame);
    };

    return kernelInstance({
      name: 'cartoon',
      stateful: true,
      width,
      height,
      inputFormat: 'rgb24',
      outputFormat: 'rgb24',
      run,
      close: () => {
        smooth.close();
        edges.close();
      },
    });
  },
};

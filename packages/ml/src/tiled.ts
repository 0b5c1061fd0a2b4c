import { createFrame, type Frame, invalidRangeError, withTimingOf } from '@framecraft/core';
import { downscaleArea, guidedUpsample, scaledSize } from './guided.ts';
import { frameToTensor, type Region, type TensorLayout, tensorToFrame, ZOO_LAYOUT } from './layout.ts';
import type { OnnxSession } from './session.ts';

/** Options of {@link runTiled}. */
export interface TiledOptions {
  /**
   * Tile side in pixels; 512 by default. A frame of no more pixels than one tile runs whole (a
   * 640×360 frame in 512-pixel tiles: whole): the tile bounds memory, which goes with the pixel
   * count, and a whole frame has no overlap to compute twice.
   */
  readonly tile?: number;
  /** Overlap between neighbouring tiles, blended with feathered weights; 32 by default. */
  readonly overlap?: number;
  readonly layout?: TensorLayout;
  /** Called when a tile failed for lack of memory and the tile size was halved. */
  readonly onRetry?: (tile: number, reason: string) => void;
  /**
   * Inputs are padded (edge pixels repeated) to a multiple of this and outputs cropped back, for
   * models whose strided layers need it (TransformerNet: 4, the default).
   */
  readonly align?: number;
  /**
   * Smallest input side the model gets: smaller regions are padded up to it the same way (16 by
   * default: TransformerNet's reflection padding of 4 fails on inputs of 4 pixels or fewer).
   */
  readonly minSize?: number;
  /**
   * Style scale in (0, 1]; 1 by default. Below 1 the model runs on the frame reduced by area
   * averaging to this fraction of each side (tiles are then in pixels of the reduced frame) and its
   * output is brought back to full size by {@link guidedUpsample}, guided by the full-size input:
   * the model's strokes keep their size relative to the frame whatever its resolution, and a 1080p
   * frame at 0.5 costs about what a 540p frame does.
   */
  readonly scale?: number;
  /** Range kernel of the guided upsample, in code values (see {@link guidedUpsample}); 16 by default. */
  readonly sigma?: number;
}

/**
 * Tile starts along one axis: the fewest tiles whose neighbours overlap by at least `overlap`,
 * spread evenly from 0 to `size − tile`.
 */
export function tileStarts(size: number, tile: number, overlap: number): number[] {
  if (size <= tile) return [0];
  const n = Math.ceil((size - overlap) / (tile - overlap));
  return Array.from({ length: n }, (_, i) => Math.round((i * (size - tile)) / (n - 1)));
}

/**
 * Tile length along one axis: as many tiles as `tile` needs, then shrunk so they just cover the
 * axis with the overlap (640 pixels in 512-pixel tiles → two tiles of 336, not two of 512).
 */
export function tileSpan(size: number, tile: number, overlap: number): number {
  if (size <= tile) return size;
  const n = Math.ceil((size - overlap) / (tile - overlap));
  return Math.min(tile, Math.ceil((size + (n - 1) * overlap) / n));
}

/**
 * Feathering weight along one axis for a tile covering [start, start + len) of [0, size): a ramp
 * over the overlap on each side that has a neighbour, 1 elsewhere; never 0, so every pixel counts.
 */
function ramp(i: number, len: number, start: number, size: number, overlap: number): number {
  let w = 1;
  if (start > 0 && overlap > 0) w = Math.min(w, (i + 0.5) / overlap);
  if (start + len < size && overlap > 0) w = Math.min(w, (len - i - 0.5) / overlap);
  return w;
}

/**
 * Run the model on one region, padded to a multiple of `align` and to at least `minSize` by
 * repeating the edge pixels, and return the output cropped back to the region (always NCHW or
 * NHWC as the layout says).
 */
async function runRegion(
  session: OnnxSession,
  frame: Frame,
  region: Region,
  layout: TensorLayout,
  align: number,
  minSize: number,
): Promise<Float32Array> {
  const { width: w, height: h } = region;
  const pw = Math.ceil(Math.max(w, minSize) / align) * align;
  const ph = Math.ceil(Math.max(h, minSize) / align) * align;
  const t = frameToTensor(frame, layout, region);
  let input = t;
  if (pw !== w || ph !== h) {
    input = new Float32Array(3 * pw * ph);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < ph; y++) {
        const sy = Math.min(y, h - 1);
        for (let x = 0; x < pw; x++) {
          const sx = Math.min(x, w - 1);
          if (layout.layout === 'nchw') input[c * pw * ph + y * pw + x] = t[c * w * h + sy * w + sx]!;
          else input[(y * pw + x) * 3 + c] = t[(sy * w + sx) * 3 + c]!;
        }
      }
    }
  }
  const dims = layout.layout === 'nchw' ? [1, 3, ph, pw] : [1, ph, pw, 3];
  const res = await session.run(input, dims);
  checkSize(res.dims, layout, pw, ph);
  if (pw === w && ph === h) return res.data;
  const out = new Float32Array(3 * w * h);
  const o = res.data;
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        if (layout.layout === 'nchw') out[c * w * h + y * w + x] = o[c * pw * ph + y * pw + x]!;
        else out[(y * w + x) * 3 + c] = o[(y * pw + x) * 3 + c]!;
      }
  return out;
}

const isOutOfMemory = (err: unknown): boolean =>
  /out of memory|failed to allocate|bad_alloc|cannot allocate/i.test(String((err as Error)?.message ?? err));

/**
 * Run an image-to-image model (same size out as in) on an rgb24 frame in overlapping tiles and
 * blend them with feathered weights, so no seam shows; any frame size (not a multiple of the tile,
 * or smaller than one tile), optionally on a reduced frame upsampled back guided by the input
 * (`scale`). On an out-of-memory failure the tile size halves and the frame is
 * tried again (down to 64 pixels).
 *
 * @param session - The model.
 * @param frame - rgb24 input.
 * @param options - Tile size, overlap, tensor layout.
 * @param out - rgb24 frame of the same size to write into.
 * @returns The output frame, with the input's timing.
 * @throws {RangeError} For an overlap not smaller than half the tile, a scale outside (0, 1], or a
 *   model that changes the size.
 */
export async function runTiled(
  session: OnnxSession,
  frame: Frame,
  options: TiledOptions = {},
  out?: Frame,
): Promise<Frame> {
  const tile = options.tile ?? 512;
  const overlap = options.overlap ?? 32;
  const layout = options.layout ?? ZOO_LAYOUT;
  const align = options.align ?? 4;
  if (!Number.isInteger(align) || align < 1 || align > 64)
    throw invalidRangeError('an integer in [1, 64]', 'options.align', align);
  const minSize = options.minSize ?? 16;
  if (!Number.isInteger(minSize) || minSize < 1 || minSize > 1024)
    throw invalidRangeError('an integer in [1, 1024]', 'options.minSize', minSize);
  if (!Number.isInteger(tile) || tile < 16) throw invalidRangeError('an integer >= 16', 'options.tile', tile);
  if (!Number.isInteger(overlap) || overlap < 0 || overlap * 2 >= tile)
    throw invalidRangeError(`an integer in [0, ${Math.floor((tile - 1) / 2)}]`, 'options.overlap', overlap);
  const { width: W, height: H } = frame;
  const target = out ?? createFrame({ width: W, height: H, format: 'rgb24' });
  const scale = options.scale ?? 1;
  const reduced = scaledSize(W, H, scale);
  if (reduced.width < W || reduced.height < H) {
    const small = downscaleArea(frame, reduced.width, reduced.height);
    const styled = await runTiled(session, small, { ...options, scale: 1 });
    return guidedUpsample(
      styled,
      small,
      frame,
      options.sigma !== undefined ? { sigma: options.sigma } : {},
      target,
    );
  }
  try {
    if (W * H <= tile * tile) {
      const data = await runRegion(
        session,
        frame,
        { x: 0, y: 0, width: W, height: H },
        layout,
        align,
        minSize,
      );
      return withTimingOf(tensorToFrame(data, W, H, layout, target), frame);
    }
    const n = W * H;
    const acc = new Float32Array(3 * n);
    const weight = new Float32Array(n);
    const spanX = tileSpan(W, tile, overlap);
    const spanY = tileSpan(H, tile, overlap);
    for (const y0 of tileStarts(H, spanY, overlap)) {
      for (const x0 of tileStarts(W, spanX, overlap)) {
        const region: Region = { x: x0, y: y0, width: spanX, height: spanY };
        const tw = region.width;
        const th = region.height;
        const o = await runRegion(session, frame, region, layout, align, minSize);
        const tn = tw * th;
        for (let y = 0; y < th; y++) {
          const wy = ramp(y, th, y0, H, overlap);
          for (let x = 0; x < tw; x++) {
            const w = wy * ramp(x, tw, x0, W, overlap);
            const p = (y0 + y) * W + x0 + x;
            const t = y * tw + x;
            weight[p]! += w;
            if (layout.layout === 'nchw') {
              acc[p]! += w * o[t]!;
              acc[n + p]! += w * o[tn + t]!;
              acc[2 * n + p]! += w * o[2 * tn + t]!;
            } else {
              acc[p * 3]! += w * o[t * 3]!;
              acc[p * 3 + 1]! += w * o[t * 3 + 1]!;
              acc[p * 3 + 2]! += w * o[t * 3 + 2]!;
            }
          }
        }
      }
    }
    for (let p = 0; p < n; p++) {
      const inv = 1 / weight[p]!;
      if (layout.layout === 'nchw') {
        acc[p]! *= inv;
        acc[n + p]! *= inv;
        acc[2 * n + p]! *= inv;
      } else {
        acc[p * 3]! *= inv;
        acc[p * 3 + 1]! *= inv;
        acc[p * 3 + 2]! *= inv;
      }
    }
    return withTimingOf(tensorToFrame(acc, W, H, layout, target), frame);
  } catch (err) {
    if (!isOutOfMemory(err) || tile <= 64) throw err;
    const smaller = tile >> 1;
    options.onRetry?.(smaller, (err as Error).message);
    return runTiled(
      session,
      frame,
      { ...options, tile: smaller, overlap: Math.min(overlap, (smaller >> 1) - 1) },
      target,
    );
  }
}

function checkSize(dims: readonly number[], layout: TensorLayout, w: number, h: number): void {
  const [oh, ow] = layout.layout === 'nchw' ? [dims[2], dims[3]] : [dims[1], dims[2]];
  if (oh !== h || ow !== w)
    throw invalidRangeError(`a ${w}x${h} output (the input's size)`, 'model output', `${ow}x${oh}`);
}

// Run a style on a downscaled frame and bring the result back to full size guided by the
// full-size input. The network paints at the reduced size (so its strokes keep their size relative
// to the frame at any resolution, and a 1080p frame costs what 540p costs); the upsample is a
// cubic plus a joint bilateral correction steered by the full-size input's colours, so the input's
// edges come back where they are at full resolution (see guidedUpsample).
import { createFrame, type Frame, invalidRangeError, invalidTypeError, withTimingOf } from '@framecraft/core';

/** Options of {@link guidedUpsample}. */
export interface GuidedOptions {
  /**
   * Width of the range kernel, in code values of RGB distance: input colours this far apart
   * count as different sides of an edge (weight e^-1/2); 16 by default.
   */
  readonly sigma?: number;
}

/**
 * The reduced size a scale gives: each side scaled and rounded, at least 1 pixel.
 *
 * @param width - Full width.
 * @param height - Full height.
 * @param scale - In (0, 1].
 * @returns The reduced size.
 */
export function scaledSize(width: number, height: number, scale: number): { width: number; height: number } {
  if (!(scale > 0 && scale <= 1)) throw invalidRangeError('a number in (0, 1]', 'scale', scale);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** Source spans of an area resampling from `from` to `to` samples: first index and weights per output. */
function areaTaps(from: number, to: number): { start: Int32Array; count: Int32Array; weights: Float32Array } {
  const ratio = from / to;
  const start = new Int32Array(to);
  const count = new Int32Array(to);
  const taps = Math.ceil(ratio) + 1;
  const weights = new Float32Array(to * taps);
  for (let i = 0; i < to; i++) {
    const a = i * ratio;
    const b = Math.min(from, (i + 1) * ratio);
    const s = Math.floor(a);
    const e = Math.min(from, Math.ceil(b));
    start[i] = s;
    count[i] = e - s;
    for (let k = s; k < e; k++) weights[i * taps + k - s] = (Math.min(b, k + 1) - Math.max(a, k)) / ratio;
  }
  return { start, count, weights };
}

/**
 * Downscale an rgb24 frame by area averaging (each output pixel the mean of the input area it
 * covers, fractional pixels weighted), the reduction that aliases least.
 *
 * @param frame - rgb24 input.
 * @param width - Output width, at most the input's.
 * @param height - Output height, at most the input's.
 * @param out - rgb24 frame of that size to write into.
 * @returns The reduced frame, with the input's timing.
 */
export function downscaleArea(frame: Frame, width: number, height: number, out?: Frame): Frame {
  if (frame.format !== 'rgb24') throw invalidTypeError('an rgb24 frame', 'frame.format', frame.format);
  const { width: W, height: H } = frame;
  if (!Number.isInteger(width) || width < 1 || width > W)
    throw invalidRangeError(`an integer in [1, ${W}]`, 'width', width);
  if (!Number.isInteger(height) || height < 1 || height > H)
    throw invalidRangeError(`an integer in [1, ${H}]`, 'height', height);
  const target = out ?? createFrame({ width, height, format: 'rgb24' });
  const src = frame.planes[0]!.data as Uint8Array;
  const ss = frame.planes[0]!.stride;
  const plane = target.planes[0]!.data as Uint8Array;
  const dst = new Uint8ClampedArray(plane.buffer, plane.byteOffset, plane.length);
  const ds = target.planes[0]!.stride;
  const hx = areaTaps(W, width);
  const tx = hx.weights.length / width;
  const hy = areaTaps(H, height);
  const ty = hy.weights.length / height;
  // Horizontal pass into floats (3 × width per input row), then the vertical one.
  const rows = new Float32Array(H * width * 3);
  for (let y = 0; y < H; y++) {
    const row = y * ss;
    const o = y * width * 3;
    for (let x = 0; x < width; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      const s = hx.start[x]!;
      const n = hx.count[x]!;
      for (let k = 0; k < n; k++) {
        const w = hx.weights[x * tx + k]!;
        const p = row + (s + k) * 3;
        r += w * src[p]!;
        g += w * src[p + 1]!;
        b += w * src[p + 2]!;
      }
      rows[o + x * 3] = r;
      rows[o + x * 3 + 1] = g;
      rows[o + x * 3 + 2] = b;
    }
  }
  const acc = new Float32Array(width * 3);
  for (let y = 0; y < height; y++) {
    acc.fill(0);
    const s = hy.start[y]!;
    const n = hy.count[y]!;
    for (let k = 0; k < n; k++) {
      const w = hy.weights[y * ty + k]!;
      const o = (s + k) * width * 3;
      for (let i = 0; i < width * 3; i++) acc[i]! += w * rows[o + i]!;
    }
    const d = y * ds;
    for (let i = 0; i < width * 3; i++) dst[d + i] = acc[i]!;
  }
  return withTimingOf(target, frame);
}

/** Interpolation taps for resizing `from` samples to `to` (pixel centres aligned, edges clamped). */
interface Taps {
  /** `k` source indices per output sample. */
  readonly index: Int32Array;
  /** Their weights (summing to 1). */
  readonly weight: Float32Array;
}

/** Keys' cubic convolution kernel with parameter `a` at distance `x`. */
function keys(x: number, a: number): number {
  const d = Math.abs(x);
  if (d <= 1) return ((a + 2) * d - (a + 3)) * d * d + 1;
  if (d < 2) return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;
  return 0;
}

/** Bilinear (k = 2) or Catmull-Rom cubic (k = 4, Keys a = −0.5) taps. */
function resizeTaps(from: number, to: number, k: 2 | 4): Taps {
  const index = new Int32Array(to * k);
  const weight = new Float32Array(to * k);
  const a = -0.5;
  for (let i = 0; i < to; i++) {
    const s = ((i + 0.5) * from) / to - 0.5;
    const base = Math.floor(s);
    const t = s - base;
    const ws = k === 2 ? [1 - t, t] : [keys(1 + t, a), keys(t, a), keys(1 - t, a), keys(2 - t, a)];
    const first = k === 2 ? base : base - 1;
    for (let j = 0; j < k; j++) {
      index[i * k + j] = Math.min(from - 1, Math.max(0, first + j));
      weight[i * k + j] = ws[j]!;
    }
  }
  return { index, weight };
}

/** Output row `Y` of a cubic's vertical pass over interleaved samples: `row` = Σ weight · source row. */
function verticalPass(src: Uint8Array, stride: number, taps: Taps, Y: number, row: Float32Array): void {
  row.fill(0);
  for (let j = 0; j < 4; j++) {
    const o = taps.index[Y * 4 + j]! * stride;
    const v = taps.weight[Y * 4 + j]!;
    for (let i = 0; i < row.length; i++) row[i]! += v * src[o + i]!;
  }
}

/** Spread of input colours (code values, per channel) below which four reduced pixels are flat. */
const FLAT = 8;

/** Range weights exp(−d²/2σ²) by d² in steps of 16, up to three channels' full scale. */
function rangeTable(sigma: number): Float32Array {
  const t = new Float32Array(Math.ceil((3 * 255 * 255) / 16) + 2);
  for (let i = 0; i < t.length; i++) t[i] = Math.exp((-i * 16) / (2 * sigma * sigma)) + 1e-4;
  return t;
}

/**
 * Bring a stylized reduced frame back to the full size of its input, guided by the input: joint
 * bilateral upsampling (Kopf et al. 2007) over the four reduced pixels around each full-size one,
 * each weighted by its bilinear weight and by how close its input colour is to the full-size
 * input's colour there, added as a correction to a cubic upsample. Where the four neighbours'
 * input colours agree (flat areas, the style's own strokes on them) the correction vanishes and
 * the result is the cubic upsample, as crisp as it makes them; across an input edge a full-size
 * pixel takes the style of the neighbours on its own side of the edge, so the output's edges land
 * where the full-size input's are instead of blurred across the reduced pixel they fell in. (The
 * fast guided filter was tried first: its affine fits of the style to the input wash a line
 * style's strokes out wherever the input is flat, and a per-pixel offset that keeps the strokes
 * adds almost nothing, since line strokes are no affine function of the input.)
 *
 * @param styled - rgb24, the style's output on `small`.
 * @param small - rgb24, the reduced input the style saw.
 * @param guide - rgb24, the full-size input.
 * @param options - The range kernel's width.
 * @param out - rgb24 frame the size of `guide` to write into.
 * @returns The full-size result, with the guide's timing.
 */
export function guidedUpsample(
  styled: Frame,
  small: Frame,
  guide: Frame,
  options: GuidedOptions = {},
  out?: Frame,
): Frame {
  for (const [name, f] of [
    ['styled', styled],
    ['small', small],
    ['guide', guide],
  ] as const)
    if (f.format !== 'rgb24') throw invalidTypeError('an rgb24 frame', `${name}.format`, f.format);
  const { width: w, height: h } = small;
  if (styled.width !== w || styled.height !== h)
    throw invalidRangeError(`a ${w}x${h} frame`, 'styled', `${styled.width}x${styled.height}`);
  const sigma = options.sigma ?? 16;
  if (!(sigma > 0 && sigma <= 255)) throw invalidRangeError('a number in (0, 255]', 'sigma', sigma);
  const { width: W, height: H } = guide;
  if (W < w || H < h) throw invalidRangeError(`a frame of at least ${w}x${h}`, 'guide', `${W}x${H}`);
  const target = out ?? createFrame({ width: W, height: H, format: 'rgb24' });
  const range = rangeTable(sigma);
  const ip = small.planes[0]!.data as Uint8Array;
  const is = small.planes[0]!.stride;
  const pp = styled.planes[0]!.data as Uint8Array;
  const ps = styled.planes[0]!.stride;
  const gp = guide.planes[0]!.data as Uint8Array;
  const gs = guide.planes[0]!.stride;
  const plane = target.planes[0]!.data as Uint8Array;
  // Stores through a clamped view round and clamp in one step.
  const dst = new Uint8ClampedArray(plane.buffer, plane.byteOffset, plane.length);
  const ds = target.planes[0]!.stride;
  const cx = resizeTaps(w, W, 4);
  const cy = resizeTaps(h, H, 4);
  const lx = resizeTaps(w, W, 2);
  const ly = resizeTaps(h, H, 2);
  // Cells of four reduced pixels whose input colours agree within FLAT code values in every
  // channel hold no edge to put back: pixels there take the cubic alone (a third faster on
  // flower at 720p; edge F1 and PSNR in bench/neural.ts unchanged to the third decimal).
  const flatCells = new Uint8Array(w * h);
  const tol = FLAT;
  for (let y = 0; y < h; y++) {
    const r = y * is;
    const q = Math.min(h - 1, y + 1) * is;
    for (let x = 0; x < w; x++) {
      const a = r + x * 3;
      const b = r + Math.min(w - 1, x + 1) * 3;
      const c = q + x * 3;
      const e = q + Math.min(w - 1, x + 1) * 3;
      let ok = 1;
      for (let ch = 0; ch < 3; ch++) {
        const p0 = ip[a + ch]!;
        if (
          Math.abs(ip[b + ch]! - p0) > tol ||
          Math.abs(ip[c + ch]! - p0) > tol ||
          Math.abs(ip[e + ch]! - p0) > tol
        ) {
          ok = 0;
          break;
        }
      }
      flatCells[y * w + x] = ok;
    }
  }
  const cubic = new Float32Array(3 * w);
  for (let Y = 0; Y < H; Y++) {
    // The cubic's vertical pass over the reduced row, interleaved RGB.
    verticalPass(pp, ps, cy, Y, cubic);
    const r0 = ly.index[Y * 2]!;
    const r1 = ly.index[Y * 2 + 1]!;
    const v0 = ly.weight[Y * 2]!;
    const v1 = ly.weight[Y * 2 + 1]!;
    const g = Y * gs;
    const d = Y * ds;
    const flatRow = r0 * w;
    for (let X = 0; X < W; X++) {
      const x0 = cx.index[X * 4]! * 3;
      const x1 = cx.index[X * 4 + 1]! * 3;
      const x2 = cx.index[X * 4 + 2]! * 3;
      const x3 = cx.index[X * 4 + 3]! * 3;
      const w0 = cx.weight[X * 4]!;
      const w1 = cx.weight[X * 4 + 1]!;
      const w2 = cx.weight[X * 4 + 2]!;
      const w3 = cx.weight[X * 4 + 3]!;
      if (flatCells[flatRow + lx.index[X * 2]!] === 1) {
        const o = d + X * 3;
        dst[o] = w0 * cubic[x0]! + w1 * cubic[x1]! + w2 * cubic[x2]! + w3 * cubic[x3]!;
        dst[o + 1] = w0 * cubic[x0 + 1]! + w1 * cubic[x1 + 1]! + w2 * cubic[x2 + 1]! + w3 * cubic[x3 + 1]!;
        dst[o + 2] = w0 * cubic[x0 + 2]! + w1 * cubic[x1 + 2]! + w2 * cubic[x2 + 2]! + w3 * cubic[x3 + 2]!;
        continue;
      }
      const gi = g + X * 3;
      const gr = gp[gi]!;
      const gg = gp[gi + 1]!;
      const gb = gp[gi + 2]!;
      const c0 = lx.index[X * 2]! * 3;
      const c1 = lx.index[X * 2 + 1]! * 3;
      const u0 = lx.weight[X * 2]!;
      const u1 = lx.weight[X * 2 + 1]!;
      // The four neighbours: spatial (bilinear) weight s and range weight.
      const a = r0 * is + c0;
      const b = r0 * is + c1;
      const c = r1 * is + c0;
      const e = r1 * is + c1;
      const sa = v0 * u0;
      const sb = v0 * u1;
      const sc = v1 * u0;
      const se = v1 * u1;
      let dr = gr - ip[a]!;
      let dg = gg - ip[a + 1]!;
      let db = gb - ip[a + 2]!;
      const wa = sa * range[(dr * dr + dg * dg + db * db) >> 4]!;
      dr = gr - ip[b]!;
      dg = gg - ip[b + 1]!;
      db = gb - ip[b + 2]!;
      const wb = sb * range[(dr * dr + dg * dg + db * db) >> 4]!;
      dr = gr - ip[c]!;
      dg = gg - ip[c + 1]!;
      db = gb - ip[c + 2]!;
      const wc = sc * range[(dr * dr + dg * dg + db * db) >> 4]!;
      dr = gr - ip[e]!;
      dg = gg - ip[e + 1]!;
      db = gb - ip[e + 2]!;
      const we = se * range[(dr * dr + dg * dg + db * db) >> 4]!;
      const inv = 1 / (wa + wb + wc + we);
      // Correction weights: joint bilateral minus bilinear.
      const ka = wa * inv - sa;
      const kb = wb * inv - sb;
      const kc = wc * inv - sc;
      const ke = we * inv - se;
      const pa = r0 * ps + c0;
      const pb = r0 * ps + c1;
      const pc = r1 * ps + c0;
      const pe = r1 * ps + c1;
      for (let ch = 0; ch < 3; ch++) {
        const v =
          w0 * cubic[x0 + ch]! +
          w1 * cubic[x1 + ch]! +
          w2 * cubic[x2 + ch]! +
          w3 * cubic[x3 + ch]! +
          ka * pp[pa + ch]! +
          kb * pp[pb + ch]! +
          kc * pp[pc + ch]! +
          ke * pp[pe + ch]!;
        dst[d + X * 3 + ch] = v;
      }
    }
  }
  return withTimingOf(target, guide);
}

/**
 * Cubic (Catmull-Rom) upsample of an rgb24 frame, pixel centres aligned: the plain upsample the
 * guided one is compared with, and what it gives where the input has no finer detail.
 *
 * @param frame - rgb24 input.
 * @param width - Output width.
 * @param height - Output height.
 * @returns The resized frame, with the input's timing.
 */
export function cubicResize(frame: Frame, width: number, height: number): Frame {
  if (frame.format !== 'rgb24') throw invalidTypeError('an rgb24 frame', 'frame.format', frame.format);
  const { width: w, height: h } = frame;
  const src = frame.planes[0]!.data as Uint8Array;
  const ss = frame.planes[0]!.stride;
  const target = createFrame({ width, height, format: 'rgb24' });
  const plane = target.planes[0]!.data as Uint8Array;
  const dst = new Uint8ClampedArray(plane.buffer, plane.byteOffset, plane.length);
  const cx = resizeTaps(w, width, 4);
  const cy = resizeTaps(h, height, 4);
  const row = new Float32Array(3 * w);
  for (let Y = 0; Y < height; Y++) {
    verticalPass(src, ss, cy, Y, row);
    for (let X = 0; X < width; X++)
      for (let c = 0; c < 3; c++) {
        let v = 0;
        for (let j = 0; j < 4; j++) v += cx.weight[X * 4 + j]! * row[cx.index[X * 4 + j]! * 3 + c]!;
        dst[(Y * width + X) * 3 + c] = v;
      }
  }
  return withTimingOf(target, frame);
}

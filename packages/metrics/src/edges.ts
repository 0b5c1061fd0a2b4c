import { assertSameSize, type LumaView } from './luma.ts';

/** Options of {@link edgeMap} and {@link edgeCoherence}. */
export interface EdgeOptions {
  /**
   * Edge threshold on the Sobel gradient magnitude, as a fraction of the largest possible
   * magnitude (4·255·√2); 0.1 by default.
   */
  readonly threshold?: number;
  /** Distance in pixels within which an edge counts as matched; 1 by default. */
  readonly tolerance?: number;
}

const MAX_MAGNITUDE = 4 * 255 * Math.SQRT2;

/**
 * Binary edge map: 1 where the Sobel gradient magnitude exceeds the threshold.
 *
 * @param img - Luma image.
 * @param options - Threshold.
 * @param out - width × height bytes to reuse.
 * @returns The map (border pixels are 0).
 */
export function edgeMap(img: LumaView, options: EdgeOptions = {}, out?: Uint8Array): Uint8Array {
  const { width, height, stride, data } = img;
  const map = out !== undefined && out.length >= width * height ? out : new Uint8Array(width * height);
  map.fill(0);
  const t = (options.threshold ?? 0.1) * MAX_MAGNITUDE;
  const t2 = t * t;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * stride + x;
      const tl = data[i - stride - 1]!;
      const tc = data[i - stride]!;
      const tr = data[i - stride + 1]!;
      const ml = data[i - 1]!;
      const mr = data[i + 1]!;
      const bl = data[i + stride - 1]!;
      const bc = data[i + stride]!;
      const br = data[i + stride + 1]!;
      const gx = tr + 2 * mr + br - tl - 2 * ml - bl;
      const gy = bl + 2 * bc + br - tl - 2 * tc - tr;
      if (gx * gx + gy * gy > t2) map[y * width + x] = 1;
    }
  }
  return map;
}

function matched(map: Uint8Array, width: number, height: number, x: number, y: number, r: number): boolean {
  for (let dy = -r; dy <= r; dy++) {
    const yy = y + dy;
    if (yy < 0 || yy >= height) continue;
    for (let dx = -r; dx <= r; dx++) {
      const xx = x + dx;
      if (xx >= 0 && xx < width && map[yy * width + xx] === 1) return true;
    }
  }
  return false;
}

/**
 * Edge coherence: the F1 score between the edge maps of the content frame and the output frame.
 *
 * Precision is the share of output edges that have a content edge within `tolerance` pixels;
 * recall is the share of content edges that have an output edge within `tolerance`. F1 is their
 * harmonic mean: 1 when the outlines follow the content exactly, near 0 when they are unrelated.
 * Both maps empty gives 1; one empty gives 0.
 *
 * @param content - Luma of the source frame.
 * @param output - Luma of the stylized frame.
 * @param options - Threshold and tolerance.
 * @returns F1 in [0, 1].
 */
export function edgeCoherence(content: LumaView, output: LumaView, options: EdgeOptions = {}): number {
  assertSameSize(content, output);
  const { width, height } = content;
  const r = options.tolerance ?? 1;
  const a = edgeMap(content, options);
  const b = edgeMap(output, options);
  let na = 0;
  let nb = 0;
  let hitB = 0;
  let hitA = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (b[i] === 1) {
        nb++;
        if (matched(a, width, height, x, y, r)) hitB++;
      }
      if (a[i] === 1) {
        na++;
        if (matched(b, width, height, x, y, r)) hitA++;
      }
    }
  }
  if (na === 0 && nb === 0) return 1;
  if (na === 0 || nb === 0) return 0;
  const precision = hitB / nb;
  const recall = hitA / na;
  return precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
}

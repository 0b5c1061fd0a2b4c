import { createFrame, type Frame, invalidRangeError, invalidTypeError, withTimingOf } from '@framecraft/core';
import type { Lut1D, Lut3D } from './cube.ts';

/** How a 3D LUT is sampled between lattice points. */
export type Interpolation = 'trilinear' | 'tetrahedral';

/** Options of the LUT appliers. */
export interface ApplyLutOptions {
  /** `tetrahedral` (default; smoother on neutrals, what Resolve uses) or `trilinear`. */
  readonly interpolation?: Interpolation;
}

/**
 * Sample a 3D LUT at lattice coordinates (each in [0, size − 1]) into `out[o..o+2]`.
 * Six-case tetrahedral or eight-corner trilinear interpolation.
 */
function sample(
  d: Float32Array,
  n: number,
  sr: number,
  sg: number,
  sb: number,
  tetra: boolean,
  out: Float32Array | Uint8Array | number[],
  o: number,
  scale: number,
): void {
  const r0 = sr | 0;
  const g0 = sg | 0;
  const b0 = sb | 0;
  const fr = sr - r0;
  const fg = sg - g0;
  const fb = sb - b0;
  const dr = r0 < n - 1 ? 3 : 0;
  const dg = g0 < n - 1 ? 3 * n : 0;
  const db = b0 < n - 1 ? 3 * n * n : 0;
  const i000 = 3 * (r0 + n * (g0 + n * b0));
  const i111 = i000 + dr + dg + db;
  for (let k = 0; k < 3; k++) {
    const c000 = d[i000 + k]!;
    const c111 = d[i111 + k]!;
    let v: number;
    if (tetra) {
      if (fr > fg) {
        if (fg > fb) {
          v =
            (1 - fr) * c000 + (fr - fg) * d[i000 + dr + k]! + (fg - fb) * d[i000 + dr + dg + k]! + fb * c111;
        } else if (fr > fb) {
          v =
            (1 - fr) * c000 + (fr - fb) * d[i000 + dr + k]! + (fb - fg) * d[i000 + dr + db + k]! + fg * c111;
        } else {
          v =
            (1 - fb) * c000 + (fb - fr) * d[i000 + db + k]! + (fr - fg) * d[i000 + dr + db + k]! + fg * c111;
        }
      } else if (fb > fg) {
        v = (1 - fb) * c000 + (fb - fg) * d[i000 + db + k]! + (fg - fr) * d[i000 + dg + db + k]! + fr * c111;
      } else if (fb > fr) {
        v = (1 - fg) * c000 + (fg - fb) * d[i000 + dg + k]! + (fb - fr) * d[i000 + dg + db + k]! + fr * c111;
      } else {
        v = (1 - fg) * c000 + (fg - fr) * d[i000 + dg + k]! + (fr - fb) * d[i000 + dr + dg + k]! + fb * c111;
      }
    } else {
      const c100 = d[i000 + dr + k]!;
      const c010 = d[i000 + dg + k]!;
      const c110 = d[i000 + dr + dg + k]!;
      const c001 = d[i000 + db + k]!;
      const c101 = d[i000 + dr + db + k]!;
      const c011 = d[i000 + dg + db + k]!;
      const c00 = c000 + (c100 - c000) * fr;
      const c10 = c010 + (c110 - c010) * fr;
      const c01 = c001 + (c101 - c001) * fr;
      const c11 = c011 + (c111 - c011) * fr;
      const c0 = c00 + (c10 - c00) * fg;
      const c1 = c01 + (c11 - c01) * fg;
      v = c0 + (c1 - c0) * fb;
    }
    out[o + k] = scale === 0 ? v : v * scale + 0.5;
  }
}

function checkLut3d(lut: Lut3D): void {
  if (lut?.kind !== '3d' || lut.data.length !== lut.size ** 3 * 3) {
    throw invalidTypeError('a 3D LUT from parseCube or bakeLut3d', 'lut', lut);
  }
}

/** Per 8-bit code and channel: lattice coordinate (domain applied, clamped). */
function latticeTable(lut: Lut3D | Lut1D, channel: number): Float32Array {
  const t = new Float32Array(256);
  const lo = lut.domainMin[channel]!;
  const hi = lut.domainMax[channel]!;
  const top = lut.size - 1;
  for (let v = 0; v < 256; v++) {
    const s = ((v / 255 - lo) / (hi - lo)) * top;
    t[v] = s < 0 ? 0 : s > top ? top : s;
  }
  return t;
}

/** A 3D LUT resolved for every 8-bit input (256³ output triples, 48 MiB): one lookup per pixel. */
export interface PreparedLut3D {
  readonly kind: 'prepared8';
  readonly interpolation: Interpolation;
  /** Output R, G, B for input (r, g, b) at `3 · ((r << 16) | (g << 8) | b)`. */
  readonly table: Uint8Array;
}

/**
 * Resolve a 3D LUT for every 8-bit input once, so applying it to a frame is a table lookup per
 * pixel (about 4× faster than interpolating). Worth it for video (the same LUT on many frames);
 * costs 48 MiB and a few hundred milliseconds.
 *
 * @param lut - The LUT.
 * @param options - Interpolation used to fill the table.
 * @returns The prepared LUT, accepted by {@link applyLut3d}.
 */
export function prepareLut3d(lut: Lut3D, options: ApplyLutOptions = {}): PreparedLut3D {
  checkLut3d(lut);
  const interpolation = options.interpolation ?? 'tetrahedral';
  const tetra = interpolation === 'tetrahedral';
  const tr = latticeTable(lut, 0);
  const tg = latticeTable(lut, 1);
  const tb = latticeTable(lut, 2);
  const table = new Uint8Array(256 * 256 * 256 * 3);
  const px = new Float32Array(3);
  const n = lut.size;
  const d = lut.data;
  let o = 0;
  for (let r = 0; r < 256; r++) {
    const sr = tr[r]!;
    for (let g = 0; g < 256; g++) {
      const sg = tg[g]!;
      for (let b = 0; b < 256; b++) {
        sample(d, n, sr, sg, tb[b]!, tetra, px, 0, 255);
        const x = px[0]!;
        const y = px[1]!;
        const z = px[2]!;
        table[o++] = x < 0 ? 0 : x > 255 ? 255 : x;
        table[o++] = y < 0 ? 0 : y > 255 ? 255 : y;
        table[o++] = z < 0 ? 0 : z > 255 ? 255 : z;
      }
    }
  }
  return { kind: 'prepared8', interpolation, table };
}

function applyPrepared(frame: Frame, lut: PreparedLut3D, target: Frame): void {
  const src = frame.planes[0]!;
  const dst = target.planes[0]!;
  const s = src.data as Uint8Array;
  const d = dst.data as Uint8Array;
  const t = lut.table;
  const rowBytes = frame.width * 3;
  for (let y = 0; y < frame.height; y++) {
    const si = y * src.stride;
    const di = y * dst.stride;
    for (let x = 0; x < rowBytes; x += 3) {
      const i = ((s[si + x]! << 16) | (s[si + x + 1]! << 8) | s[si + x + 2]!) * 3;
      d[di + x] = t[i]!;
      d[di + x + 1] = t[i + 1]!;
      d[di + x + 2] = t[i + 2]!;
    }
  }
}

/**
 * Apply a 3D LUT to an rgb24 frame.
 *
 * @param frame - An rgb24 frame.
 * @param lut - The LUT (its domain maps input codes / 255 onto the lattice), or one from
 *   {@link prepareLut3d} (then `options` is ignored: the table already holds its interpolation).
 * @param options - Interpolation.
 * @param out - An rgb24 frame of the same size to write into (may be `frame` itself).
 * @returns The graded frame.
 * @throws {TypeError} For a frame that is not rgb24 or an invalid LUT.
 * @example
 * ```ts
 * const { lut3d } = parseCube(text)
 * const graded = applyLut3d(rgbFrame, lut3d, { interpolation: 'tetrahedral' })
 * ```
 */
export function applyLut3d(
  frame: Frame,
  lut: Lut3D | PreparedLut3D,
  options: ApplyLutOptions = {},
  out?: Frame,
): Frame {
  if (frame.format !== 'rgb24') throw invalidTypeError('an rgb24 frame', 'frame.format', frame.format);
  const target = out ?? createFrame({ ...frame, format: 'rgb24' });
  if (target.width !== frame.width || target.height !== frame.height || target.format !== 'rgb24') {
    throw invalidRangeError(`an rgb24 ${frame.width}x${frame.height} frame`, 'out', target);
  }
  if (lut?.kind === 'prepared8') {
    applyPrepared(frame, lut, target);
    return out === undefined ? target : withTimingOf(target, frame);
  }
  checkLut3d(lut);
  const tr = latticeTable(lut, 0);
  const tg = latticeTable(lut, 1);
  const tb = latticeTable(lut, 2);
  const tetra = (options.interpolation ?? 'tetrahedral') === 'tetrahedral';
  const src = frame.planes[0]!;
  const dst = target.planes[0]!;
  const s = src.data as Uint8Array;
  const d = dst.data as Uint8Array;
  const n = lut.size;
  const ld = lut.data;
  // Uint8Array assignment truncates, so `sample` adds 0.5 for rounding; clamping is by hand.
  const px = new Float32Array(3);
  const rowBytes = frame.width * 3;
  for (let y = 0; y < frame.height; y++) {
    const si = y * src.stride;
    const di = y * dst.stride;
    for (let x = 0; x < rowBytes; x += 3) {
      sample(ld, n, tr[s[si + x]!]!, tg[s[si + x + 1]!]!, tb[s[si + x + 2]!]!, tetra, px, 0, 255);
      const r = px[0]!;
      const g = px[1]!;
      const b = px[2]!;
      d[di + x] = r < 0 ? 0 : r > 255 ? 255 : r;
      d[di + x + 1] = g < 0 ? 0 : g > 255 ? 255 : g;
      d[di + x + 2] = b < 0 ? 0 : b > 255 ? 255 : b;
    }
  }
  return out === undefined ? target : withTimingOf(target, frame);
}

/**
 * Apply a 3D LUT to interleaved float RGB values (any scale the LUT's domain describes).
 *
 * @param src - R, G, B, R, G, B, … values.
 * @param lut - The LUT.
 * @param options - Interpolation.
 * @param out - Destination of the same length (may be `src`).
 * @returns `out`, or a new array.
 */
export function applyLut3dFloat(
  src: Float32Array,
  lut: Lut3D,
  options: ApplyLutOptions = {},
  out: Float32Array = new Float32Array(src.length),
): Float32Array {
  checkLut3d(lut);
  if (src.length % 3 !== 0) throw invalidRangeError('a length divisible by 3', 'src', src);
  const tetra = (options.interpolation ?? 'tetrahedral') === 'tetrahedral';
  const n = lut.size;
  const top = n - 1;
  const [lr, lg, lb] = lut.domainMin;
  const [hr, hg, hb] = lut.domainMax;
  const lattice = (v: number, lo: number, hi: number): number => {
    const s = ((v - lo) / (hi - lo)) * top;
    return s > 0 ? (s < top ? s : top) : 0;
  };
  for (let i = 0; i < src.length; i += 3) {
    sample(
      lut.data,
      n,
      lattice(src[i]!, lr, hr),
      lattice(src[i + 1]!, lg, hg),
      lattice(src[i + 2]!, lb, hb),
      tetra,
      out,
      i,
      0,
    );
  }
  return out;
}

/**
 * Apply a 1D LUT per channel to an rgb24 frame (linear interpolation between entries).
 *
 * @param frame - An rgb24 frame.
 * @param lut - The 1D LUT.
 * @param out - An rgb24 frame of the same size (may be `frame`).
 * @returns The result.
 * @throws {TypeError} For a frame that is not rgb24 or an invalid LUT.
 */
export function applyLut1d(frame: Frame, lut: Lut1D, out?: Frame): Frame {
  if (frame.format !== 'rgb24') throw invalidTypeError('an rgb24 frame', 'frame.format', frame.format);
  if (lut?.kind !== '1d' || lut.data.length !== lut.size * 3) throw invalidTypeError('a 1D LUT', 'lut', lut);
  const target = out ?? createFrame({ ...frame, format: 'rgb24' });
  // Every 8-bit input maps to one output code per channel: build the three tables once.
  const tables = [0, 1, 2].map((ch) => {
    const lattice = latticeTable(lut, ch);
    const t = new Uint8Array(256);
    for (let v = 0; v < 256; v++) {
      const s = lattice[v]!;
      const i = s | 0;
      const f = s - i;
      const j = i < lut.size - 1 ? i + 1 : i;
      const y = (lut.data[i * 3 + ch]! + (lut.data[j * 3 + ch]! - lut.data[i * 3 + ch]!) * f) * 255 + 0.5;
      t[v] = y < 0 ? 0 : y > 255 ? 255 : y;
    }
    return t;
  });
  const [t0, t1, t2] = tables as [Uint8Array, Uint8Array, Uint8Array];
  const src = frame.planes[0]!;
  const dst = target.planes[0]!;
  const s = src.data as Uint8Array;
  const d = dst.data as Uint8Array;
  const rowBytes = frame.width * 3;
  for (let y = 0; y < frame.height; y++) {
    const si = y * src.stride;
    const di = y * dst.stride;
    for (let x = 0; x < rowBytes; x += 3) {
      d[di + x] = t0[s[si + x]!]!;
      d[di + x + 1] = t1[s[si + x + 1]!]!;
      d[di + x + 2] = t2[s[si + x + 2]!]!;
    }
  }
  return out === undefined ? target : withTimingOf(target, frame);
}

/**
 * Bake a 3D LUT from a color function (for grades written in code).
 *
 * @param size - Lattice points per axis, 2–256 (33 is the common choice).
 * @param fn - Maps input R, G, B in the domain to output R, G, B.
 * @param domain - Input domain; [0, 1] per channel by default.
 * @returns The LUT.
 * @throws {RangeError} For a size outside 2–256.
 */
export function bakeLut3d(
  size: number,
  fn: (r: number, g: number, b: number) => readonly [number, number, number],
  domain: {
    readonly min?: readonly [number, number, number];
    readonly max?: readonly [number, number, number];
  } = {},
): Lut3D {
  if (!Number.isInteger(size) || size < 2 || size > 256)
    throw invalidRangeError('an integer in [2, 256]', 'size', size);
  const min = domain.min ?? [0, 0, 0];
  const max = domain.max ?? [1, 1, 1];
  const data = new Float32Array(size ** 3 * 3);
  const at = (i: number, ch: number): number => min[ch]! + ((max[ch]! - min[ch]!) * i) / (size - 1);
  let o = 0;
  for (let b = 0; b < size; b++) {
    for (let g = 0; g < size; g++) {
      for (let r = 0; r < size; r++) {
        const v = fn(at(r, 0), at(g, 1), at(b, 2));
        data[o++] = v[0];
        data[o++] = v[1];
        data[o++] = v[2];
      }
    }
  }
  return {
    kind: '3d',
    size,
    domainMin: [min[0]!, min[1]!, min[2]!],
    domainMax: [max[0]!, max[1]!, max[2]!],
    data,
  };
}

/**
 * The identity 3D LUT of a size (every input maps to itself).
 *
 * @param size - Lattice points per axis.
 * @returns The LUT.
 */
export function identityLut3d(size: number): Lut3D {
  return bakeLut3d(size, (r, g, b) => [r, g, b]);
}

import { BORDER, type PyramidLevel } from './pyramid.ts';
import type { SearchKernel } from './search-kernel.ts';

/** Settings of the patch search on one level. */
export interface SearchParams {
  readonly patchSize: number;
  readonly patchStride: number;
  /** Gradient-descent iterations per patch, split over the forward and the backward pass. */
  readonly iterations: number;
  readonly meanNormalization: boolean;
  readonly spatialPropagation: boolean;
}

/** Per-patch sums of the template's derivatives (structure tensor), reused by every iteration. */
export interface PatchTensor {
  xx: Float32Array;
  yy: Float32Array;
  xy: Float32Array;
  x: Float32Array;
  y: Float32Array;
}

/** Patch grid size of a level: patches every `stride` samples, fully inside. */
export function patchGrid(w: number, h: number, psz: number, stride: number): [number, number] {
  return [1 + Math.floor((w - psz) / stride), 1 + Math.floor((h - psz) / stride)];
}

/** Sum the template derivatives over every patch of the grid (box sums on the sparse grid). */
export function patchTensor(level: PyramidLevel, p: SearchParams, t: PatchTensor): void {
  const { width: w, height: h, gx, gy } = level;
  const psz = p.patchSize;
  const stride = p.patchStride;
  const [ws, hs] = patchGrid(w, h, psz, stride);
  const n = psz * psz;
  for (let is = 0; is < hs; is++) {
    for (let js = 0; js < ws; js++) {
      let sxx = 0;
      let syy = 0;
      let sxy = 0;
      let sx = 0;
      let sy = 0;
      for (let r = 0; r < psz; r++) {
        let i = (is * stride + r) * w + js * stride;
        for (let c = 0; c < psz; c++, i++) {
          const a = gx[i]!;
          const b = gy[i]!;
          sxx += a * a;
          syy += b * b;
          sxy += a * b;
          sx += a;
          sy += b;
        }
      }
      const k = is * ws + js;
      // Mean-normalized patches compare shapes, not brightness: the tensor of the centred gradients.
      if (p.meanNormalization) {
        t.xx[k] = sxx - (sx * sx) / n;
        t.yy[k] = syy - (sy * sy) / n;
        t.xy[k] = sxy - (sx * sy) / n;
      } else {
        t.xx[k] = sxx;
        t.yy[k] = syy;
        t.xy[k] = sxy;
      }
      t.x[k] = sx;
      t.y[k] = sy;
    }
  }
}

/** Results of {@link patchStep}: the descent direction (written here to allocate nothing). */
let stepX = 0;
let stepY = 0;

/**
 * Compare the template patch at (i, j) of I0 with I1 at (i + uy, j + ux), bilinear: returns the
 * (mean-normalized) sum of squared differences and, when `grad` is set, the gradient terms in
 * stepX/stepY.
 */
function patchStep(
  I0: Float32Array,
  w: number,
  I1: Float32Array,
  we: number,
  gx: Float32Array,
  gy: Float32Array,
  i: number,
  j: number,
  py: number,
  px: number,
  psz: number,
  meanNorm: boolean,
  grad: boolean,
  gsx: number,
  gsy: number,
  kernel: SearchKernel | null,
): number {
  const fy = Math.floor(py);
  const fx = Math.floor(px);
  const ay = py - fy;
  const ax = px - fx;
  const w00 = (1 - ay) * (1 - ax);
  const w01 = (1 - ay) * ax;
  const w10 = ay * (1 - ax);
  const w11 = ay * ax;
  let sd = 0;
  let sd2 = 0;
  let sgx = 0;
  let sgy = 0;
  if (kernel !== null) {
    kernel.step(i * w + j, fy * we + fx, psz, ay, ax, grad);
    const r = kernel.result;
    sd = r[0]!;
    sd2 = r[1]!;
    sgx = r[2]!;
    sgy = r[3]!;
  } else {
    for (let r = 0; r < psz; r++) {
      let o0 = (i + r) * w + j;
      let o1 = (fy + r) * we + fx;
      if (grad) {
        for (let c = 0; c < psz; c++, o0++, o1++) {
          const d = w00 * I1[o1]! + w01 * I1[o1 + 1]! + w10 * I1[o1 + we]! + w11 * I1[o1 + we + 1]! - I0[o0]!;
          sd += d;
          sd2 += d * d;
          sgx += d * gx[o0]!;
          sgy += d * gy[o0]!;
        }
      } else {
        for (let c = 0; c < psz; c++, o0++, o1++) {
          const d = w00 * I1[o1]! + w01 * I1[o1 + 1]! + w10 * I1[o1 + we]! + w11 * I1[o1 + we + 1]! - I0[o0]!;
          sd += d;
          sd2 += d * d;
        }
      }
    }
  }
  const n = psz * psz;
  if (!meanNorm) {
    stepX = sgx;
    stepY = sgy;
    return sd2;
  }
  stepX = sgx - (sd * gsx) / n;
  stepY = sgy - (sd * gsy) / n;
  return sd2 - (sd * sd) / n;
}

/**
 * Inverse search (Kroeger et al. 2016): every patch of the grid starts from the dense flow `U` at
 * its centre (the coarser level's answer), takes a neighbour's vector when that fits better
 * (spatial propagation, a forward pass then a backward one), and descends by inverse-compositional
 * Gauss–Newton steps on the template's precomputed structure tensor. A patch that wanders further
 * than its own size from where it started keeps its start (robustness, as in the paper).
 */
export function inverseSearch(
  L0: PyramidLevel,
  L1: PyramidLevel,
  Ux: Float32Array,
  Uy: Float32Array,
  Sx: Float32Array,
  Sy: Float32Array,
  t: PatchTensor,
  p: SearchParams,
  simd: SearchKernel | null,
): void {
  const { width: w, height: h, image: I0, gx, gy } = L0;
  const I1 = L1.bordered;
  const we = w + 2 * BORDER;
  const psz = p.patchSize;
  const half = psz >> 1;
  const stride = p.patchStride;
  const [ws, hs] = patchGrid(w, h, psz, stride);
  // The kernel takes rows of whole vectors; it holds this level once `load`ed (by the caller).
  const kernel = psz % 4 === 0 ? simd : null;
  const lo = BORDER - psz + 1;
  const hiY = BORDER + h - 1;
  const hiX = BORDER + w - 1;
  const meanNorm = p.meanNormalization;
  const passes = p.spatialPropagation ? 2 : 1;
  const inner = Math.floor(p.iterations / passes);
  const clampY = (v: number): number => (v < lo ? lo : v > hiY ? hiY : v);
  const clampX = (v: number): number => (v < lo ? lo : v > hiX ? hiX : v);
  /** Patch (i, j)'s match error with patch n's vector. */
  const ssdAt = (i: number, j: number, n: number): number =>
    patchStep(
      I0,
      w,
      I1,
      we,
      gx,
      gy,
      i,
      j,
      clampY(i + Sy[n]! + BORDER),
      clampX(j + Sx[n]! + BORDER),
      psz,
      meanNorm,
      false,
      0,
      0,
      kernel,
    );
  /** Give patch k neighbour n's vector when it matches better than `best`; returns the best error. */
  const adopt = (i: number, j: number, k: number, n: number, best: number): number => {
    const ssd = ssdAt(i, j, n);
    if (ssd >= best) return best;
    Sx[k] = Sx[n]!;
    Sy[k] = Sy[n]!;
    return ssd;
  };
  for (let is = 0; is < hs; is++) {
    for (let js = 0; js < ws; js++) {
      const c = (is * stride + half) * w + js * stride + half;
      Sx[is * ws + js] = Ux[c]!;
      Sy[is * ws + js] = Uy[c]!;
    }
  }
  for (let pass = 0; pass < passes; pass++) {
    const dir = pass === 0 ? 1 : -1;
    const is0 = dir > 0 ? 0 : hs - 1;
    const js0 = dir > 0 ? 0 : ws - 1;
    for (let is = is0; is >= 0 && is < hs; is += dir) {
      const i = is * stride;
      for (let js = js0; js >= 0 && js < ws; js += dir) {
        const j = js * stride;
        const k = is * ws + js;
        const gsx = t.x[k]!;
        const gsy = t.y[k]!;
        if (p.spatialPropagation) {
          // Neighbours already settled in this pass: the previous patch in the row, then in the column.
          let best = ssdAt(i, j, k);
          if (js !== js0) best = adopt(i, j, k, k - dir, best);
          if (is !== is0) adopt(i, j, k, k - dir * ws, best);
        }
        const sx0 = Sx[k]!;
        const sy0 = Sy[k]!;
        let det = t.xx[k]! * t.yy[k]! - t.xy[k]! * t.xy[k]!;
        if (Math.abs(det) < 1e-3) det = 1e-3;
        const h11 = t.yy[k]! / det;
        const h12 = -t.xy[k]! / det;
        const h22 = t.xx[k]! / det;
        let ux = sx0;
        let uy = sy0;
        if (kernel !== null) {
          kernel.descend(i, j, psz, meanNorm, inner, ux, uy, h11, h12, h22, gsx, gsy, lo, hiY, hiX);
          ux = kernel.result[4]!;
          uy = kernel.result[5]!;
        } else {
          let prevX = ux;
          let prevY = uy;
          let prev = Number.POSITIVE_INFINITY;
          for (let it = 0; it < inner; it++) {
            const ssd = patchStep(
              I0,
              w,
              I1,
              we,
              gx,
              gy,
              i,
              j,
              clampY(i + uy + BORDER),
              clampX(j + ux + BORDER),
              psz,
              meanNorm,
              true,
              gsx,
              gsy,
              null,
            );
            // A step that made the match worse is taken back, and the descent stops.
            if (ssd >= prev) {
              ux = prevX;
              uy = prevY;
              break;
            }
            prev = ssd;
            prevX = ux;
            prevY = uy;
            ux -= h11 * stepX + h12 * stepY;
            uy -= h12 * stepX + h22 * stepY;
          }
        }
        const dx = ux - sx0;
        const dy = uy - sy0;
        if (dx * dx + dy * dy <= psz * psz) {
          Sx[k] = ux;
          Sy[k] = uy;
        }
      }
    }
  }
}

/**
 * Densification: each pixel's flow is the average of the vectors of the patches that cover it,
 * each weighted by how well it explains that pixel (1 / max(1, |I1(x + u) − I0(x)|)). Patches of
 * the last row and column also cover the samples past the grid, to the level's edge.
 */
export function densify(
  L0: PyramidLevel,
  L1: PyramidLevel,
  Sx: Float32Array,
  Sy: Float32Array,
  Ux: Float32Array,
  Uy: Float32Array,
  sumW: Float32Array,
  p: SearchParams,
  kernel: SearchKernel | null,
): void {
  const { width: w, height: h, image: I0 } = L0;
  const n = w * h;
  const I1 = L1.bordered;
  const we = w + 2 * BORDER;
  const psz = p.patchSize;
  const stride = p.patchStride;
  const [ws, hs] = patchGrid(w, h, psz, stride);
  // With the kernel the sums gather in its memory (it holds this level once `load`ed).
  const tx = kernel === null ? Ux : kernel.view(kernel.ux, n);
  const ty = kernel === null ? Uy : kernel.view(kernel.uy, n);
  const tw = kernel === null ? sumW : kernel.view(kernel.sw, n);
  tx.fill(0, 0, n);
  ty.fill(0, 0, n);
  tw.fill(0, 0, n);
  const maxY = h + BORDER - 1.001;
  const maxX = w + BORDER - 1.001;
  for (let is = 0; is < hs; is++) {
    const i0 = is * stride;
    const i1 = is === hs - 1 ? h : i0 + psz;
    for (let js = 0; js < ws; js++) {
      const j0 = js * stride;
      const j1 = js === ws - 1 ? w : j0 + psz;
      const sx = Sx[is * ws + js]!;
      const sy = Sy[is * ws + js]!;
      // A patch whose samples all land inside the bordered I1 has the same bilinear weights at
      // every sample: one kernel call. Otherwise per sample, clamped.
      const top = i0 + sy + BORDER;
      const left = j0 + sx + BORDER;
      if (
        kernel !== null &&
        top >= 0 &&
        left >= 0 &&
        i1 - 1 + sy + BORDER <= maxY &&
        j1 - 1 + sx + BORDER <= maxX
      ) {
        const fy = Math.floor(top);
        const fx = Math.floor(left);
        const ay = top - fy;
        const ax = left - fx;
        kernel.splat(
          i0 * w + j0,
          fy * we + fx,
          i1 - i0,
          j1 - j0,
          (1 - ay) * (1 - ax),
          (1 - ay) * ax,
          ay * (1 - ax),
          ay * ax,
          sx,
          sy,
        );
        continue;
      }
      for (let i = i0; i < i1; i++) {
        let py = i + sy + BORDER;
        py = py < 0 ? 0 : py > maxY ? maxY : py;
        const fy = Math.floor(py);
        const ay = py - fy;
        const rowBase = fy * we;
        for (let j = j0, o = i * w + j0; j < j1; j++, o++) {
          let px = j + sx + BORDER;
          px = px < 0 ? 0 : px > maxX ? maxX : px;
          const fx = Math.floor(px);
          const ax = px - fx;
          const q = rowBase + fx;
          const top = I1[q]! + ax * (I1[q + 1]! - I1[q]!);
          const bot = I1[q + we]! + ax * (I1[q + we + 1]! - I1[q + we]!);
          const d = top + ay * (bot - top) - I0[o]!;
          const ad = d < 0 ? -d : d;
          const wgt = ad > 1 ? 1 / ad : 1;
          tx[o] = tx[o]! + wgt * sx;
          ty[o] = ty[o]! + wgt * sy;
          tw[o] = tw[o]! + wgt;
        }
      }
    }
  }
  for (let o = 0; o < n; o++) {
    const s = tw[o]!;
    Ux[o] = tx[o]! / s;
    Uy[o] = ty[o]! / s;
  }
}

import { BORDER, type PyramidLevel } from './pyramid.ts';
import { RefineKernel } from './refine-kernel.ts';

/** Weights of the variational refinement's energy (OpenCV's defaults: 20, 5, 10). */
export interface RefineParams {
  /** Fixed-point iterations; 0 turns the refinement off. */
  readonly iterations: number;
  /** Smoothness weight. */
  readonly alpha: number;
  /** Colour (brightness) constancy weight. */
  readonly delta: number;
  /** Gradient constancy weight. */
  readonly gamma: number;
}

const SOR_ITERATIONS = 5;
const OMEGA = 1.6;
const ZETA2 = 0.01;
const EPS2 = 1e-6;

/** Scratch buffers of the refinement, one set per level size (reused across frames). */
export class RefineScratch {
  readonly n: number;
  readonly Ix: Float32Array;
  readonly Iy: Float32Array;
  readonly Iz: Float32Array;
  readonly Ixx: Float32Array;
  readonly Ixy: Float32Array;
  readonly Iyy: Float32Array;
  readonly Ixz: Float32Array;
  readonly Iyz: Float32Array;
  readonly a11: Float32Array;
  readonly a22: Float32Array;
  readonly b1: Float32Array;
  readonly b2: Float32Array;
  readonly tmp: Float32Array;
  // What the SOR sweeps read and write: in the WebAssembly kernel's memory when there is one.
  readonly a12: Float32Array;
  readonly smooth: Float32Array;
  /** The flow being refined (a copy in the kernel's memory; unused by the TypeScript path). */
  readonly U: Float32Array;
  readonly V: Float32Array;
  readonly du: Float32Array;
  readonly dv: Float32Array;
  /** Per pixel: ω / (a11 + Σ weights), ω / (a22 + Σ weights), and the fixed right-hand sides. */
  readonly inv11: Float32Array;
  readonly inv22: Float32Array;
  readonly rhsU: Float32Array;
  readonly rhsV: Float32Array;
  /** The SIMD sweeps, or null for the TypeScript ones. */
  readonly kernel: RefineKernel | null;

  /**
   * @param w - Width of the level.
   * @param h - Height of the level.
   * @param portable - Use the TypeScript loops even where WebAssembly SIMD is available.
   */
  constructor(w: number, h: number, portable = false) {
    const n = w * h;
    this.n = n;
    this.kernel = portable ? null : RefineKernel.create(w, h);
    const k = this.kernel?.arrays;
    const f = () => new Float32Array(n);
    this.Ix = k?.Ix ?? f();
    this.Iy = k?.Iy ?? f();
    this.Iz = k?.Iz ?? f();
    this.Ixx = k?.Ixx ?? f();
    this.Ixy = k?.Ixy ?? f();
    this.Iyy = k?.Iyy ?? f();
    this.Ixz = k?.Ixz ?? f();
    this.Iyz = k?.Iyz ?? f();
    this.a11 = k?.a11 ?? f();
    this.a22 = k?.a22 ?? f();
    this.b1 = k?.b1 ?? f();
    this.b2 = k?.b2 ?? f();
    this.tmp = f();
    this.du = k?.du ?? f();
    this.dv = k?.dv ?? f();
    this.rhsU = k?.rhsU ?? f();
    this.rhsV = k?.rhsV ?? f();
    this.inv11 = k?.inv11 ?? f();
    this.inv22 = k?.inv22 ?? f();
    this.a12 = k?.a12 ?? f();
    this.smooth = k?.smooth ?? f();
    this.U = k?.U ?? new Float32Array(0);
    this.V = k?.V ?? new Float32Array(0);
  }
}

/** Central differences with replicated edges (half the [-1 0 1] kernel: per pixel). */
function gradients(
  src: Float32Array,
  w: number,
  h: number,
  dx: Float32Array | null,
  dy: Float32Array | null,
): void {
  for (let y = 0; y < h; y++) {
    const row = y * w;
    const up = (y > 0 ? y - 1 : 0) * w;
    const down = (y < h - 1 ? y + 1 : h - 1) * w;
    for (let x = 0; x < w; x++) {
      if (dx !== null) {
        const l = x > 0 ? x - 1 : 0;
        const r = x < w - 1 ? x + 1 : w - 1;
        dx[row + x] = (src[row + r]! - src[row + l]!) * 0.5;
      }
      if (dy !== null) dy[row + x] = (src[down + x]! - src[up + x]!) * 0.5;
    }
  }
}

/** The data terms' normal equations, per pixel (what the kernel's `data` does four at a time). */
function dataTerms(n: number, delta2: number, gamma2: number, s: RefineScratch): void {
  const { Ix, Iy, Iz, Ixx, Ixy, Iyy, Ixz, Iyz, du, dv, a11, a12, a22, b1, b2 } = s;
  for (let o = 0; o < n; o++) {
    const ix = Ix[o]!;
    const iy = Iy[o]!;
    const u = du[o]!;
    const v = dv[o]!;
    let norm = ix * ix + iy * iy + ZETA2;
    const ez = Iz[o]! + ix * u + iy * v;
    let wt = delta2 / Math.sqrt((ez * ez) / norm + EPS2) / norm;
    let A11 = wt * ix * ix + ZETA2;
    let A12 = wt * ix * iy;
    let A22 = wt * iy * iy + ZETA2;
    let B1 = -wt * Iz[o]! * ix;
    let B2 = -wt * Iz[o]! * iy;
    const ixx = Ixx[o]!;
    const ixy = Ixy[o]!;
    const iyy = Iyy[o]!;
    norm = ixx * ixx + ixy * ixy + ZETA2;
    const norm2 = iyy * iyy + ixy * ixy + ZETA2;
    const ex = Ixz[o]! + ixx * u + ixy * v;
    const ey = Iyz[o]! + ixy * u + iyy * v;
    wt = gamma2 / Math.sqrt((ex * ex) / norm + (ey * ey) / norm2 + EPS2);
    A11 += wt * ((ixx * ixx) / norm + (ixy * ixy) / norm2);
    A12 += wt * ((ixx * ixy) / norm + (ixy * iyy) / norm2);
    A22 += wt * ((ixy * ixy) / norm + (iyy * iyy) / norm2);
    B1 -= wt * ((ixx * Ixz[o]!) / norm + (ixy * Iyz[o]!) / norm2);
    B2 -= wt * ((ixy * Ixz[o]!) / norm + (iyy * Iyz[o]!) / norm2);
    a11[o] = A11;
    a12[o] = A12;
    a22[o] = A22;
    b1[o] = B1;
    b2[o] = B2;
  }
}

/** Smoothness weight of pixel (x, y): forward differences of the flow U + du, V + dv. */
function smoothAt(
  U: Float32Array,
  V: Float32Array,
  s: RefineScratch,
  w: number,
  h: number,
  alpha2: number,
  x: number,
  y: number,
): void {
  const { du, dv, smooth } = s;
  const o = y * w + x;
  const u = U[o]! + du[o]!;
  const v = V[o]! + dv[o]!;
  let ux = 0;
  let vx = 0;
  let uy = 0;
  let vy = 0;
  if (x < w - 1) {
    ux = U[o + 1]! + du[o + 1]! - u;
    vx = V[o + 1]! + dv[o + 1]! - v;
  }
  if (y < h - 1) {
    uy = U[o + w]! + du[o + w]! - u;
    vy = V[o + w]! + dv[o + w]! - v;
  }
  smooth[o] = alpha2 / Math.sqrt(ux * ux + uy * uy + vx * vx + vy * vy + EPS2);
}

/** Pixel (x, y)'s SOR denominators and right-hand sides (the neighbours' flow, fixed per sweep). */
function rhsAt(
  U: Float32Array,
  V: Float32Array,
  s: RefineScratch,
  w: number,
  h: number,
  x: number,
  y: number,
): void {
  const { smooth, a11, a22, b1, b2, inv11, inv22, rhsU, rhsV } = s;
  const o = y * w + x;
  const wu = U[o]!;
  const wv = V[o]!;
  let sw = 0;
  let su = 0;
  let sv = 0;
  if (x > 0) {
    const c = smooth[o - 1]!;
    sw += c;
    su += c * (U[o - 1]! - wu);
    sv += c * (V[o - 1]! - wv);
  }
  if (x < w - 1) {
    const c = smooth[o]!;
    sw += c;
    su += c * (U[o + 1]! - wu);
    sv += c * (V[o + 1]! - wv);
  }
  if (y > 0) {
    const c = smooth[o - w]!;
    sw += c;
    su += c * (U[o - w]! - wu);
    sv += c * (V[o - w]! - wv);
  }
  if (y < h - 1) {
    const c = smooth[o]!;
    sw += c;
    su += c * (U[o + w]! - wu);
    sv += c * (V[o + w]! - wv);
  }
  inv11[o] = OMEGA / (a11[o]! + sw);
  inv22[o] = OMEGA / (a22[o]! + sw);
  rhsU[o] = b1[o]! + su;
  rhsV[o] = b2[o]! + sv;
}

/** The TypeScript red-black SOR sweeps (what refine-kernel.wat's `sor` does on colour planes). */
function sorSweeps(w: number, h: number, s: RefineScratch): void {
  const { du, dv, rhsU, rhsV, inv11, inv22, a12, smooth } = s;
  for (let it = 0; it < SOR_ITERATIONS; it++) {
    for (let color = 0; color < 2; color++) {
      for (let y = 0; y < h; y++) {
        const top = y > 0;
        const bottom = y < h - 1;
        for (let x = (y + color) & 1, o = y * w + x; x < w; x += 2, o += 2) {
          let su = rhsU[o]!;
          let sv = rhsV[o]!;
          if (x > 0) {
            const c = smooth[o - 1]!;
            su += c * du[o - 1]!;
            sv += c * dv[o - 1]!;
          }
          if (x < w - 1) {
            const c = smooth[o]!;
            su += c * du[o + 1]!;
            sv += c * dv[o + 1]!;
          }
          if (top) {
            const c = smooth[o - w]!;
            su += c * du[o - w]!;
            sv += c * dv[o - w]!;
          }
          if (bottom) {
            const c = smooth[o]!;
            su += c * du[o + w]!;
            sv += c * dv[o + w]!;
          }
          const u = (1 - OMEGA) * du[o]! + (su - a12[o]! * dv[o]!) * inv11[o]!;
          du[o] = u;
          dv[o] = (1 - OMEGA) * dv[o]! + (sv - a12[o]! * u) * inv22[o]!;
        }
      }
    }
  }
}

/**
 * Variational refinement of a dense flow (the energy of Brox et al. with the robust penaliser
 * and the normalised data terms of the DIS paper's refinement): colour and gradient constancy,
 * linearised once around the current flow, plus a robust smoothness term, minimised by
 * fixed-point iterations each solved with a few SOR sweeps. Refines `Ux`, `Uy` in place.
 */
export function refine(
  L0: PyramidLevel,
  L1: PyramidLevel,
  Ux: Float32Array,
  Uy: Float32Array,
  p: RefineParams,
  s: RefineScratch,
): void {
  const { width: w, height: h, image: I0 } = L0;
  const n = w * h;
  const I1 = L1.bordered;
  const we = w + 2 * BORDER;
  const { Ix, Iy, Iz, Ixx, Ixy, Iyy, Ixz, Iyz, du, dv, tmp } = s;
  // Warp I1 by the current flow (bilinear, replicated edges); average it with I0 for derivatives.
  const maxY = h + BORDER - 1.001;
  const maxX = w + BORDER - 1.001;
  for (let y = 0, o = 0; y < h; y++) {
    for (let x = 0; x < w; x++, o++) {
      let py = y + Uy[o]! + BORDER;
      py = py < 0 ? 0 : py > maxY ? maxY : py;
      let px = x + Ux[o]! + BORDER;
      px = px < 0 ? 0 : px > maxX ? maxX : px;
      const fy = Math.floor(py);
      const fx = Math.floor(px);
      const ay = py - fy;
      const ax = px - fx;
      const q = fy * we + fx;
      const top = I1[q]! + ax * (I1[q + 1]! - I1[q]!);
      const bot = I1[q + we]! + ax * (I1[q + we + 1]! - I1[q + we]!);
      const warped = top + ay * (bot - top);
      Iz[o] = warped - I0[o]!;
      tmp[o] = (warped + I0[o]!) * 0.5;
    }
  }
  gradients(tmp, w, h, Ix, Iy);
  gradients(Iz, w, h, Ixz, Iyz);
  gradients(Ix, w, h, Ixx, Ixy);
  gradients(Iy, w, h, null, Iyy);
  du.fill(0, 0, n);
  dv.fill(0, 0, n);
  const delta2 = p.delta / 2;
  const gamma2 = p.gamma / 2;
  const alpha2 = p.alpha / 2;
  const k = s.kernel;
  // The kernel reads the flow from its own memory.
  const U = k === null ? Ux : s.U;
  const V = k === null ? Uy : s.V;
  if (k !== null) {
    U.set(Ux.subarray(0, n));
    V.set(Uy.subarray(0, n));
  }
  for (let fp = 0; fp < p.iterations; fp++) {
    // Data terms, with robust weights from the current increment.
    if (k !== null) k.data(delta2, gamma2);
    else dataTerms(n, delta2, gamma2, s);
    // Smoothness weights from forward differences of the whole flow (0 past the edges); the
    // kernel does the rows above the last but their last pixel.
    if (k !== null) {
      k.smooth((h - 1) * w, w, alpha2);
      for (let y = 0; y < h - 1; y++) smoothAt(U, V, s, w, h, alpha2, w - 1, y);
      for (let x = 0; x < w; x++) smoothAt(U, V, s, w, h, alpha2, x, h - 1);
    } else {
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) smoothAt(U, V, s, w, h, alpha2, x, y);
    }
    // What the sweeps do not change, once: the denominators and the right-hand sides with the
    // neighbours' current flow (each pixel balances its data term against its four neighbours').
    // The kernel does the inner rows; the edge pixels here.
    if (k !== null && h > 2) {
      k.rhs(w, (h - 1) * w, w, OMEGA);
      for (let x = 0; x < w; x++) {
        rhsAt(U, V, s, w, h, x, 0);
        rhsAt(U, V, s, w, h, x, h - 1);
      }
      for (let y = 1; y < h - 1; y++) {
        rhsAt(U, V, s, w, h, 0, y);
        rhsAt(U, V, s, w, h, w - 1, y);
      }
    } else {
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rhsAt(U, V, s, w, h, x, y);
    }
    // SOR sweeps, red-black: pixels with x + y even, then odd (a pixel's neighbours are all of
    // the other colour, which lets the WebAssembly kernel update four at once; same order here).
    if (k !== null) k.sor(SOR_ITERATIONS, OMEGA);
    else sorSweeps(w, h, s);
  }
  for (let o = 0; o < n; o++) {
    Ux[o] = Ux[o]! + du[o]!;
    Uy[o] = Uy[o]! + dv[o]!;
  }
}

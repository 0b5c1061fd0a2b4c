import { cloneFrame, type Frame, invalidRangeError, invalidTypeError, withTimingOf } from '@framecraft/core';
import { consistencyMask, DisFlow, type DisPreset, type FlowImage, frameLuma } from '@framecraft/flow';
import { SceneCutDetector, type SceneCutOptions, type SceneCutState } from './scene-cut.ts';
import { StabilizerArena } from './stabilizer-kernel.ts';

/** Options of {@link FlowStabilizer.create}. */
export interface FlowStabilizerOptions {
  /**
   * Weight of the motion-compensated history where it is kept, 0 to 1; 1 by default (the kept
   * texture exactly as it was painted; below 1 a share of each new frame shows through).
   */
  readonly strength?: number;
  /**
   * Luma difference (code values) between the input at a pixel and the input where its history
   * came from, at which the pixel starts over from the new stylized frame: content and lighting
   * changes come through, and flow errors that add up over frames are caught. 12 by default.
   */
  readonly errorThreshold?: number;
  /**
   * Frames any output depends on at most (an even number, 4–240; 24 by default). Two histories
   * restart in turn every `history / 2` frames at fixed frame numbers and dissolve into each
   * other, so a render that starts `history` frames early (chunk pre-roll) gives exactly the
   * frames of one that ran from the start. Memory: `history` stylized frames and their luma.
   */
  readonly history?: number;
  /** Optical flow preset (`fast` by default). */
  readonly preset?: DisPreset;
  /**
   * Mark pixels hidden in the previous frame with the forward–backward check (on by default);
   * `false` skips the forward flow and leaves occlusions to the input check alone: about 30 % less
   * time, and on the four bench clips the same warping error and texture (friday 0.34× instead of
   * 0.40× per-frame), but an occluder of about the background's brightness can then carry the
   * background's texture along.
   */
  readonly occlusionCheck?: boolean;
  /**
   * `full` (default) or `half`: the flow's finest level one step coarser. At 1080p (neural,
   * flower and car-detection, 12 frames) half cut the stage from 1022 to 831 and 853 to 618 ms a
   * frame but raised the warping error by 46 % and 15 %, so it is not the default.
   */
  readonly flowResolution?: 'full' | 'half';
  /**
   * Scene-cut reset; on by default, with `minGap` 0 (each cut decided from its two frames alone,
   * which keeps pre-roll exact). `false` turns it off.
   */
  readonly sceneCut?: SceneCutOptions | false;
}

/** Where each pixel of a history comes from: a stored frame's number and a position in it. */
export interface HistorySource {
  readonly frameNo: Int32Array;
  /** Interleaved (x, y). */
  readonly coord: Float32Array;
}

function restartChain(chain: HistorySource, index: number, w: number, h: number): void {
  chain.frameNo.fill(index);
  for (let y = 0, i = 0; y < h; y++) {
    for (let x = 0; x < w; x++, i++) {
      chain.coord[2 * i] = x;
      chain.coord[2 * i + 1] = y;
    }
  }
}

/** Exported state (structured-clone friendly). */
export interface FlowStabilizerState {
  readonly index: number;
  readonly input: { readonly width: number; readonly height: number };
  /** The stylized frames the histories draw from, frame number n in slot n mod history. */
  readonly ring: readonly Frame[];
  /** The input luma of the frames in `ring`, tight rows. */
  readonly ringLuma: readonly Uint8Array[];
  readonly chains: readonly [HistorySource, HistorySource];
  readonly sceneCut: SceneCutState | null;
}

/** Radius (pixels) of the box filter that feathers where a history is kept. */
const FEATHER = 1;
/**
 * Radius (pixels) of the neighbourhood that decides whether a pixel keeps its history, and the
 * share of it that must still match its source.
 */
const ERROR_REGION = 2;
const KEEP_SHARE = 0.5;
/**
 * Radius (pixels) of the region that starts over whole when most of it no longer matches its
 * source: a moving object is then painted anew in one piece rather than as a patchwork of
 * textures from different frames.
 */
const OBJECT_REGION = 8;
/** Radius (pixels) of the box filter over the flow the histories follow. */
const FLOW_SMOOTHING = 4;

const STYLED_FORMATS = new Set(['gray8', 'yuv420p', 'yuv422p', 'yuv444p', 'rgb24', 'rgba']);

/** Cell size (pixels) of the dissolve's noise field. */
const DISSOLVE_CELL = 24;

/**
 * A smooth fixed noise field in [0.125, 0.875] (value noise on a DISSOLVE_CELL grid, ranked so its
 * values are spread evenly): where each pixel's cross-fade happens.
 */
function dissolveField(w: number, h: number): Float32Array<ArrayBuffer> {
  const gw = Math.ceil(w / DISSOLVE_CELL) + 2;
  const gh = Math.ceil(h / DISSOLVE_CELL) + 2;
  const grid = new Float32Array(gw * gh);
  for (let i = 0; i < grid.length; i++) {
    let x = Math.imul(i + 1, 0x9e3779b1) >>> 0;
    x = Math.imul(x ^ (x >>> 15), 0x85ebca6b) >>> 0;
    x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
    grid[i] = ((x ^ (x >>> 16)) >>> 0) / 4294967296;
  }
  const field = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const gy = y / DISSOLVE_CELL;
    const iy = Math.floor(gy);
    const ty = gy - iy;
    const sy = ty * ty * (3 - 2 * ty);
    for (let x = 0; x < w; x++) {
      const gx = x / DISSOLVE_CELL;
      const ix = Math.floor(gx);
      const tx = gx - ix;
      const sx = tx * tx * (3 - 2 * tx);
      const a = grid[iy * gw + ix]! + sx * (grid[iy * gw + ix + 1]! - grid[iy * gw + ix]!);
      const b = grid[(iy + 1) * gw + ix]! + sx * (grid[(iy + 1) * gw + ix + 1]! - grid[(iy + 1) * gw + ix]!);
      field[y * w + x] = a + sy * (b - a);
    }
  }
  // Equalize the values (a 4096-bin histogram) so that every part of the fade moves the same
  // share of the frame.
  const bins = new Uint32Array(4096);
  for (const v of field) bins[Math.min(4095, Math.floor(v * 4096))]!++;
  for (let b = 1; b < 4096; b++) bins[b]! += bins[b - 1]!;
  for (let i = 0; i < field.length; i++)
    field[i] = 0.125 + (0.75 * bins[Math.min(4095, Math.floor(field[i]! * 4096))]!) / field.length;
  return field;
}

/**
 * Temporal coherence that follows motion (after Ruder et al. 2016 and Lai et al. 2018): each
 * output pixel keeps the stylized texture it had, moved along the optical flow of the *input*
 * frames, for as long as the input there is still what it was where that texture was painted
 * (forward–backward check, input luma at the source); occluded and disoccluded pixels and pixels
 * whose input changed take the new stylized frame. The histories point into the stylized frames
 * they came from (frame number and sub-pixel position per pixel) and are drawn once per output
 * frame, so textures move with the content without blurring, sliding or double exposure. Memory
 * is finite (see {@link FlowStabilizerOptions.history}) and scene cuts start over.
 *
 * @example
 * ```ts
 * const stab = FlowStabilizer.create()
 * let i = 0
 * for await (const frame of reader.frames()) {
 *   const styled = await style.process(frame)
 *   await writer.write(stab.process(frame, styled, i++))
 * }
 * ```
 */
export class FlowStabilizer {
  /**
   * The look of its output, raised when the same inputs give other pixels (renders hash it, so
   * chunks of two looks are never mixed). 2: histories drawn with Lanczos-3 instead of
   * Catmull–Rom, positions clamped in the source check, the flow's inner loops in SIMD.
   */
  static readonly version: number = 2;
  readonly strength: number;
  readonly errorThreshold: number;
  readonly history: number;
  readonly flowResolution: 'full' | 'half';
  readonly occlusionCheck: boolean;
  readonly #full: DisFlow;
  readonly #half: DisFlow;
  #dis: DisFlow;
  readonly #cuts: SceneCutDetector | null;
  #index = -2;
  #prev: FlowImage | null = null;
  #spare: FlowImage | undefined = undefined;
  #lumaScratch: Uint8Array | undefined = undefined;
  #geometry: { width: number; height: number; format: string } | null = null;
  #ring: Frame[] = [];
  #ringLuma: Uint8Array[] = [];
  #coarse = new Float32Array(0);
  #chains: [HistorySource, HistorySource] = [
    { frameNo: new Int32Array(0), coord: new Float32Array(0) },
    { frameNo: new Int32Array(0), coord: new Float32Array(0) },
  ];
  #next: HistorySource = { frameNo: new Int32Array(0), coord: new Float32Array(0) };
  #kept: [Float32Array, Float32Array] = [new Float32Array(0), new Float32Array(0)];
  #out: Frame | null = null;
  #arena: StabilizerArena | null = null;
  #fwd = new Float32Array(0);
  #follow = new Float32Array(0);
  #mask = new Uint8Array(0);
  #tau = new Float32Array(0);
  #scratch = new Float32Array(0);
  #slots = new Int32Array(0);
  #columns = new Float64Array(0);
  /** True when the last frame started over (first frame, scene cut, a gap in frame numbers). */
  lastWasReset = false;
  /** Share of the last frame's pixels whose history was kept (0–1), for logs and tests. */
  lastReliable = 0;

  private constructor(
    o: Required<Omit<FlowStabilizerOptions, 'sceneCut' | 'preset'>>,
    full: DisFlow,
    cuts: SceneCutDetector | null,
  ) {
    this.strength = o.strength;
    this.errorThreshold = o.errorThreshold;
    this.history = o.history;
    this.flowResolution = o.flowResolution;
    this.occlusionCheck = o.occlusionCheck;
    this.#full = full;
    this.#half = DisFlow.create({ preset: full.preset, finestScale: full.finestScale + 1 });
    this.#dis = full;
    this.#cuts = cuts;
  }

  /**
   * Create a stabilizer.
   *
   * @param options - Strength, error threshold, history length, flow preset, scene cuts.
   * @returns The stabilizer.
   * @throws {RangeError} For options out of range.
   */
  static create(options: FlowStabilizerOptions = {}): FlowStabilizer {
    const strength = options.strength ?? 1;
    if (!(strength >= 0 && strength <= 1))
      throw invalidRangeError('a number in [0, 1]', 'options.strength', strength);
    const errorThreshold = options.errorThreshold ?? 12;
    if (!(errorThreshold > 0 && errorThreshold <= 255))
      throw invalidRangeError('a number in (0, 255]', 'options.errorThreshold', errorThreshold);
    const history = options.history ?? 24;
    if (!Number.isInteger(history) || history < 4 || history > 240 || history % 2 !== 0)
      throw invalidRangeError('an even whole number in [4, 240]', 'options.history', history);
    const flowResolution = options.flowResolution ?? 'full';
    if (flowResolution !== 'full' && flowResolution !== 'half')
      throw invalidRangeError("'full' or 'half'", 'options.flowResolution', flowResolution);
    const dis = DisFlow.create({ preset: options.preset ?? 'fast' });
    // Cuts are decided from each pair of frames alone (minGap 0 unless asked): a minimum gap makes
    // a decision depend on earlier cuts, without bound, and pre-roll could then not be exact.
    const cuts =
      options.sceneCut === false ? null : SceneCutDetector.create({ minGap: 0, ...options.sceneCut });
    const occlusionCheck = options.occlusionCheck ?? true;
    return new FlowStabilizer(
      { strength, errorThreshold, history, flowResolution, occlusionCheck },
      dis,
      cuts,
    );
  }

  /**
   * Stabilize one stylized frame.
   *
   * @param input - The source frame it was stylized from (gray8, 8-bit YUV, rgb24 or rgba).
   * @param styled - The stylized frame (gray8, 8-bit YUV, rgb24 or rgba), same size.
   * @param index - The frame's number in the video: the histories restart at fixed numbers, and a
   *   number that does not follow the previous one starts over.
   * @param out - A frame of the styled frame's size and format to write into; an internal one
   *   (valid until the next call) by default.
   * @returns The stabilized frame, with the styled frame's timing.
   * @throws {TypeError} For unsupported formats.
   * @throws {RangeError} When input and styled frame differ in size, or for a negative index.
   */
  process(input: Frame, styled: Frame, index: number, out?: Frame): Frame {
    if (!STYLED_FORMATS.has(styled.format))
      throw invalidTypeError('a gray8, 8-bit YUV, rgb24 or rgba frame', 'styled.format', styled.format);
    if (input.width !== styled.width || input.height !== styled.height)
      throw invalidRangeError(
        `a ${input.width}x${input.height} stylized frame (the input's size)`,
        'styled',
        `${styled.width}x${styled.height}`,
      );
    if (!Number.isInteger(index) || index < 0) throw invalidRangeError('a whole number >= 0', 'index', index);
    const { width: w, height: h } = input;
    const luma = frameLuma(input, this.#lumaScratch);
    if (luma.data !== input.planes[0]!.data) this.#lumaScratch = luma.data;
    const cut = this.#cuts?.process(input) ?? false;
    const g = this.#geometry;
    const sameGeometry = g !== null && g.width === w && g.height === h && g.format === styled.format;
    const fresh = cut || this.#prev === null || !sameGeometry || index !== this.#index + 1;
    if (!sameGeometry) this.#allocate(styled);
    const cur = this.#dis.prepare(luma, this.#spare);
    // Composited in the arena's output frame, then copied when the caller gave one.
    const own = this.#out!;
    const target = out ?? own;
    const H = this.history;
    // Slot index mod H held frame index − H, which no history reaches any more (each restarts
    // within H frames).
    cloneFrame(styled, this.#ring[index % H]!);
    // Ring slot of each frame number a history can hold (index − H … index): no division per pixel.
    for (let k = 0; k <= H; k++) this.#slots[k] = (((index - H + k) % H) + H) % H;
    const stride = luma.stride ?? w;
    const slot = this.#ringLuma[index % H]!;
    for (let y = 0; y < h; y++) slot.set(luma.data.subarray(y * stride, y * stride + w), y * w);
    if (fresh) {
      for (const chain of this.#chains) restartChain(chain, index, w, h);
      cloneFrame(styled, target);
      this.lastReliable = 0;
    } else {
      // The flows averaged over a (2·FLOW_SMOOTHING + 1)² box: DIS's patch flow is noisy in
      // blocks on flat, noisy areas (a road under codec noise); followed frame after frame that
      // noise walked the history about, and its forward–backward check failed in blocks, so
      // rectangles of new style appeared in the old.
      const follow = this.#follow;
      this.#dis.calc(cur, this.#prev!, follow);
      this.#blur(follow, FLOW_SMOOTHING, 2);
      if (!this.occlusionCheck) this.#mask.fill(255);
      else {
        this.#dis.calc(this.#prev!, cur, this.#fwd);
        this.#blur(this.#fwd, FLOW_SMOOTHING, 2);
        consistencyMask(follow, this.#fwd, w, h, this.#mask);
      }
      const half = H / 2;
      let kept = 0;
      for (let c = 0; c < 2; c++) {
        const chain = this.#chains[c]!;
        const keep = this.#kept[c]!;
        // Chain c restarts at frames c·half, c·half + history, …: fixed numbers, wherever a chunk starts.
        if ((index - c * half) % H === 0) {
          restartChain(chain, index, w, h);
          keep.fill(0);
          continue;
        }
        this.#arena!.follow(chain, follow, this.#next);
        kept = Math.max(kept, this.#update(chain, slot, index, keep));
        this.#blur(keep, FEATHER, 1);
      }
      this.lastReliable = kept;
      // Dissolve: each chain weighs min(age, history − age) / half, so the two weights sum to 1
      // and a chain is faded out before it restarts and faded in as it matures.
      const age = index % H;
      const kA = Math.min(age, H - age) / half;
      const [wA, wB] = this.#kept;
      const dA = this.#dissolve(kA, w, h);
      const s = this.strength;
      for (let i = 0; i < w * h; i++) {
        wA[i] = s * dA[i]! * wA[i]!;
        wB[i] = s * (1 - dA[i]!) * wB[i]!;
      }
      this.#arena!.composite(
        this.#ring,
        this.#slots,
        index - H,
        index % H,
        this.#chains[0],
        this.#chains[1],
        wA,
        wB,
        own,
      );
      if (target !== own) cloneFrame(own, target);
    }
    this.#spare = this.#prev ?? undefined;
    this.#prev = cur;
    this.#index = index;
    this.lastWasReset = fresh;
    return withTimingOf(target, styled, true);
  }

  /**
   * Move a history one frame on: a pixel keeps its source (as `#next` says after following the
   * flow) where the forward–backward check passes and the current luma is within
   * `errorThreshold` of the input luma at the source (bilinear); the rest start over from this
   * frame. Comparing with the source, not only with the previous frame, catches flow errors
   * that add up (a grating whose motion is ambiguous along its lines drifted 5 px in 16 frames
   * with a one-frame check). Writes 1 / 0 per pixel into `keep`; returns the share kept.
   */
  #update(chain: HistorySource, cur: Uint8Array, index: number, keep: Float32Array): number {
    const next = this.#next;
    // Whether the input is still what it was at the source, per pixel, then the majority over a
    // neighbourhood: decided per pixel alone, film grain restarted single pixels at random and
    // the texture broke up into specks (averaging the difference instead restarted whole
    // neighbourhoods of moving edges: E_warp 2–3× higher).
    const ok = keep;
    const arena = this.#arena!;
    arena.check(
      next,
      this.#ringLuma,
      this.#slots,
      index - this.history,
      this.#mask,
      cur,
      this.errorThreshold,
      ok,
    );
    const coarse = this.#coarse;
    coarse.set(ok);
    this.#blur(coarse, OBJECT_REGION, 1);
    this.#blur(ok, ERROR_REGION, 1);
    const kept = arena.commit(chain, next, ok, coarse, KEEP_SHARE, index, keep);
    return kept / (arena.width * arena.height);
  }

  /** Box blur of radius `r` of `ch` interleaved channels of a field of this size, in place. */
  #blur(data: Float32Array, r: number, ch: number): void {
    this.#arena!.blur(data, r, ch, this.#scratch, this.#columns);
  }

  /** Buffers for one geometry: the ring of stored frames and luma, two histories, flows. */
  #allocate(styled: Frame): void {
    const { width: w, height: h, format } = styled;
    const n = w * h;
    this.#geometry = { width: w, height: h, format };
    this.#dis = this.flowResolution === 'half' ? this.#half : this.#full;
    this.#prev = null;
    this.#spare = undefined;
    // What the kernels read and write lives in one WebAssembly memory: the ring of stylized
    // frames and of their luma (each laid out one after another), the output frame, the
    // histories, their weights, the table of ring slots, flows, masks and scratch.
    const H = this.history;
    const { arena, arrays: a } = StabilizerArena.create(w, h, (l) => ({
      ring: Array.from({ length: H }, () => l.frame(format)),
      out: l.frame(format),
      chains: [
        { frameNo: l.i32(n), coord: l.f32(2 * n) },
        { frameNo: l.i32(n), coord: l.f32(2 * n) },
      ] as [HistorySource, HistorySource],
      kept: [l.f32(n), l.f32(n)] as [Float32Array, Float32Array],
      slots: l.i32(H + 1),
      ringLuma: Array.from({ length: H }, () => l.u8(n)),
      coarse: l.f32(n),
      next: { frameNo: l.i32(n), coord: l.f32(2 * n) },
      follow: l.f32(2 * n),
      mask: l.u8(n),
      fwd: l.f32(2 * n),
      scratch: l.f32(2 * n),
      columns: l.f64(2 * w),
    }));
    this.#arena = arena;
    this.#ring = a.ring;
    this.#out = a.out;
    this.#chains = a.chains;
    this.#kept = a.kept;
    this.#slots = a.slots;
    this.#ringLuma = a.ringLuma;
    this.#coarse = a.coarse;
    this.#next = a.next;
    this.#follow = a.follow;
    this.#mask = a.mask;
    this.#fwd = a.fwd;
    this.#scratch = a.scratch;
    this.#columns = a.columns;
    this.#tau = dissolveField(w, h);
  }

  /**
   * The cross-fade as a dissolve: each region of the frame passes from one history to the other
   * over about a quarter of the fade, at a moment set by a smooth fixed noise field, instead of the
   * whole frame being a blend of two textures half-way through (a double exposure on every frame
   * of the fade). The weights depend only on `k` and the position, so pre-roll stays exact.
   */
  #dissolve(k: number, w: number, h: number): Float32Array {
    const tau = this.#tau;
    const out = this.#scratch;
    for (let i = 0; i < w * h; i++) {
      const v = (k - tau[i]!) * 4 + 0.5;
      out[i] = v <= 0 ? 0 : v >= 1 ? 1 : v;
    }
    return out;
  }

  /**
   * Stabilize a stream of (input, stylized) pairs numbered from `first`; each output frame is
   * valid until the next is requested.
   *
   * @param pairs - The source frames with their stylized versions.
   * @param first - The number of the first frame.
   * @returns The stabilized frames.
   */
  async *transform(
    pairs: AsyncIterable<readonly [Frame, Frame]>,
    first = 0,
  ): AsyncGenerator<Frame, void, undefined> {
    let i = first;
    for await (const [input, styled] of pairs) yield this.process(input, styled, i++);
  }

  /** Start over (the next frame passes through unchanged). */
  reset(): void {
    this.#prev = null;
    this.#index = -2;
    this.#cuts?.reset();
  }

  /**
   * Export the state, for a render that resumes mid-chunk.
   *
   * @returns A copy of the state (null before the first frame).
   */
  exportState(): FlowStabilizerState | null {
    if (this.#prev === null || this.#geometry === null) return null;
    return {
      index: this.#index,
      input: { width: this.#geometry.width, height: this.#geometry.height },
      ring: this.#ring.map((f) => cloneFrame(f)),
      ringLuma: this.#ringLuma.map((l) => l.slice()),
      chains: [
        { frameNo: this.#chains[0].frameNo.slice(), coord: this.#chains[0].coord.slice() },
        { frameNo: this.#chains[1].frameNo.slice(), coord: this.#chains[1].coord.slice() },
      ],
      sceneCut: this.#cuts?.exportState() ?? null,
    };
  }

  /**
   * Continue from an exported state: the next frame must be number `state.index + 1`.
   *
   * @param state - From {@link FlowStabilizer.exportState}, of a stabilizer with the same history.
   * @throws {RangeError} For a state of another history length.
   */
  restoreState(state: FlowStabilizerState | null): void {
    this.reset();
    if (state === null) return;
    if (state.ring.length !== this.history)
      throw invalidRangeError(
        `a state of a history of ${this.history}`,
        'state.ring',
        `${state.ring.length} frames`,
      );
    const { width, height } = state.input;
    this.#allocate(state.ring[0]!);
    for (const [k, f] of state.ring.entries()) cloneFrame(f, this.#ring[k]!);
    for (const [k, l] of state.ringLuma.entries()) this.#ringLuma[k]!.set(l);
    for (const [c, src] of state.chains.entries()) {
      this.#chains[c]!.frameNo.set(src.frameNo);
      this.#chains[c]!.coord.set(src.coord);
    }
    this.#prev = this.#dis.prepare({ data: this.#ringLuma[state.index % this.history]!, width, height });
    this.#index = state.index;
    if (state.sceneCut && this.#cuts) this.#cuts.restoreState(state.sceneCut);
  }
}

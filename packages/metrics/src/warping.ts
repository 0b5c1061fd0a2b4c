import {
  cloneFrame,
  createFrame,
  type Frame,
  invalidRangeError,
  invalidTypeError,
  pixelFormatInfo,
  planeGeometry,
} from '@framecraft/core';
import {
  consistencyMask,
  DisFlow,
  type DisPreset,
  type FlowImage,
  frameLuma,
  warpFrame,
} from '@framecraft/flow';

/** Options of {@link warpingError} and {@link WarpingErrorMeter.create}. */
export interface WarpingErrorOptions {
  /** DIS preset of the flow computed on the input frames; `fast` by default. */
  readonly preset?: DisPreset;
}

const FORMATS = new Set(['gray8', 'yuv420p', 'yuv422p', 'yuv444p', 'rgb24', 'rgba']);

/** Check two frames for formats the flow and the error read, and for equal sizes. */
function checkPair(a: Frame, aName: string, b: Frame, bName: string): void {
  for (const [f, name] of [
    [a, aName],
    [b, bName],
  ] as const)
    if (!FORMATS.has(f.format))
      throw invalidTypeError('a gray8, 8-bit YUV, rgb24 or rgba frame', `${name}.format`, f.format);
  if (a.width !== b.width || a.height !== b.height)
    throw invalidRangeError(
      `a ${a.width}x${a.height} frame (${aName}'s size)`,
      bName,
      `${b.width}x${b.height}`,
    );
}

/**
 * Mean squared difference (values scaled to [0, 1]) between two frames of one format over the
 * pixels `mask` marks (255), every channel of a pixel counted (for YUV: Y and its block's U, V).
 */
function maskedMse(a: Frame, b: Frame, mask: Uint8Array): number {
  const info = pixelFormatInfo(a.format);
  const c = info.components;
  const w = a.width;
  let sum = 0;
  let count = 0;
  const geometry = planeGeometry(a.format, a.width, a.height);
  for (let p = 0; p < geometry.length; p++) {
    const sx = info.yuv && p > 0 ? info.chromaShiftX : 0;
    const sy = info.yuv && p > 0 ? info.chromaShiftY : 0;
    const A = a.planes[p]!;
    const B = b.planes[p]!;
    for (let y = 0; y < a.height; y++) {
      const ra = (y >> sy) * A.stride;
      const rb = (y >> sy) * B.stride;
      for (let x = 0; x < w; x++) {
        if (mask[y * w + x] === 0) continue;
        const ia = ra + (x >> sx) * c;
        const ib = rb + (x >> sx) * c;
        for (let j = 0; j < c; j++) {
          const d = A.data[ia + j]! - B.data[ib + j]!;
          sum += d * d;
        }
        count += c;
      }
    }
  }
  return count === 0 ? 0 : sum / count / (255 * 255);
}

/**
 * Warping error (Lai et al., "Learning Blind Video Temporal Consistency", 2018): the optical flow
 * of the *input* frames moves the previous output onto the current one, and the error is the mean
 * squared difference (values in [0, 1], every channel) between the current output and the warped
 * previous one over the pixels the forward–backward check finds visible in both frames. 0 when the
 * output moves exactly as the input does; a style that repaints a still scene differently each
 * frame scores high. Unlike the flow-free {@link temporalConsistency}, a correctly moving texture
 * is not counted as change.
 *
 * For a video, {@link WarpingErrorMeter} computes each frame's pyramid once.
 *
 * @param prevOutput - O_{t−1} (gray8, 8-bit YUV, rgb24 or rgba).
 * @param output - O_t, same size and format.
 * @param prevInput - I_{t−1} (gray8, 8-bit YUV, rgb24 or rgba), same size.
 * @param input - I_t.
 * @param options - Flow preset.
 * @returns The error, in [0, 1].
 * @throws {TypeError} For unsupported formats or outputs of different formats.
 * @throws {RangeError} For frames of different sizes.
 */
export function warpingError(
  prevOutput: Frame,
  output: Frame,
  prevInput: Frame,
  input: Frame,
  options: WarpingErrorOptions = {},
): number {
  return InputMotion.between(prevInput, input, options).error(prevOutput, output);
}

/**
 * The motion between two input frames (backward flow and the forward–backward visibility mask),
 * computed once to score the warping error of many stylized versions of the pair — autotune's
 * candidates, for example.
 *
 * @example
 * ```ts
 * const motion = InputMotion.between(frameA, frameB)
 * for (const style of candidates) scores.push(motion.error(style(frameA), style(frameB)))
 * ```
 */
export class InputMotion {
  readonly width: number;
  readonly height: number;
  /** Flow from the second frame to the first (interleaved dx, dy). */
  readonly backward: Float32Array;
  /** 255 where the second frame's pixel is visible in the first. */
  readonly mask: Uint8Array;
  #warped: Frame | null = null;

  private constructor(width: number, height: number, backward: Float32Array, mask: Uint8Array) {
    this.width = width;
    this.height = height;
    this.backward = backward;
    this.mask = mask;
  }

  /**
   * Compute the motion from `prevInput` to `input`.
   *
   * @param prevInput - I_{t−1} (gray8, 8-bit YUV, rgb24 or rgba).
   * @param input - I_t, same size.
   * @param options - Flow preset.
   * @returns The motion.
   * @throws {TypeError} For unsupported formats.
   * @throws {RangeError} For frames of different sizes.
   */
  static between(prevInput: Frame, input: Frame, options: WarpingErrorOptions = {}): InputMotion {
    checkPair(prevInput, 'prevInput', input, 'input');
    const dis = DisFlow.create({ preset: options.preset ?? 'fast' });
    const a = dis.prepare(frameLuma(prevInput));
    const b = dis.prepare(frameLuma(input));
    const n = input.width * input.height;
    const back = dis.calc(b, a, new Float32Array(2 * n));
    const fwd = dis.calc(a, b, new Float32Array(2 * n));
    const mask = consistencyMask(back, fwd, input.width, input.height, new Uint8Array(n), {
      motionBoundaries: false,
    });
    return new InputMotion(input.width, input.height, back, mask);
  }

  /**
   * The warping error of a stylized version of the pair.
   *
   * @param prevOutput - O_{t−1}, the inputs' size.
   * @param output - O_t, same size and format.
   * @returns The error, in [0, 1].
   * @throws {TypeError} For unsupported formats or outputs of different formats.
   * @throws {RangeError} For frames of another size.
   */
  error(prevOutput: Frame, output: Frame): number {
    checkPair(prevOutput, 'prevOutput', output, 'output');
    if (output.width !== this.width || output.height !== this.height)
      throw invalidRangeError(
        `a ${this.width}x${this.height} frame (the inputs' size)`,
        'output',
        `${output.width}x${output.height}`,
      );
    if (prevOutput.format !== output.format)
      throw invalidTypeError(
        `a ${output.format} frame (the output's format)`,
        'prevOutput.format',
        prevOutput.format,
      );
    const w = this.#warped;
    if (w === null || w.format !== output.format)
      this.#warped = createFrame({ width: this.width, height: this.height, format: output.format });
    warpFrame(prevOutput, this.backward, this.#warped!);
    return maskedMse(output, this.#warped!, this.mask);
  }
}

/**
 * The warping error of consecutive frames of a video (see {@link warpingError}): feed every frame
 * in order; each frame's flow pyramid is built once and used for both pairs it belongs to, and the
 * buffers are reused (nothing allocated per frame at a fixed size).
 *
 * @example
 * ```ts
 * const meter = WarpingErrorMeter.create()
 * for (const [i, { input, output }] of frames.entries()) {
 *   const e = meter.next(input, output, i) // null for the first frame
 * }
 * ```
 */
export class WarpingErrorMeter {
  readonly #dis: DisFlow;
  #prev: { image: FlowImage; output: Frame; index: number } | null = null;
  #spare: FlowImage | undefined;
  #luma: Uint8Array | undefined;
  #back = new Float32Array(0);
  #fwd = new Float32Array(0);
  #mask = new Uint8Array(0);
  #warped: Frame | null = null;

  private constructor(dis: DisFlow) {
    this.#dis = dis;
  }

  /**
   * Create a meter.
   *
   * @param options - Flow preset.
   * @returns The meter.
   * @throws {RangeError} For an unknown preset.
   */
  static create(options: WarpingErrorOptions = {}): WarpingErrorMeter {
    return new WarpingErrorMeter(DisFlow.create({ preset: options.preset ?? 'fast' }));
  }

  /**
   * Take the next frame.
   *
   * @param input - The source frame.
   * @param output - Its stylized version (copied: the caller may reuse the buffer).
   * @param index - The frame's number in the video.
   * @param measure - When false, only keep the frame for the next one (no flow computed).
   * @returns The warping error against frame `index − 1`, or null when that frame was not the
   *   previous one given (the first frame, a gap) or `measure` is false.
   * @throws {TypeError} For unsupported formats.
   * @throws {RangeError} For frames of different sizes.
   */
  next(input: Frame, output: Frame, index: number, measure = true): number | null {
    checkPair(input, 'input', output, 'output');
    const prev = this.#prev;
    const sameShape =
      prev !== null &&
      prev.output.format === output.format &&
      prev.output.width === output.width &&
      prev.output.height === output.height;
    const follows = sameShape && prev.index === index - 1;
    const luma = frameLuma(input, this.#luma);
    if (luma.data !== input.planes[0]!.data) this.#luma = luma.data;
    const image = this.#dis.prepare(luma, this.#spare);
    let error: number | null = null;
    if (follows && measure) {
      const n = input.width * input.height;
      if (this.#back.length !== 2 * n) {
        this.#back = new Float32Array(2 * n);
        this.#fwd = new Float32Array(2 * n);
        this.#mask = new Uint8Array(n);
      }
      this.#dis.calc(image, prev.image, this.#back);
      this.#dis.calc(prev.image, image, this.#fwd);
      consistencyMask(this.#back, this.#fwd, input.width, input.height, this.#mask, {
        motionBoundaries: false,
      });
      const w = this.#warped;
      if (w === null || w.width !== output.width || w.height !== output.height || w.format !== output.format)
        this.#warped = createFrame({ width: output.width, height: output.height, format: output.format });
      warpFrame(prev.output, this.#back, this.#warped!);
      error = maskedMse(output, this.#warped!, this.#mask);
    }
    // Keep this frame for the next (the output copied into the previous one's buffer when it fits).
    this.#spare = prev?.image;
    this.#prev = { image, output: cloneFrame(output, sameShape ? prev.output : undefined), index };
    return error;
  }

  /** Forget the previous frame. */
  reset(): void {
    this.#prev = null;
  }
}

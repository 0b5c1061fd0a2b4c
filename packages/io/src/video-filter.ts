import { cloneFrame, type Frame, invalidTypeError } from '@framecraft/core';
import type { FilterAPI } from 'node-av/api';
import type { Frame as AvFrame } from 'node-av/lib';
import { loadNodeAv, type NodeAv } from './binding.ts';
import {
  avPixelFormatName,
  copyIntoAvFrame,
  pixelFormatFromAv,
  pixelFormatToAv,
  reusableAvFrame,
  setAvColor,
  wrapAvFrame,
} from './convert.ts';

/** Options of {@link VideoFilter.create}. */
export interface VideoFilterOptions {
  /** Filter threads; 0 (default) lets FFmpeg choose. */
  readonly threads?: number;
}

/**
 * Run an FFmpeg filter graph in-process on Framecraft frames (for example `lut3d=file=grade.cube`,
 * `gblur=sigma=4`, `format=gray`). Frames out own their memory.
 *
 * @example
 * ```ts
 * using blur = await VideoFilter.create('gblur=sigma=3')
 * const [soft] = blur.process(frame)
 * ```
 */
export class VideoFilter implements Disposable {
  /** The filter graph description. */
  readonly description: string;
  readonly #av: NodeAv;
  readonly #api: FilterAPI;
  #input: AvFrame | undefined;
  #closed = false;

  private constructor(description: string, av: NodeAv, api: FilterAPI) {
    this.description = description;
    this.#av = av;
    this.#api = api;
  }

  /**
   * Parse a filter graph description; it is configured from the first frame.
   *
   * @param description - One input, one output, FFmpeg filter syntax.
   * @param options - Threads.
   * @returns The filter.
   * @throws {TypeError} For an empty description.
   */
  static async create(description: string, options: VideoFilterOptions = {}): Promise<VideoFilter> {
    if (typeof description !== 'string' || description.trim() === '') {
      throw invalidTypeError('a filter graph description', 'description', description);
    }
    const av = await loadNodeAv();
    const { FilterAPI } = await import('node-av/api');
    const api = FilterAPI.create(description, { threads: options.threads ?? 0 });
    return new VideoFilter(description, av, api);
  }

  /**
   * Push one frame through the graph.
   *
   * @param frame - Any supported format; its timestamp and color tags go in with it.
   * @returns The frames the graph produced for it (zero or more), in memory they own.
   * @throws {FFmpegError} When the graph rejects the frame.
   * @throws {TypeError} When the graph outputs a pixel format Framecraft has no name for (end the graph with `format=…`).
   */
  process(frame: Frame): Frame[] {
    if (this.#closed) throw new Error(`VideoFilter "${this.description}" is closed`);
    const av = this.#av;
    const input = reusableAvFrame(
      this.#input,
      frame.width,
      frame.height,
      pixelFormatToAv(frame.format),
      this.description,
    );
    this.#input = input;
    copyIntoAvFrame(frame, input);
    setAvColor(input, frame.color);
    input.pts = BigInt(frame.pts);
    input.timeBase = new av.Rational(frame.timeBase.num, frame.timeBase.den);
    input.sampleAspectRatio = new av.Rational(frame.sampleAspect.num, frame.sampleAspect.den);
    return this.#collect(this.#api.processAllSync(input), frame);
  }

  /**
   * Signal the end of input and collect what the graph still holds.
   *
   * @returns The remaining frames.
   */
  flush(): Frame[] {
    const out: AvFrame[] = [];
    this.#api.flushSync();
    for (
      let f = this.#api.receiveSync();
      f !== null && typeof f === 'object' && 'width' in f;
      f = this.#api.receiveSync()
    ) {
      out.push(f as AvFrame);
    }
    return this.#collect(out);
  }

  #collect(frames: AvFrame[], like?: Frame): Frame[] {
    const result: Frame[] = [];
    try {
      for (const f of frames) {
        const format = pixelFormatFromAv(f.format);
        if (format === undefined) {
          throw invalidTypeError(
            'a filter graph ending in a Framecraft pixel format (add format=rgb24, format=yuv420p, …)',
            'description',
            `${this.description} -> ${avPixelFormatName(f.format)}`,
          );
        }
        const tb = f.timeBase;
        const timeBase =
          tb.num > 0 && tb.den > 0 ? { num: tb.num, den: tb.den } : (like?.timeBase ?? { num: 1, den: 1 });
        const color = like?.color ?? {
          range: 'unknown',
          primaries: 'unknown',
          transfer: 'unknown',
          matrix: 'unknown',
        };
        result.push(cloneFrame(wrapAvFrame(f, { format, timeBase, color })));
      }
    } finally {
      for (const f of frames) f.free();
    }
    return result;
  }

  /** Free the graph. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#input?.free();
    this.#api.close();
  }

  /** Free the graph (`using`). */
  [Symbol.dispose](): void {
    this.close();
  }
}

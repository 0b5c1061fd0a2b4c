import { yuvToRgb24 } from '@framecraft/color';
import { createFrame, type Frame, invalidRangeError, type PixelFormat } from '@framecraft/core';
import type { ModelRef, ResolvedModel } from '@framecraft/ml';
import { closest, distance } from 'fastest-levenshtein';
import * as v from 'valibot';
import { StylizerOptionsError } from './errors.ts';

/** The pixel layout a style wants its input in; the pipeline reads frames in it and converts nothing else. */
export type StylizerInputFormat = 'gray8' | 'yuv420p' | 'rgb24';

/** Speed/quality trade-offs every style offers. */
export type StylizerPreset = 'speed' | 'balanced' | 'quality';

/** What a style instance is created for. */
export interface StylizerContext {
  readonly width: number;
  readonly height: number;
  /** The job seed; every random choice derives from it. */
  readonly seed: number;
  /**
   * CPU threads this instance may use for its own thread pools (ONNX Runtime); the machine's by
   * default. The pipeline divides the cores between its chunk workers.
   */
  readonly threads?: number;
}

/** A created style, bound to a frame size and options. */
export interface StylizerInstance {
  /** The format `process` returns. */
  readonly outputFormat: PixelFormat;
  /**
   * Stylize one frame into a new frame (or one owned by the instance, valid until the next call).
   * The output carries the input's timing.
   */
  process(frame: Frame): Frame | Promise<Frame>;
  /** Stylize into a caller-provided frame of `outputFormat` and the same size (no allocation). */
  processInto(frame: Frame, out: Frame): Frame | Promise<Frame>;
  /** Free resources; calling it twice is harmless, processing afterwards throws. */
  dispose(): void;
  /**
   * True when an output frame depends on earlier frames (a palette carried over, levels that
   * follow the footage). The pipeline warms such instances with pre-roll frames before a chunk;
   * a stateless one (each output a function of its input frame and timestamp) starts right at the
   * chunk. Missing means true.
   */
  readonly stateful?: boolean;
  /**
   * True when every output is the input frame unchanged (the identity style). A caller that only
   * reads the output may then use the input frame itself and skip `process`: the pipeline hands a
   * decoded frame straight to the encoder, with no copy in between. Missing means false.
   */
  readonly passthrough?: boolean;
  /**
   * True when `processInto` may be called for the next frame before the call for the previous one
   * has settled (each call with its own input and output frames; the calls settle in order), and
   * the work then overlaps: where CUDA runs the neural style's model, it runs on a thread of its
   * own, so the pipeline decodes the next frame and encodes the last while the GPU works. Missing
   * means false.
   */
  readonly concurrent?: boolean;
  /**
   * Present when the style paints a reduced frame and brings it back to full size (the neural
   * style at a `scale` below 1). `processInto` is `paint` then `upsample`; a caller with a temporal
   * stage runs it between the two, on the reduced frames, where the style's texture was painted:
   * the flow there costs a quarter at scale 0.5, and the upsample then puts the full-size input's
   * edges back on the stabilized texture.
   */
  readonly reduced?: ReducedPainting;
}

/** See {@link StylizerInstance.reduced}. */
export interface ReducedPainting {
  /** Size of the reduced frames. */
  readonly width: number;
  readonly height: number;
  /**
   * Reduce `frame` into `small` (the style's input format) and paint it into `styled` (its output
   * format), both of the reduced size and owned by the caller.
   */
  paint(frame: Frame, small: Frame, styled: Frame): Promise<void> | void;
  /** Bring a reduced output (as painted, or stabilized) back to the size of `frame`, into `out`. */
  upsample(styled: Frame, small: Frame, frame: Frame, out: Frame): Frame;
}

/** Where a style runs (see {@link Stylizer.device}). */
export interface StylizerDevice {
  readonly device: 'cpu' | 'gpu';
  /** Why, for the render log: `CUDA loaded`, `asked for CPU`, `no CUDA: <why>`. */
  readonly reason: string;
}

/**
 * What a style's options name outside the process, so code that runs any style (the pipeline, a
 * render farm, the studio) can resolve and pin it without knowing the style's option names.
 */
export interface StylizerResources<TOptions> {
  /**
   * The registered model these options name (`name` or `name@version`), or null when they name a
   * file or no model at all.
   */
  model(options: TOptions): ModelRef | null;
  /** These options with the model they name replaced by one installed version: its file and tensor layout. */
  withModel(options: TOptions, model: ResolvedModel): TOptions;
  /** Files these options read (a model file): a render farm checks every worker sees the same bytes. */
  files(options: TOptions): string[];
}

/** A style: name, option schema with documented defaults, input format and factory. */
export interface Stylizer<TSchema extends v.GenericSchema = v.GenericSchema> {
  readonly name: string;
  readonly description: string;
  /**
   * Version of the look: raised when the same options and seed give different pixels, so a render
   * started with the old look is not resumed with chunks of the new one (the pipeline's job hash
   * includes it). 1 when absent.
   */
  readonly version?: number;
  /** valibot schema of the options, with defaults; the single source of truth for the options' shape. */
  readonly options: TSchema;
  readonly inputFormat: StylizerInputFormat;
  /** Option values for the speed / balanced / quality settings. */
  readonly presets: Readonly<Record<StylizerPreset, Partial<v.InferInput<TSchema>>>>;
  /**
   * Temporal smoothing this style needs when the job does not say (the pipeline's defaults are
   * strength 0.5, motion threshold 24): a style that flickers a lot asks for more.
   */
  readonly temporal?: {
    /**
     * The temporal mode the pipeline uses when the job does not say: `flow` for a style that
     * paints a different texture each frame (only motion-compensated history keeps it still
     * without averaging two textures), `ema` otherwise (the default).
     */
    readonly mode?: 'flow' | 'ema';
    readonly strength: number;
    readonly motionThreshold: number;
    readonly deflicker?: boolean;
  };
  /**
   * Where this style runs with these options, and why: `gpu` when it will use the GPU (the
   * pipeline then renders one chunk at a time, so chunks never compete for video memory), `cpu`
   * otherwise. Missing means `cpu`. May load things to find out (the neural style tries CUDA).
   */
  device?(options: v.InferOutput<TSchema>): Promise<StylizerDevice>;
  /**
   * Whether these options would use a GPU on a machine that has one (no loading, so a machine
   * without a GPU can answer for one with it): a render farm sends such chunks to its GPU queue.
   * Missing means no.
   */
  prefersGpu?(options: v.InferOutput<TSchema>): boolean;
  /**
   * Check, without building an instance, that what these options name outside the process loads
   * (a paper scan, a .cube file), throwing the error `create` would. A style that loads nothing
   * from outside resolves at once. Missing: a caller builds an instance to find out (the neural
   * style, whose check is loading its model). The pipeline calls it before a render, where
   * building an instance only to throw it away cost up to 0.8 s (comic's halftone screens at
   * 1080p, cinematic's 48 MiB lookup table).
   */
  check?(options: v.InferOutput<TSchema>): Promise<void>;
  /**
   * Models and files the options name outside the process. Missing: the style names none (it
   * runs on its options alone, or finds what it names itself).
   */
  readonly resources?: StylizerResources<v.InferOutput<TSchema>>;
  /**
   * Create an instance.
   *
   * @param options - Validated options (see {@link parseStylizerOptions}).
   * @param context - Frame size and seed.
   */
  create(
    options: v.InferOutput<TSchema>,
    context: StylizerContext,
  ): StylizerInstance | Promise<StylizerInstance>;
}

/**
 * The option names a style's schema declares (an object schema, or one at the head of a pipe).
 *
 * @param stylizer - The style.
 * @returns The names, or null when the schema is of another shape (then any name is let through).
 */
export function stylizerOptionNames(stylizer: Stylizer): string[] | null {
  let schema: unknown = stylizer.options;
  while (schema !== null && typeof schema === 'object') {
    if ('entries' in schema) return Object.keys(schema.entries as object);
    if (!('pipe' in schema)) break;
    schema = (schema.pipe as readonly unknown[])[0];
  }
  return null;
}

/** One issue per option name the style does not have, with the closest name it does. */
function unknownOptions(stylizer: Stylizer, input: unknown): string[] {
  const names = stylizerOptionNames(stylizer);
  if (names === null || input === null || typeof input !== 'object') return [];
  return Object.keys(input)
    .filter((key) => !names.includes(key))
    .map((key) => {
      const near = names.length > 0 ? closest(key, names) : '';
      // Close means a slip of the keyboard: at most a third of the name's letters differ.
      const hint =
        near !== '' && distance(key, near) <= Math.max(1, Math.floor(key.length / 3))
          ? ` Did you mean "${near}"?`
          : '';
      const list = names.length > 0 ? ` Its options: ${names.join(', ')}.` : ' It has no options.';
      return `${key}: not an option of ${stylizer.name}.${hint}${list}`;
    });
}

/**
 * Check options against a style's schema and list every problem with its field: invalid values,
 * and names the style does not have (a misspelt option is not ignored).
 *
 * @param stylizer - The style.
 * @param input - Raw options (from a preset file, the CLI, the studio).
 * @returns The problems, empty when valid.
 */
export function validateStylizerOptions(stylizer: Stylizer, input: unknown): string[] {
  const unknown = unknownOptions(stylizer, input);
  const result = v.safeParse(stylizer.options, input ?? {});
  if (result.success) return unknown;
  return [...unknown, ...result.issues.map((issue) => issueText(issue, '(options)'))];
}

/**
 * One valibot issue as `field: what is wrong`, without valibot's "received undefined" for a
 * field that is simply missing.
 *
 * @param issue - The issue.
 * @param whole - The name for the whole value when the issue has no path.
 * @returns The line.
 */
export function issueText(issue: v.BaseIssue<unknown>, whole: string): string {
  const path = v.getDotPath(issue) ?? whole;
  return `${path}: ${issue.received === 'undefined' ? 'is required' : issue.message}`;
}

/**
 * Parse options against a style's schema, filling defaults.
 *
 * @param stylizer - The style.
 * @param input - Raw options; `preset` values apply first, `input` overrides them.
 * @param preset - A speed / balanced / quality setting.
 * @returns The typed options.
 * @throws {StylizerOptionsError} Naming every invalid field and every name the style does not have.
 */
export function parseStylizerOptions<TSchema extends v.GenericSchema>(
  stylizer: Stylizer<TSchema>,
  input: unknown = {},
  preset?: StylizerPreset,
): v.InferOutput<TSchema> {
  const merged = { ...(preset ? stylizer.presets[preset] : {}), ...((input as object) ?? {}) };
  const issues = validateStylizerOptions(stylizer, merged);
  if (issues.length > 0) throw new StylizerOptionsError(stylizer.name, issues);
  return v.parse(stylizer.options, merged);
}

/** What {@link kernelInstance} wraps: one style's per-frame work and its clean-up. */
export interface KernelSpec {
  /** Style name, for error messages. */
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly inputFormat: StylizerInputFormat;
  readonly outputFormat: PixelFormat;
  /** Stylize a checked frame into `out` (same size, `outputFormat`). */
  readonly run: (frame: Frame, out: Frame) => Frame;
  /** Free native resources; called once. */
  readonly close?: () => void;
  /** See {@link StylizerInstance.stateful}; true by default. */
  readonly stateful?: boolean;
}

/**
 * Build the {@link StylizerInstance} every frame-at-a-time style shares: input size and format
 * checks, `process` into a new frame, `processInto`, and a `dispose` that is safe to repeat and
 * makes later calls throw.
 *
 * @param spec - The style's kernel and its frame geometry.
 * @returns The instance.
 */
export function kernelInstance(spec: KernelSpec): StylizerInstance {
  const { name, width, height, inputFormat, outputFormat } = spec;
  let disposed = false;
  const processInto = (frame: Frame, out: Frame): Frame => {
    if (disposed) throw new Error(`${name} stylizer used after dispose()`);
    if (frame.width !== width || frame.height !== height || frame.format !== inputFormat) {
      throw invalidRangeError(
        `a ${width}x${height} frame in ${inputFormat}`,
        'frame',
        `${frame.format} ${frame.width}x${frame.height}`,
      );
    }
    return spec.run(frame, out);
  };
  return {
    outputFormat,
    stateful: spec.stateful ?? true,
    process: (frame) => processInto(frame, createFrame({ width, height, format: outputFormat })),
    processInto,
    dispose() {
      if (disposed) return;
      disposed = true;
      spec.close?.();
    },
  };
}

/**
 * A decoded 8-bit yuv420p frame in the format a style reads: as is for `yuv420p`, converted for
 * `rgb24`, the Y plane copied into a gray8 frame for `gray8` (for code that decodes once and feeds
 * styles with different input formats, such as the style lab and the trainer's teacher).
 *
 * @param frame - A yuv420p frame.
 * @param format - The style's `inputFormat`.
 * @returns A frame the style accepts.
 */
export function frameForStyle(frame: Frame, format: StylizerInputFormat): Frame {
  if (format === 'yuv420p') return frame;
  if (format === 'rgb24') return yuvToRgb24(frame);
  const g = createFrame({
    width: frame.width,
    height: frame.height,
    format: 'gray8',
    pts: frame.pts,
    timeBase: frame.timeBase,
  });
  const src = frame.planes[0]!;
  const dst = g.planes[0]!;
  for (let y = 0; y < frame.height; y++)
    (dst.data as Uint8Array).set(
      (src.data as Uint8Array).subarray(y * src.stride, y * src.stride + frame.width),
      y * dst.stride,
    );
  return { ...g, color: frame.color };
}

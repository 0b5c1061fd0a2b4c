import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { getStylizer, issueText, parseStylizerOptions, StylizerOptionsError } from '@framecraft/stylizers';
import { FlowStabilizer } from '@framecraft/temporal';
import * as v from 'valibot';
import { JobConfigError } from './errors.ts';

/** Encoder presets in x264 terms (NVENC maps them to p1–p7). */
export const X264_PRESETS = [
  'ultrafast',
  'superfast',
  'veryfast',
  'faster',
  'fast',
  'medium',
  'slow',
  'slower',
  'veryslow',
] as const;

const int = (min: number, max: number): v.GenericSchema<number> =>
  v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));
const num = (min: number, max: number): v.GenericSchema<number> =>
  v.pipe(v.number(), v.minValue(min), v.maxValue(max));

/**
 * How stylized frames are made coherent in time: `flow` warps the previous output along the
 * input's optical flow (`FlowStabilizer`), `ema` blends with the previous output where the
 * picture did not move (`EmaStabilizer`), `off` leaves every frame as the style made it.
 */
export type TemporalMode = 'flow' | 'ema' | 'off';

/** Settings of the `flow` temporal mode (see `FlowStabilizerOptions` in @framecraft/temporal). */
export interface FlowTemporalSettings {
  readonly strength: number;
  readonly errorThreshold: number;
  /** Frames an output depends on at most; a chunk's pre-roll is at least this in `flow` mode. */
  readonly history: number;
  readonly preset: 'ultrafast' | 'fast' | 'medium';
  /**
   * For a style that paints reduced frames (the neural style below scale 1): stabilize those,
   * before the upsample, instead of the full-size output. False by default. At scale 0.5 the
   * stage costs about a third (768x432: 29 instead of 82 ms a frame); judged by OpenCV's flow,
   * the warping error rose 8 % on car-detection and 39 % on flower, where the moving flower's
   * texture also came out softer.
   */
  readonly atStyleScale: boolean;
}

/** A checked job with defaults filled in (see {@link JobSchema} for each field's meaning). */
export interface Job {
  readonly input: string;
  readonly output: string;
  readonly style: string;
  readonly styleOptions: Readonly<Record<string, unknown>>;
  readonly stylePreset?: 'speed' | 'balanced' | 'quality' | undefined;
  readonly temporal: {
    /** The style's choice (its `temporal.mode`, else `ema`) unless the job says. */
    readonly mode: TemporalMode;
    /** `mode !== 'off'`; a job that gives `enabled: false` and no mode gets `off`. */
    readonly enabled: boolean;
    /** EMA strength (`ema` mode). */
    readonly strength: number;
    /** EMA motion threshold (`ema` mode). */
    readonly motionThreshold: number;
    readonly sceneCutThreshold: number;
    readonly deflicker: boolean;
    readonly flow: FlowTemporalSettings;
  };
  readonly metrics: {
    readonly enabled: boolean;
    readonly sampleEvery: number;
    readonly ssimWindow: 'box' | 'gaussian';
  };
  readonly codec: string;
  readonly crf: number;
  readonly encoderPreset: (typeof X264_PRESETS)[number];
  readonly reproducible: boolean;
  readonly chunkDuration: number;
  readonly preroll: number;
  readonly seed: number;
  readonly workers?: number | undefined;
  readonly workDir?: string | undefined;
  readonly onStyleError: 'fallback' | 'fail';
  readonly fallbackStyle: string;
}

type Optional<T> = { readonly [K in keyof T]?: T[K] | undefined };

/** A job as given: every field but input, output and style may be missing. */
export type JobInput = Pick<Job, 'input' | 'output' | 'style'> &
  Optional<Omit<Job, 'input' | 'output' | 'style' | 'temporal' | 'metrics'>> & {
    readonly temporal?:
      | (Optional<Omit<Job['temporal'], 'flow'>> & {
          readonly flow?: Optional<FlowTemporalSettings> | undefined;
        })
      | undefined;
    readonly metrics?: Optional<Job['metrics']> | undefined;
  };

/** What the schema gives: a job whose temporal mode may still be the style's to choose. */
type ParsedJob = Omit<Job, 'temporal'> & {
  readonly temporal: Omit<Job['temporal'], 'mode'> & { readonly mode?: TemporalMode | undefined };
};

/**
 * The render job: the single source of truth for its fields, defaults and limits. Everything that
 * changes the output pixels goes into the job hash (see {@link jobHash}); `workers`, `workDir`
 * and `output` do not.
 */
export const JobSchema: v.GenericSchema<JobInput, ParsedJob> = v.object({
  /** Source video. */
  input: v.pipe(v.string(), v.minLength(1, 'must be a path')),
  /** Final output path (its extension picks the container). */
  output: v.pipe(v.string(), v.minLength(1, 'must be a path')),
  /** A registered style name. */
  style: v.pipe(v.string(), v.minLength(1, 'must be a style name')),
  /** The style's options (checked against its schema). */
  styleOptions: v.optional(v.record(v.string(), v.unknown()), {}),
  /** The style's speed / balanced / quality setting, applied under `styleOptions`. */
  stylePreset: v.optional(v.picklist(['speed', 'balanced', 'quality'])),
  temporal: v.optional(
    v.object({
      /** `flow`, `ema` or `off`; the style's choice when missing (see {@link TemporalMode}). */
      mode: v.optional(v.picklist(['flow', 'ema', 'off'])),
      /** Older jobs: `false` is mode `off`. */
      enabled: v.optional(v.boolean(), true),
      strength: v.optional(num(0, 0.95), 0.5),
      motionThreshold: v.optional(num(0, 255), 24),
      sceneCutThreshold: v.optional(num(0.01, 1), 0.35),
      /** Global brightness deflicker before the EMA. */
      deflicker: v.optional(v.boolean(), false),
      flow: v.optional(
        v.object({
          strength: v.optional(num(0, 1), 1),
          errorThreshold: v.optional(num(1, 255), 12),
          history: v.optional(
            v.pipe(
              int(4, 240),
              v.check((n) => n % 2 === 0, 'must be an even number'),
            ),
            24,
          ),
          preset: v.optional(v.picklist(['ultrafast', 'fast', 'medium']), 'fast'),
          atStyleScale: v.optional(v.boolean(), false),
        }),
        {},
      ),
    }),
    {},
  ),
  metrics: v.optional(
    v.object({
      enabled: v.optional(v.boolean(), false),
      sampleEvery: v.optional(int(1, 10000), 1),
      /** `box` (FFmpeg's algorithm, < 1 ms per 1080p frame) or `gaussian` (Wang et al.). */
      ssimWindow: v.optional(v.picklist(['box', 'gaussian']), 'box'),
    }),
    {},
  ),
  /** Encoder: `auto` (NVENC when it works here, else libx264), `libx264`, `h264_nvenc`, … */
  codec: v.optional(v.pipe(v.string(), v.minLength(1)), 'auto'),
  crf: v.optional(num(0, 51), 20),
  /** Encoder preset in x264 terms. */
  encoderPreset: v.optional(v.picklist(X264_PRESETS), 'medium'),
  /**
   * Bit-identical output wherever and whenever a chunk renders (libx264 with mb-tree off: with it
   * on, identical frames sometimes encoded differently — 1–2 of 5–8 encodes in some batches here).
   * Off: smaller files at the same CRF (flower, CRF 20: 649 instead of 892 KB), and a resumed render
   * differs from an uninterrupted one by encoder noise.
   */
  reproducible: v.optional(v.boolean(), true),
  /** Target chunk length in seconds; chunks are cut at keyframes near it. */
  chunkDuration: v.optional(num(0.5, 3600), 10),
  /**
   * Frames decoded and stylized before a chunk starts, to warm stateful styles and the EMA (in
   * `flow` mode at least `temporal.flow.history`, see {@link prerollOf}).
   */
  preroll: v.optional(int(0, 600), 15),
  seed: v.optional(int(0, 2 ** 31 - 1), 1),
  /** Chunks rendered at once in worker threads; 0 renders in this thread. CPU count by default. */
  workers: v.optional(int(0, 256)),
  /**
   * When the style cannot load its model (missing or unloadable): `fallback` (default) renders
   * with `fallbackStyle` and warns; `fail` stops with the error.
   */
  onStyleError: v.optional(v.picklist(['fallback', 'fail']), 'fallback'),
  fallbackStyle: v.optional(v.pipe(v.string(), v.minLength(1)), 'cartoon'),
  /** Segments and journal; `<data home>/work/<hash of the output path>` by default. */
  workDir: v.optional(v.pipe(v.string(), v.minLength(1))),
});

/**
 * Check a job as {@link parseJob} does, keeping it as it was written (defaults not filled in): for
 * code that stores what a person submitted, such as the studio's queue.
 *
 * @param input - Raw job.
 * @throws {JobConfigError} Listing every problem as `field: message`.
 */
export function assertJobInput(input: unknown): asserts input is JobInput {
  parseJob(input);
}

/**
 * Check a job and fill in defaults, including the style's own options.
 *
 * @param input - Raw job (from the CLI, a config file, the studio).
 * @returns The job.
 * @throws {JobConfigError} Listing every problem as `field: message`.
 */
export function parseJob(input: unknown): Job {
  const result = v.safeParse(JobSchema, input);
  if (!result.success) {
    throw new JobConfigError(result.issues.map((issue) => issueText(issue, '(job)')));
  }
  const job = result.output;
  let style: ReturnType<typeof getStylizer>;
  try {
    style = getStylizer(job.style);
  } catch (err) {
    throw new JobConfigError([`style: ${(err as Error).message}`]);
  }
  try {
    getStylizer(job.fallbackStyle);
  } catch (err) {
    throw new JobConfigError([`fallbackStyle: ${(err as Error).message}`]);
  }
  try {
    const styleOptions = parseStylizerOptions(style, job.styleOptions, job.stylePreset) as Record<
      string,
      unknown
    >;
    // A style may ask for more temporal smoothing than the defaults when the job does not say.
    const given =
      (input as { temporal?: { strength?: unknown; motionThreshold?: unknown; deflicker?: unknown } })
        .temporal ?? {};
    const mode: TemporalMode =
      job.temporal.mode ?? (job.temporal.enabled ? (style.temporal?.mode ?? 'ema') : 'off');
    const temporal = {
      ...job.temporal,
      mode,
      enabled: mode !== 'off',
      ...(given.strength === undefined &&
        style.temporal !== undefined && { strength: style.temporal.strength }),
      ...(given.motionThreshold === undefined &&
        style.temporal !== undefined && { motionThreshold: style.temporal.motionThreshold }),
      ...(given.deflicker === undefined &&
        style.temporal?.deflicker !== undefined && { deflicker: style.temporal.deflicker }),
    };
    return { ...job, styleOptions, temporal };
  } catch (err) {
    if (err instanceof StylizerOptionsError)
      throw new JobConfigError(err.issues.map((i) => `styleOptions.${i}`));
    throw err;
  }
}

/**
 * Frames a chunk decodes before its first: the job's pre-roll, and in `flow` mode at least the
 * stabilizer's history, so that a chunk's frames equal those of an uninterrupted render.
 *
 * @param job - A parsed job.
 * @returns The pre-roll in frames.
 */
export function prerollOf(job: Pick<Job, 'preroll' | 'temporal'>): number {
  return job.temporal.mode === 'flow' ? Math.max(job.preroll, job.temporal.flow.history) : job.preroll;
}

/** The data folder for presets, models, feedback, logs and work folders: `$FRAMECRAFT_HOME` or `~/.framecraft`. */
export function dataHome(): string {
  const env = process.env.FRAMECRAFT_HOME;
  return env !== undefined && env !== '' ? resolve(env) : join(homedir(), '.framecraft');
}

/**
 * The work folder of a job: its own `workDir`, or one per output path under the data home, so
 * running the same command again finds the previous attempt.
 *
 * @param job - The job.
 * @returns An absolute path.
 */
export function workDirOf(job: Job): string {
  if (job.workDir !== undefined) return resolve(job.workDir);
  const key = createHash('sha256').update(resolve(job.output)).digest('hex').slice(0, 16);
  return join(dataHome(), 'work', key);
}

/**
 * Hash of everything that decides the output pixels: the input (path, size, modification time),
 * the style and its parsed options, temporal, metrics, encoder settings, chunking and the seed.
 *
 * @param job - A parsed job.
 * @returns Hex SHA-256.
 */
export async function jobHash(job: Job): Promise<string> {
  const input = resolve(job.input);
  const s = await stat(input);
  const decisive = {
    // 2: libx264 encodes reproducible jobs with a fixed thread count (segments of format 1 used
    // the machine's default, so they are not mixed in).
    format: 2,
    input: { path: input, size: s.size, mtimeMs: Math.round(s.mtimeMs) },
    style: job.style,
    // A new look of the style (after an upgrade) is a new job: its chunks are not mixed in.
    styleVersion: getStylizer(job.style).version ?? 1,
    styleOptions: job.styleOptions,
    // Flow settings, and the flow stabilizer's look, decide nothing outside flow mode.
    temporal: job.temporal.mode === 'flow' ? job.temporal : { ...job.temporal, flow: undefined },
    flowVersion: job.temporal.mode === 'flow' ? FlowStabilizer.version : undefined,
    metrics: job.metrics,
    codec: job.codec,
    crf: job.crf,
    encoderPreset: job.encoderPreset,
    reproducible: job.reproducible,
    chunkDuration: job.chunkDuration,
    preroll: job.preroll,
    seed: job.seed,
  };
  return createHash('sha256').update(stableJson(decisive)).digest('hex');
}

/** JSON with object keys sorted, so equal settings hash equally whatever their order. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

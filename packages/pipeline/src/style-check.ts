// The job's style, checked before a render starts: its registered model resolved, its resources
// loadable, or the fallback style with a warning. Also where it will run (CPU or GPU).
import { FramecraftError } from '@framecraft/core';
import type { ModelRef, ModelRegistry } from '@framecraft/ml';
import { getStylizer } from '@framecraft/stylizers';
import type { Logger } from 'pino';
import { type Job, parseJob } from './job.ts';
import { styleModelRef, withStyleModel } from './models.ts';

/** Errors that mean "this style's model cannot be used here". */
const MODEL_ERRORS = new Set(['ERR_MODEL_NOT_FOUND', 'ERR_MODEL_LOAD']);

/** Where a style check reports what it decided. */
export interface StyleCheckOptions {
  readonly onWarning?: (message: string) => void;
  readonly logger?: Logger;
}

/**
 * Check that the job's style can run, before any chunk: the registered model its options name is
 * resolved and the style's resources load. When the model is missing or does not load, the job
 * falls back to `fallbackStyle` with a warning, or the error is thrown when `onStyleError` is
 * `fail`.
 *
 * @param job - The parsed job.
 * @param size - The input's frame size (a style that must build an instance to check is built at it).
 * @param models - Where registered models are found.
 * @param options - Warnings and log.
 * @returns The job as it will render (the fallback style applied), and the registered model it
 *   uses (null for none).
 * @throws {FramecraftError} A model error when `onStyleError` is `fail`; any other error as it is.
 */
export async function checkJobStyle(
  job: Job,
  size: { readonly width: number; readonly height: number },
  models: ModelRegistry,
  options: StyleCheckOptions,
): Promise<{ job: Job; model: ModelRef | null }> {
  const style = getStylizer(job.style);
  const ref = styleModelRef(style, job.styleOptions);
  if (ref === null) return { job: await checkStyleLoads(job, size, options), model: null };
  let resolved: Awaited<ReturnType<ModelRegistry['resolve']>>;
  try {
    resolved = await models.resolve(ref.name, ref.version);
  } catch (err) {
    return { job: fallBack(job, err, options), model: null };
  }
  const withModel = { ...job, styleOptions: withStyleModel(style, job.styleOptions, resolved) };
  const checked = await checkStyleLoads(withModel, size, options);
  // The job keeps naming the model: each chunk resolves the version it renders with.
  return checked.style === job.style ? { job, model: ref } : { job: checked, model: null };
}

/**
 * Create the style once (or let it check itself), so a missing or unloadable resource shows up
 * now: the job with its fallback style, or the job as it is.
 */
async function checkStyleLoads(
  job: Job,
  size: { readonly width: number; readonly height: number },
  options: StyleCheckOptions,
): Promise<Job> {
  try {
    const style = getStylizer(job.style);
    // A style that can check its resources without an instance (most can) skips building one.
    if (style.check !== undefined) await style.check(job.styleOptions);
    else (await style.create(job.styleOptions, { ...size, seed: job.seed })).dispose();
    return job;
  } catch (err) {
    return fallBack(job, err, options);
  }
}

/** The job with its fallback style (and a warning) for a model error, or the error again. */
function fallBack(job: Job, err: unknown, options: StyleCheckOptions): Job {
  if (!FramecraftError.is(err) || !MODEL_ERRORS.has(err.code) || job.onStyleError === 'fail') throw err;
  const message = `${err.message}; rendering with the ${job.fallbackStyle} style instead`;
  options.logger?.warn({ style: job.style, fallback: job.fallbackStyle, code: err.code }, message);
  options.onWarning?.(message);
  return parseJob({ ...job, style: job.fallbackStyle, styleOptions: {}, stylePreset: job.stylePreset });
}

/**
 * Where the job's style runs (see `Stylizer.device`), logged with the reason when the style says.
 *
 * @param job - The parsed job (its style options have their defaults).
 * @param log - The render's log.
 * @returns `cpu` or `gpu`.
 */
export async function styleDevice(job: Job, log: Logger | undefined): Promise<'cpu' | 'gpu'> {
  const style = getStylizer(job.style);
  if (style.device === undefined) return 'cpu';
  const { device, reason } = await style.device(job.styleOptions);
  log?.info({ style: job.style, device }, `${job.style}: running on ${device.toUpperCase()} (${reason})`);
  return device;
}

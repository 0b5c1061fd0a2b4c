// What a farm worker does with each job it takes: render a chunk, or stitch a render.
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { FramecraftError } from '@framecraft/core';
import { fileSha256 } from '@framecraft/io';
import type { ModelRegistry } from '@framecraft/ml';
import {
  type ChunkResult,
  type ChunkTask,
  type ChunkThreads,
  chunkTaskOf,
  finishRender,
  intactSegments,
  type Job,
  readJournal,
  type SegmentRecord,
  withStyleModel,
  writeRenderJournal,
} from '@framecraft/pipeline';
import { getStylizer, loadStylizer } from '@framecraft/stylizers';
import { type Job as BullJob, UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';
import { FarmError } from './errors.ts';
import {
  addChunkRecords,
  type ChunkJobData,
  type ChunkJobResult,
  type ChunkProgress,
  checkJobHere,
  type ModelPin,
  readChunkRecord,
  type StitchJobData,
  type StitchJobResult,
  writeChunkRecord,
} from './protocol.ts';
import type { FarmWorkerEvent } from './worker.ts';

/** What the job handlers of one worker share. */
export interface WorkerContext {
  /** The worker's name, `host:pid`. */
  readonly me: string;
  readonly pool: ChunkThreads;
  readonly registry: ModelRegistry;
  readonly threadsPerChunk: number;
  readonly log?: Logger;
  readonly emit: (event: FarmWorkerEvent) => void;
  /** Whether a render has been canceled (its mark in Redis). */
  readonly canceled: (renderId: string) => Promise<boolean>;
}

/** Errors a retry cannot fix: the job is failed at once instead of tried again. */
const FINAL = new Set(['ERR_FARM_JOB_MISMATCH', 'ERR_CANCELED', 'ERR_OUTPUT_EXISTS', 'ERR_JOB_CONFIG']);

/**
 * Log and report a failed job.
 *
 * @returns The error to throw: unrecoverable when a retry cannot fix it, else the error itself.
 */
function failed(ctx: WorkerContext, renderId: string, index: number | null, err: unknown): unknown {
  const message = (err as Error).message;
  if (index === null) ctx.log?.warn({ render: renderId, err: message }, 'stitch failed');
  else ctx.log?.warn({ render: renderId, chunk: index, err: message }, 'chunk failed');
  ctx.emit({ type: 'failed', renderId, index, message });
  if (FramecraftError.is(err) && FINAL.has(err.code))
    return new UnrecoverableError(`${err.code}: ${err.message}`);
  return err;
}

function canceledError(output: string): FramecraftError {
  return new FarmError('ERR_CANCELED', `the render of ${output} was canceled`);
}

/**
 * The job as it means here (see `checkJobHere`), once its render is known not to be canceled and
 * its style is loaded.
 */
async function jobHere(ctx: WorkerContext, data: ChunkJobData | StitchJobData, output: string): Promise<Job> {
  if (await ctx.canceled(data.renderId)) throw canceledError(output);
  await loadStylizer(data.job.style);
  return checkJobHere(data);
}

/**
 * Render one chunk job into the shared work folder (or reuse the segment an earlier attempt
 * finished), after checking the job means the same here and this worker has its model.
 *
 * @param ctx - The worker.
 * @param job - The chunk job.
 * @returns The chunk's result, for the submitter.
 */
export async function runChunkJob(
  ctx: WorkerContext,
  job: BullJob<ChunkJobData, ChunkJobResult>,
): Promise<ChunkJobResult> {
  const data = job.data;
  const { chunk } = data;
  const started = performance.now();
  try {
    const parsed = await jobHere(ctx, data, data.job.output);
    const styleOptions = await modelHere(data.model, parsed, ctx.registry, ctx.me);
    ctx.emit({
      type: 'chunk-start',
      renderId: data.renderId,
      output: data.job.output,
      index: chunk.index,
      attempt: job.attemptsMade + 1,
    });
    ctx.log?.info(
      { render: data.renderId, chunk: chunk.index, attempt: job.attemptsMade + 1 },
      'chunk start',
    );
    const task = {
      ...chunkTaskOf({ job: parsed, workDir: data.workDir }, chunk, ctx.threadsPerChunk),
      ...(styleOptions !== undefined && { styleOptions }),
    };
    const frames = chunk.end - chunk.start;
    // An earlier attempt that finished the segment but could not report it (Redis went away,
    // the worker died after the rename) is reused: the bytes would be the same.
    const record = await readChunkRecord(data.workDir, chunk.index, data.hash);
    if (record !== null) {
      const result: ChunkJobResult = {
        index: chunk.index,
        frames: record.frames,
        sha256: record.sha256,
        encoder: record.encoder,
        warnings: [],
        file: record.file,
        worker: ctx.me,
        seconds: (performance.now() - started) / 1000,
        reused: true,
      };
      ctx.emit({
        type: 'chunk-done',
        renderId: data.renderId,
        index: chunk.index,
        frames,
        seconds: 0,
        reused: true,
      });
      return result;
    }
    const result = await renderWatched(ctx, job, task);
    const file = basename(task.segment);
    await writeChunkRecord(data.workDir, chunk.index, {
      file,
      frames: result.frames,
      sha256: result.sha256,
      job_hash: data.hash,
      encoder: result.encoder,
    });
    const seconds = (performance.now() - started) / 1000;
    ctx.log?.info(
      { render: data.renderId, chunk: chunk.index, frames: result.frames, seconds },
      'chunk done',
    );
    ctx.emit({
      type: 'chunk-done',
      renderId: data.renderId,
      index: chunk.index,
      frames: result.frames,
      seconds,
      reused: false,
    });
    return { ...result, file, worker: ctx.me, seconds, reused: false };
  } catch (err) {
    throw failed(ctx, data.renderId, chunk.index, err);
  }
}

/**
 * Render a chunk's task on the worker's threads, reporting progress at most 4 times a second; a
 * cancel mark stops it within a second.
 *
 * @throws {FramecraftError} `ERR_CANCELED` when the render was canceled meanwhile.
 */
async function renderWatched(
  ctx: WorkerContext,
  job: BullJob<ChunkJobData, ChunkJobResult>,
  task: ChunkTask,
): Promise<ChunkResult> {
  const { data } = job;
  const { chunk } = data;
  const frames = chunk.end - chunk.start;
  const stop = new AbortController();
  let lastReport = 0;
  const watch = setInterval(() => {
    ctx.canceled(data.renderId).then(
      (yes) => {
        if (yes) stop.abort();
      },
      () => undefined,
    );
  }, 1000);
  let result: Awaited<ReturnType<ChunkThreads['run']>>;
  try {
    result = await ctx.pool.run(
      task,
      (written) => {
        const now = performance.now();
        if (now - lastReport < 250) return;
        lastReport = now;
        job
          .updateProgress({ index: chunk.index, written, frames } satisfies ChunkProgress)
          .catch(() => undefined);
      },
      stop.signal,
    );
  } finally {
    clearInterval(watch);
  }
  if (stop.signal.aborted) throw canceledError(data.job.output);
  return result;
}

/**
 * Stitch a render whose chunks are all finished: its journal lists every segment first, so a stitch
 * that dies is redone from it.
 *
 * @param ctx - The worker.
 * @param job - The stitch job.
 * @returns The stitched output, for the submitter.
 */
export async function runStitchJob(
  ctx: WorkerContext,
  job: BullJob<StitchJobData, StitchJobResult>,
): Promise<StitchJobResult> {
  const data = job.data;
  try {
    const parsed = await jobHere(ctx, data, data.output);
    const completed = await finishedSegments(data);
    const missing = data.chunks.filter((c) => !completed.has(c.index)).map((c) => c.index);
    if (missing.length > 0)
      throw new FarmError(
        'ERR_FARM_JOB_MISMATCH',
        `Worker ${ctx.me} cannot stitch ${data.output}: chunk(s) ${missing.join(', ')} have no intact segment in ${data.workDir}. ` +
          'Run the same render command again to render them.',
      );
    if (existsSync(data.output) && !data.overwrite)
      throw new FarmError(
        'ERR_OUTPUT_EXISTS',
        `${data.output} already exists (submit with overwrite to replace it)`,
      );
    const plan = { ...data, job: parsed };
    const model =
      data.model === null
        ? null
        : {
            ...data.model,
            chunks: Object.fromEntries(data.chunks.map((c) => [String(c.index), data.model!.version])),
          };
    // The journal lists every segment before stitching: a stitch that dies is redone from it.
    await writeRenderJournal(plan, completed, model);
    const { metrics } = await finishRender(plan, ctx.log !== undefined ? { logger: ctx.log } : {});
    ctx.emit({ type: 'stitch-done', renderId: data.renderId, output: data.output });
    return {
      output: data.output,
      frames: data.totalFrames,
      chunks: data.chunks.length,
      metricsLog: metrics?.log ?? null,
      worker: ctx.me,
    };
  } catch (err) {
    throw failed(ctx, data.renderId, null, err);
  }
}

/**
 * The style options for the job's model on this worker (its own registry's copy of the pinned
 * version), or undefined when the job uses no model or a model file on the shared storage.
 *
 * @throws {FramecraftError} `ERR_FARM_MODEL` when this worker lacks that model version or holds a
 *   different file under its name.
 */
async function modelHere(
  pin: ModelPin | null,
  job: Job,
  registry: ModelRegistry,
  me: string,
): Promise<Readonly<Record<string, unknown>> | undefined> {
  if (pin === null) return undefined;
  if (pin.kind === 'file') {
    if (!existsSync(pin.path))
      throw new FarmError(
        'ERR_FARM_MODEL',
        `Worker ${me} does not see the model file ${pin.path} (put models on the shared storage or register them on every worker).`,
      );
    const sha = await fileSha256(pin.path);
    if (sha !== pin.sha256)
      throw new FarmError(
        'ERR_FARM_MODEL',
        `Worker ${me} sees a different ${pin.path} (sha256 ${sha.slice(0, 12)}, the job's ${pin.sha256.slice(0, 12)}).`,
      );
    return undefined;
  }
  let resolved: Awaited<ReturnType<ModelRegistry['resolve']>>;
  try {
    resolved = await registry.resolve(pin.name, pin.version);
  } catch (err) {
    if (!FramecraftError.is(err, 'ERR_MODEL_NOT_FOUND')) throw err;
    throw new FarmError(
      'ERR_FARM_MODEL',
      `Worker ${me} does not have model ${pin.name}@${pin.version}, which the job needs ` +
        `(install it on this machine with framecraft models add, or share ${registry.dir}). ${err.message}`,
    );
  }
  if (resolved.manifest.sha256 !== pin.sha256)
    throw new FarmError(
      'ERR_FARM_MODEL',
      `Worker ${me} has a different ${pin.name}@${pin.version} (sha256 ${resolved.manifest.sha256.slice(0, 12)}, ` +
        `the job's ${pin.sha256.slice(0, 12)}): refusing to mix models in one render.`,
    );
  return withStyleModel(getStylizer(job.style), job.styleOptions, resolved);
}

/**
 * The intact segments of a render: those an earlier local run journaled, and those the farm's
 * workers recorded beside their segments.
 */
async function finishedSegments(data: StitchJobData): Promise<Map<number, SegmentRecord>> {
  const journaled = await intactSegments(data.workDir, await readJournal(data.workDir));
  return addChunkRecords(journaled, data.workDir, data.chunks, data.hash);
}

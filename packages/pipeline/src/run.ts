// Run a planned render's chunks: on worker threads (or one after another in this thread), each
// journaled when its segment is finished (see ARCHITECTURE.md, "one render").
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { CanceledError } from '@framecraft/core';
import { diskSpace } from '@framecraft/io';
import type { ModelRegistry } from '@framecraft/ml';
import { getStylizer } from '@framecraft/stylizers';
import type { Logger } from 'pino';
import { type ChunkResult, type ChunkTask, renderChunk } from './chunk.ts';
import type { Chunk } from './chunk-plan.ts';
import { DiskFullError } from './errors.ts';
import type { Job } from './job.ts';
import type { SegmentRecord } from './journal.ts';
import { withStyleModel } from './models.ts';
import type { RenderPlan } from './plan.ts';
import { ProgressTracker, type RenderProgress } from './progress.ts';
import { styleDevice } from './style-check.ts';
import { ChunkThreads } from './threads.ts';
import { chunkTaskOf, type RenderModel, segmentName, writeRenderJournal } from './work-folder.ts';

/** Options of {@link renderChunks}. */
export interface RunOptions {
  /** Render only these chunk indices (all of the plan's by default). */
  readonly chunks?: readonly number[];
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: RenderProgress) => void;
  readonly onWarning?: (message: string) => void;
  readonly logger?: Logger;
  /** Where the registered model of the plan is found (each chunk resolves its version). */
  readonly models: ModelRegistry;
}

/** What {@link renderChunks} did. */
export interface RunResult {
  /** The chunks asked for. */
  readonly wanted: readonly Chunk[];
  /** Those this run rendered (the others were finished before). */
  readonly rendered: readonly Chunk[];
  /** The encoders the rendered chunks used. */
  readonly encoders: readonly string[];
  /** The render's progress, to report the stages after this one. */
  readonly progress: ProgressTracker;
}

/**
 * How many chunks render at once on worker threads: one for a GPU style (one GPU job at a time),
 * else the requested count; never more than there are chunks. 0 (render in this thread, one chunk
 * after another) stays 0.
 *
 * @param device - Where the style runs.
 * @param requested - The job's worker count.
 * @param chunks - Chunks left to render.
 * @returns The number of chunks rendering at once.
 */
export function chunkWorkers(device: 'cpu' | 'gpu', requested: number, chunks: number): number {
  if (requested === 0) return 0;
  return Math.min(device === 'gpu' ? 1 : requested, chunks);
}

/**
 * Render a plan's unfinished chunks into their segments, journaling each as it finishes, after
 * checking there is disk room for them (and for the stitched output when every chunk is asked for).
 *
 * @param plan - The plan.
 * @param options - Chunk selection, abort, progress, warnings, log, models.
 * @returns What was rendered.
 * @throws {DiskFullError} When the disk is too full (before the render and before each chunk).
 * @throws {CanceledError} When `signal` aborts.
 */
export async function renderChunks(plan: RenderPlan, options: RunOptions): Promise<RunResult> {
  const log = options.logger;
  const { job, workDir } = plan;
  const completed = new Map(plan.completed);
  const wanted =
    options.chunks === undefined ? plan.chunks : plan.chunks.filter((c) => options.chunks!.includes(c.index));
  const pending = wanted.filter((c) => !completed.has(c.index));
  // Before anything: room for the pending segments and the stitched output.
  await ensureSpace(workDir, pending.reduce((s, c) => s + c.end - c.start, 0) * plan.bytesPerFrame);
  if (options.chunks === undefined)
    await ensureSpace(dirname(plan.output), plan.totalFrames * plan.bytesPerFrame);

  // A GPU style renders one chunk at a time (chunks would otherwise compete for video memory);
  // that worker gets every CPU thread for decoding and encoding.
  const device = pending.length > 0 ? await styleDevice(job, log) : 'cpu';
  const workers = chunkWorkers(device, job.workers ?? availableParallelism(), pending.length);
  const threads = Math.max(1, Math.floor(availableParallelism() / Math.max(1, workers)));
  const models = new ChunkModels(plan, options.models, log);
  const progress = new ProgressTracker(
    { totalFrames: plan.totalFrames, chunks: plan.chunks.length, finished: completed.values() },
    options.onProgress,
  );
  const encoders = new Set<string>();
  log?.info(
    {
      input: resolve(job.input),
      output: plan.output,
      style: job.style,
      jobHash: plan.hash,
      workDir,
      frames: plan.totalFrames,
      chunks: plan.chunks.length,
      reused: plan.completed.size,
      pending: pending.length,
      workers,
      device,
      codec: job.codec,
    },
    'render start',
  );
  progress.report('render');
  // Journal writes are serialised: each waits for the one before.
  let journalWrite = Promise.resolve();
  const onDone = async (result: ChunkResult): Promise<void> => {
    for (const w of result.warnings) {
      log?.warn({ chunk: result.index }, w);
      options.onWarning?.(w);
    }
    log?.info(
      { chunk: result.index, frames: result.frames, encoder: result.encoder, sha256: result.sha256 },
      'chunk done',
    );
    encoders.add(result.encoder);
    completed.set(result.index, recordOf(result));
    progress.chunkDone(result.index, result.frames);
    journalWrite = journalWrite.then(() => writeRenderJournal(plan, completed, models.state));
    await journalWrite;
    progress.report('render');
  };
  await runPool(
    pending.map((chunk) => chunkTaskOf(plan, chunk, threads)),
    workers,
    {
      onFrames: (index, written) => {
        progress.chunkFrames(index, written);
        progress.report('render');
      },
      onDone,
      beforeChunk: async (task) => {
        await ensureSpace(workDir, (task.chunk.end - task.chunk.start) * plan.bytesPerFrame);
        await models.bind(task);
      },
    },
    options.signal,
  );
  return { wanted, rendered: pending, encoders: [...encoders], progress };
}

function recordOf(result: ChunkResult): SegmentRecord {
  return { file: segmentName(result.index), frames: result.frames, sha256: result.sha256 };
}

/** Throw when the disk holding `folder` has less than `needed` bytes free. */
async function ensureSpace(folder: string, needed: number): Promise<void> {
  const { free } = await diskSpace(folder);
  if (free < needed) throw new DiskFullError(folder, needed, free);
}

/**
 * The registered model version each chunk renders with. A newer installed version (already loaded
 * and checked by the registry when it was added) takes over from the next chunk; a pinned
 * `name@version` never changes.
 */
class ChunkModels {
  readonly #job: Job;
  readonly #models: ModelRegistry;
  readonly #log: Logger | undefined;
  #state: { name: string; version: string; pinned: boolean; chunks: Record<string, string> } | null;

  constructor(plan: RenderPlan, models: ModelRegistry, log: Logger | undefined) {
    this.#job = plan.job;
    this.#models = models;
    this.#log = log;
    this.#state = plan.model === null ? null : { ...plan.model, chunks: { ...plan.model.chunks } };
  }

  /** The versions so far, for the journal. */
  get state(): RenderModel | null {
    return this.#state;
  }

  /** Give the task the style options of the version it renders with, and record it. */
  async bind(task: ChunkTask): Promise<void> {
    const state = this.#state;
    if (state === null) return;
    // Unpinned, the newest version is the one to use (swapping in when it changed).
    const resolved = await this.#models.resolve(state.name, state.pinned ? state.version : undefined);
    const newest = resolved.manifest.version;
    if (newest !== state.version) {
      this.#log?.info(
        { model: state.name, from: state.version, to: newest, chunk: task.chunk.index },
        'model swapped',
      );
      state.version = newest;
    }
    task.styleOptions = withStyleModel(getStylizer(this.#job.style), this.#job.styleOptions, resolved);
    state.chunks[String(task.chunk.index)] = state.version;
  }
}

/** What {@link runPool} calls as chunks start, write frames and finish. */
interface PoolHandlers {
  readonly beforeChunk: (task: ChunkTask) => Promise<void>;
  readonly onFrames: (index: number, written: number) => void;
  readonly onDone: (result: ChunkResult) => Promise<void>;
}

/**
 * Render chunks `workers` at a time on worker threads (0: one after another in this thread). Stops
 * at the first error or abort, ending the chunks still rendering.
 */
async function runPool(
  tasks: readonly ChunkTask[],
  workers: number,
  on: PoolHandlers,
  signal?: AbortSignal,
): Promise<void> {
  if (workers === 0) {
    for (const task of tasks) {
      if (signal?.aborted) throw new CanceledError('the render');
      await on.beforeChunk(task);
      await on.onDone(await renderChunk(task, (w) => on.onFrames(task.chunk.index, w), signal));
    }
    return;
  }
  const threads = new ChunkThreads(workers);
  // The first failure (or the caller's abort) ends every chunk in flight.
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const queue = [...tasks];
  let failure: { err: unknown } | null = null;
  const lane = async (): Promise<void> => {
    for (let task = queue.shift(); task !== undefined; task = queue.shift()) {
      if (stop.signal.aborted) return;
      await on.beforeChunk(task);
      const t = task;
      await on.onDone(await threads.run(t, (w) => on.onFrames(t.chunk.index, w), stop.signal));
    }
  };
  try {
    await Promise.all(
      Array.from({ length: Math.min(workers, tasks.length) }, () =>
        lane().catch((err: unknown) => {
          failure ??= { err };
          stop.abort();
        }),
      ),
    );
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await threads.close();
  }
  if (signal?.aborted) throw new CanceledError('the render');
  if (failure !== null) throw (failure as { err: unknown }).err;
}

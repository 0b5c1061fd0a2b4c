import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { CanceledError, FramecraftError } from '@framecraft/core';
import {
  checkEncoder,
  diskSpace,
  encodedSize,
  existingOutput,
  noFramesError,
  outputContainer,
  outputEncoder,
  paddedSizeNote,
  probe,
  remux,
  VideoReader,
  writeFileAtomic,
} from '@framecraft/io';
import { globalFlicker, type MetricsSummary, summarize } from '@framecraft/metrics';
import type { ModelManifest, ModelRegistry } from '@framecraft/ml';
import { getStylizer, loadStylizer } from '@framecraft/stylizers';
import type { Logger } from 'pino';
import { type ChunkResult, type ChunkTask, renderChunk } from './chunk.ts';
import { DiskFullError, JobChangedError, OutputExistsError } from './errors.ts';
import { type Job, jobHash, parseJob, prerollOf, workDirOf } from './job.ts';
import { intactSegments, type Journal, readJournal, type SegmentRecord, writeJournal } from './journal.ts';
import { limitMallocRetention } from './malloc.ts';
import { modelRefOf, modelRegistry, withModelFile } from './models.ts';
import { type Chunk, planChunks } from './plan.ts';
import { ChunkThreads } from './threads.ts';

/** Where a render stands, reported as it goes. */
export interface RenderProgress {
  readonly stage: 'plan' | 'render' | 'stitch' | 'done';
  readonly framesDone: number;
  readonly totalFrames: number;
  readonly chunksDone: number;
  readonly chunks: number;
  /** Frames per second rendered by this run so far. */
  readonly fps: number;
  /** Seconds left, from the measured rate; null before the first measurement. */
  readonly etaSeconds: number | null;
}

/** Options of {@link render}. */
export interface RenderOptions {
  /** Discard an unfinished render of the same output (also one with other settings). */
  readonly restart?: boolean;
  /** Replace an existing output file. */
  readonly overwrite?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: RenderProgress) => void;
  /** Warnings: encoder fallbacks, streams the container cannot carry. */
  readonly onWarning?: (message: string) => void;
  /**
   * Render only these chunk indices and stop before stitching (a render farm worker, or a test
   * rendering chunks in a chosen order). The journal records them as usual.
   */
  readonly chunks?: readonly number[];
  /** Structured log of the render (see {@link createLogger}); nothing is logged without one. */
  readonly logger?: Logger;
}

/** What a finished render did. */
export interface RenderResult {
  /** The output path, or null when only some chunks were asked for. */
  readonly output: string | null;
  readonly frames: number;
  readonly chunks: number;
  /** Chunks rendered by this run. */
  readonly rendered: number;
  /** Chunks found finished in the work folder and reused. */
  readonly reused: number;
  readonly workDir: string;
  readonly encoders: readonly string[];
  readonly seconds: number;
  /** Per-frame metrics log and summary beside the output, when metrics are on. */
  readonly metrics: { readonly log: string; readonly summary: MetricsSummary } | null;
}

/**
 * How many chunks render at once on worker threads: one for a GPU style (one GPU job at a time),
 * else the requested count; never more than there are chunks. 0 (render in this thread, one chunk
 * after another) stays 0.
 *
 * @param device - Where the style runs.
 * @param requested - The job's worker count.
 * @param chunks - Chunks left to render.
 */
export function chunkWorkers(device: 'cpu' | 'gpu', requested: number, chunks: number): number {
  if (requested === 0) return 0;
  return Math.min(device === 'gpu' ? 1 : requested, chunks);
}

/** Where the job's style runs (see `Stylizer.device`), logged with the reason when the style says. */
async function styleDevice(job: Job, log: Logger | undefined): Promise<'cpu' | 'gpu'> {
  const style = getStylizer(job.style);
  if (style.device === undefined) return 'cpu';
  // The job's style options are parsed already (defaults filled).
  const { device, reason } = await style.device(job.styleOptions as never);
  log?.info({ style: job.style, device }, `${job.style}: running on ${device.toUpperCase()} (${reason})`);
  return device;
}

/** Bytes a chunk's segment may take: the source's bits per frame, with headroom for a grainier style. */
function bytesPerFrame(sizeBytes: number, frames: number): number {
  return Math.max(4096, (sizeBytes / Math.max(1, frames)) * 3);
}

async function ensureSpace(folder: string, needed: number): Promise<void> {
  const { free } = await diskSpace(folder);
  if (free < needed) throw new DiskFullError(folder, needed, free);
}

function segmentName(index: number): string {
  return `chunk-${String(index).padStart(5, '0')}.mp4`;
}

function metricsLogName(index: number): string {
  return `chunk-${String(index).padStart(5, '0')}.metrics.jsonl`;
}

/**
 * Render chunks `workers` at a time on worker threads (0: one after another in this thread). Stops
 * at the first error or abort, ending the chunks still rendering.
 */
async function runPool(
  tasks: readonly ChunkTask[],
  workers: number,
  onFrames: (index: number, written: number) => void,
  onDone: (result: ChunkResult) => Promise<void>,
  beforeChunk: (task: ChunkTask) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  if (workers === 0) {
    for (const task of tasks) {
      if (signal?.aborted) throw new CanceledError('the render');
      await beforeChunk(task);
      await onDone(await renderChunk(task, (w) => onFrames(task.chunk.index, w), signal));
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
      await beforeChunk(task);
      const t = task;
      await onDone(await threads.run(t, (w) => onFrames(t.chunk.index, w), stop.signal));
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

/** Errors that mean "this style's model cannot be used here". */
const MODEL_ERRORS = new Set(['ERR_MODEL_NOT_FOUND', 'ERR_MODEL_LOAD']);

/**
 * Create the style once before any chunk, so a missing or unloadable model shows up now: the job
 * then falls back to `fallbackStyle` with a warning, or fails when `onStyleError` is `fail`.
 */
async function checkStyleLoads(
  job: Job,
  info: Awaited<ReturnType<typeof probe>>,
  options: RenderOptions,
): Promise<Job> {
  const video = info.streams.find((s) => s.type === 'video' && !s.attachedPicture);
  const width = video?.type === 'video' ? video.width : 16;
  const height = video?.type === 'video' ? video.height : 16;
  try {
    const style = getStylizer(job.style);
    // A style that can check its resources without an instance (most can) skips building one.
    if (style.check !== undefined) await style.check(job.styleOptions as never);
    else (await style.create(job.styleOptions as never, { width, height, seed: job.seed })).dispose();
    return job;
  } catch (err) {
    return fallBack(job, err, options);
  }
}

/** The job with its fallback style (and a warning) for a model error, or the error again. */
function fallBack(job: Job, err: unknown, options: RenderOptions): Job {
  if (!FramecraftError.is(err) || !MODEL_ERRORS.has(err.code) || job.onStyleError === 'fail') throw err;
  const message = `${(err as Error).message}; rendering with the ${job.fallbackStyle} style instead`;
  options.logger?.warn({ style: job.style, fallback: job.fallbackStyle, code: err.code }, message);
  options.onWarning?.(message);
  return parseJob({ ...job, style: job.fallbackStyle, styleOptions: {}, stylePreset: job.stylePreset });
}

/**
 * Refuse, before any work, frames the job's encoder cannot take (naming the input and its size),
 * and say when an odd size is padded to the even one 4:2:0 needs (the output is then that size).
 */
function checkFrameSize(job: Job, info: Awaited<ReturnType<typeof probe>>, options: PlanOptions): void {
  const video = info.streams.find((s) => s.type === 'video' && !s.attachedPicture);
  if (video?.type !== 'video') return;
  const size = encodedSize(job.codec, 'yuv420p', video.width, video.height, job.input);
  if (!size.padded) return;
  const message = paddedSizeNote(job.input, video.width, video.height, size, job.codec);
  options.logger?.warn({ width: size.width, height: size.height }, message);
  options.onWarning?.(message);
}

/**
 * Render a job: plan chunks at keyframes, render the unfinished ones (worker threads, each chunk
 * warmed by pre-roll so its output depends only on the input and the job), journal each finished
 * segment, stitch them with the source's audio and subtitles, and put the output at its path only
 * when complete. Running the same job again after a crash or kill continues from the journal.
 *
 * @param input - A job (checked with {@link parseJob}).
 * @param options - Restart, overwrite, progress, abort, chunk selection.
 * @returns What was rendered and reused.
 * @throws {JobConfigError} For an invalid job.
 * @throws {JobChangedError} When the work folder holds a render of other settings (use `restart`).
 * @throws {OutputExistsError} When the output exists and `overwrite` is not set.
 * @throws {DiskFullError} When the disk is too full (before the render and before each chunk).
 */
export async function render(input: unknown, options: RenderOptions = {}): Promise<RenderResult> {
  const log = options.logger;
  try {
    const result = await renderJob(input, options);
    log?.info(
      {
        output: result.output,
        frames: result.frames,
        chunks: result.chunks,
        rendered: result.rendered,
        reused: result.reused,
        seconds: Number(result.seconds.toFixed(3)),
        fps: Number((result.frames / result.seconds).toFixed(1)),
      },
      result.output === null ? 'chunks done' : 'render done',
    );
    return result;
  } catch (err) {
    log?.error(
      { code: FramecraftError.is(err) ? err.code : null, err: (err as Error).message },
      'render failed',
    );
    throw err;
  }
}

/** A registered model a render uses (see {@link RenderPlan}). */
export interface RenderModel {
  readonly name: string;
  /** The version in use: pinned (`name@version`), the journal's on a resume, else the newest. */
  readonly version: string;
  /** True for `name@version`: no newer version swaps in. */
  readonly pinned: boolean;
  /** The version each finished chunk was rendered with. */
  readonly chunks: Readonly<Record<string, string>>;
}

/**
 * A render planned and journaled, ready for its chunks: what {@link render} does before rendering,
 * and what a render farm submits as jobs.
 */
export interface RenderPlan {
  /** The job as it will render: the fallback style applied if the model failed, `auto` codec decided. */
  readonly job: Job;
  /** {@link jobHash} of `job`. */
  readonly hash: string;
  readonly workDir: string;
  /** Absolute output path. */
  readonly output: string;
  readonly chunks: readonly Chunk[];
  readonly totalFrames: number;
  /** Intact segments of an earlier attempt (journaled, hash checked), by chunk index. */
  readonly completed: ReadonlyMap<number, SegmentRecord>;
  readonly model: RenderModel | null;
  /** Estimated bytes of encoded output per frame, for disk checks. */
  readonly bytesPerFrame: number;
}

/** Options of {@link planRender}: the subset of {@link RenderOptions} planning uses. */
export type PlanOptions = Pick<RenderOptions, 'restart' | 'overwrite' | 'onWarning' | 'logger' | 'chunks'>;

/**
 * Plan a render: check the job and its input, resolve a registered model (falling back to
 * `fallbackStyle` when it cannot load), decide `auto` codec, find the work folder and any
 * finished segments of an earlier attempt, cut chunks at keyframes, and write the journal.
 *
 * @param input - A job (checked with {@link parseJob}).
 * @param options - Restart, overwrite, warnings, logger; with `chunks`, an existing output is no
 *   obstacle (only those chunks will render).
 * @returns The plan.
 * @throws {JobConfigError} For an invalid job.
 * @throws {JobChangedError} When the work folder holds a render of other settings (use `restart`).
 * @throws {OutputExistsError} When the output exists and `overwrite` is not set.
 */
export async function planRender(input: unknown, options: PlanOptions = {}): Promise<RenderPlan> {
  const log = options.logger;
  // Styles behind their own subpath (neural) register when first asked for.
  const named = (input as { style?: unknown } | null)?.style;
  if (typeof named === 'string') await loadStylizer(named).catch(() => undefined);
  let job: Job = parseJob(input);
  const output = resolve(job.output);
  outputContainer(job.output);
  if (options.chunks === undefined && existingOutput(output) && options.overwrite !== true)
    throw new OutputExistsError(output);
  // The input is checked first: a missing, empty, truncated or undecodable file gets io's error.
  const info = await probe(job.input);
  // A registered model (by name) is resolved per chunk: a new version swaps in at a chunk boundary.
  const registry = modelRegistry();
  let modelRef = modelRefOf(job.styleOptions);
  if (modelRef !== null) {
    let resolved: Awaited<ReturnType<ModelRegistry['resolve']>> | null = null;
    try {
      resolved = await registry.resolve(modelRef.name, modelRef.version);
    } catch (err) {
      job = fallBack(job, err, options);
      modelRef = null;
    }
    if (resolved !== null) {
      const checked = await checkStyleLoads(
        { ...job, styleOptions: modelOptionsOf(job, resolved) },
        info,
        options,
      );
      if (checked.style !== job.style) {
        job = checked;
        modelRef = null;
      }
    }
  } else job = await checkStyleLoads(job, info, options);
  // A container that takes only some encoders (WebM: VP9, AV1) turns `auto` into its default and
  // refuses the others before any work.
  job = { ...job, codec: outputEncoder(job.output, job.codec) };
  // `auto` is decided once here (not per chunk): NVENC when it really encodes on this machine.
  // The decision is part of the job hash, so a render never mixes two encoders' segments.
  if (job.codec === 'auto') {
    const nvenc = await checkEncoder('h264_nvenc');
    // A decision, not a failure: the log and --verbose say it; a terminal without a GPU stays quiet.
    if (!nvenc.usable) log?.info({ encoder: 'libx264' }, `encoding with libx264: ${nvenc.reason}`);
    job = { ...job, codec: nvenc.usable ? 'h264_nvenc' : 'libx264' };
  }
  checkFrameSize(job, info, options);
  const workDir = workDirOf(job);
  const hash = await jobHash(job);
  let journal = await readJournal(workDir);
  if (journal !== null && (options.restart === true || journal.job_hash !== hash)) {
    if (options.restart !== true) throw new JobChangedError(workDir);
    await rm(workDir, { recursive: true, force: true });
    journal = null;
  }

  // Plan from every frame's time and the keyframes (one packet scan gives both).
  let frameTimes: number[];
  let keyframes: number[];
  {
    await using reader = await VideoReader.open(job.input);
    const tb = reader.stream.timeBase;
    const seconds = (pts: number): number => (pts * tb.num) / tb.den;
    frameTimes = (await reader.frameTimestamps()).map(seconds);
    keyframes = (await reader.keyframeTimestamps()).map(seconds);
    // Packets are no proof of pictures: the first one must decode before chunks are planned.
    const decodes = await reader.frameAt({ frame: 0 }).then(
      () => true,
      () => false,
    );
    if (frameTimes.length === 0 || !decodes) throw noFramesError(job.input);
  }
  const chunks = planChunks({
    frameTimes,
    keyframeTimes: keyframes,
    chunkDuration: job.chunkDuration,
    preroll: prerollOf(job),
  });

  // The work folder only once the input is known to have pictures (a failed plan leaves nothing);
  // finished segments whose files are intact are reused.
  await mkdir(workDir, { recursive: true });
  const completed = await intactSegments(workDir, journal);
  // The model version in use: the journal's on a resume (the same version continues), else the
  // pinned or newest one; each chunk records the version it was started with.
  let model: RenderModel | null = null;
  if (modelRef !== null) {
    const version =
      modelRef.version ??
      (journal?.model?.name === modelRef.name ? journal.model.current : undefined) ??
      (await registry.resolve(modelRef.name)).manifest.version;
    const kept = Object.entries(journal?.model?.chunks ?? {}).filter(([i]) => completed.has(Number(i)));
    model = {
      name: modelRef.name,
      version,
      pinned: modelRef.version !== undefined,
      chunks: Object.fromEntries(kept),
    };
  }
  const plan: RenderPlan = {
    job,
    hash,
    workDir,
    output,
    chunks,
    totalFrames: frameTimes.length,
    completed,
    model,
    bytesPerFrame: bytesPerFrame((await stat(job.input)).size, frameTimes.length),
  };
  await writeRenderJournal(plan, completed, model);
  return plan;
}

/**
 * Write a plan's journal (atomically) with these finished segments.
 *
 * @param plan - The plan.
 * @param completed - Finished segments by chunk index.
 * @param model - The model state to record (the plan's by default).
 */
export async function writeRenderJournal(
  plan: Pick<RenderPlan, 'job' | 'hash' | 'workDir' | 'output' | 'chunks' | 'totalFrames' | 'model'>,
  completed: ReadonlyMap<number, SegmentRecord>,
  model: RenderModel | null = plan.model,
): Promise<void> {
  const done = [...completed.keys()].sort((a, b) => a - b);
  let lastFrame = 0;
  for (const c of plan.chunks) {
    if (!completed.has(c.index)) break;
    lastFrame = c.end;
  }
  const journal: Journal = {
    version: 1,
    job_hash: plan.hash,
    input: resolve(plan.job.input),
    output: plan.output,
    total_frames: plan.totalFrames,
    last_frame: lastFrame,
    chunks_total: plan.chunks.length,
    chunks_completed: done,
    codec: plan.job.codec,
    crf: plan.job.crf,
    segments: Object.fromEntries([...completed].map(([i, r]) => [String(i), r])),
    ...(model !== null && {
      model: { name: model.name, current: model.version, chunks: { ...model.chunks } },
    }),
    updated: new Date().toISOString(),
  };
  await writeJournal(plan.workDir, journal);
}

/**
 * The task that renders one chunk of a plan into its segment in the work folder.
 *
 * @param plan - The plan.
 * @param chunk - One of its chunks.
 * @param threads - The chunk's share of the cores (see `ChunkTask.threads`).
 * @returns A structured-clone friendly task for {@link renderChunk} or {@link ChunkThreads}.
 */
export function chunkTaskOf(
  plan: Pick<RenderPlan, 'job' | 'workDir'>,
  chunk: Chunk,
  threads?: number,
): ChunkTask {
  return {
    job: plan.job,
    chunk,
    segment: join(plan.workDir, segmentName(chunk.index)),
    metricsLog: plan.job.metrics.enabled ? join(plan.workDir, metricsLogName(chunk.index)) : null,
    ...(threads !== undefined && { threads }),
  };
}

/**
 * Style options that use one version of a registered model (its file and tensor layout) in place
 * of the model's name.
 *
 * @param job - The job.
 * @param resolved - The version, from `ModelRegistry.resolve`.
 * @returns The job's style options with the model's path and layout.
 */
export function modelOptionsOf(
  job: Job,
  resolved: { manifest: ModelManifest; path: string },
): Record<string, unknown> {
  return withModelFile(job.styleOptions, resolved);
}

/** Options of {@link finishRender}. */
export interface FinishOptions {
  readonly signal?: AbortSignal;
  readonly onWarning?: (message: string) => void;
  readonly logger?: Logger;
}

/**
 * Finish a render whose chunks are all rendered: stitch the segments with the source's audio,
 * subtitles and metadata into the output (which appears only when complete), merge the chunks'
 * metrics logs, and remove the work folder.
 *
 * @param plan - The plan (its job, work folder, output and chunks).
 * @param options - Abort, warnings, logger.
 * @returns The output and the metrics log and summary when metrics are on.
 */
export async function finishRender(
  plan: Pick<RenderPlan, 'job' | 'workDir' | 'output' | 'chunks' | 'totalFrames'>,
  options: FinishOptions = {},
): Promise<{ output: string; metrics: RenderResult['metrics'] }> {
  const { job, workDir, output, chunks } = plan;
  options.logger?.info({ segments: chunks.length, output }, 'stitch');
  await mkdir(dirname(output), { recursive: true });
  await removeStalePartials(output);
  await remux({
    output,
    segments: chunks.map((c) => join(workDir, segmentName(c.index))),
    source: job.input,
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
    ...(options.onWarning !== undefined ? { onWarning: options.onWarning } : {}),
  });
  let metrics: RenderResult['metrics'] = null;
  if (job.metrics.enabled) metrics = await mergeMetrics(chunks, workDir, output, job.style, plan.totalFrames);
  await rm(workDir, { recursive: true, force: true });
  return { output, metrics };
}

async function renderJob(input: unknown, options: RenderOptions): Promise<RenderResult> {
  const log = options.logger;
  const started = performance.now();
  await limitMallocRetention();
  const plan = await planRender(input, options);
  const { job, workDir, output, hash, totalFrames } = plan;
  const registry = modelRegistry();
  const completed = new Map(plan.completed);
  const reused = completed.size;
  const modelState =
    plan.model === null
      ? null
      : { ...plan.model, chunks: { ...plan.model.chunks } as Record<string, string> };
  const progress = (stage: RenderProgress['stage'], framesDone: number, chunksDone: number, rate: number) => {
    const left = totalFrames - framesDone;
    options.onProgress?.({
      stage,
      framesDone,
      totalFrames,
      chunksDone,
      chunks: plan.chunks.length,
      fps: rate,
      etaSeconds: rate > 0 ? left / rate : null,
    });
  };
  let journalWrite = Promise.resolve();

  const wanted =
    options.chunks === undefined ? plan.chunks : plan.chunks.filter((c) => options.chunks!.includes(c.index));
  const pending = wanted.filter((c) => !completed.has(c.index));
  const pendingFrames = pending.reduce((s, c) => s + c.end - c.start, 0);
  // Before anything: room for the pending segments and the stitched output.
  await ensureSpace(workDir, pendingFrames * plan.bytesPerFrame);
  if (options.chunks === undefined) await ensureSpace(dirname(output), totalFrames * plan.bytesPerFrame);

  // A GPU style renders one chunk at a time (chunks would otherwise compete for video memory);
  // that worker gets every CPU thread for decoding and encoding.
  const device = pending.length > 0 ? await styleDevice(job, log) : 'cpu';
  const workers = chunkWorkers(device, job.workers ?? availableParallelism(), pending.length);
  const threads = Math.max(1, Math.floor(availableParallelism() / Math.max(1, workers)));
  const tasks: ChunkTask[] = pending.map((chunk) => chunkTaskOf(plan, chunk, threads));
  const inFlight = new Map<number, number>();
  let doneFrames = [...completed.values()].reduce((s, r) => s + r.frames, 0);
  let renderedFrames = 0;
  const renderStart = performance.now();
  const rate = (): number => {
    const live = [...inFlight.values()].reduce((s, v) => s + v, 0);
    const sec = (performance.now() - renderStart) / 1000;
    return sec > 0 ? (renderedFrames + live) / sec : 0;
  };
  const encoders = new Set<string>();
  log?.info(
    {
      input: resolve(job.input),
      output,
      style: job.style,
      jobHash: hash,
      workDir,
      frames: totalFrames,
      chunks: plan.chunks.length,
      reused,
      pending: pending.length,
      workers,
      device,
      codec: job.codec,
    },
    'render start',
  );
  progress('render', doneFrames, completed.size, 0);
  await runPool(
    tasks,
    workers,
    (index, written) => {
      inFlight.set(index, written);
      const live = [...inFlight.values()].reduce((s, v) => s + v, 0);
      progress('render', doneFrames + live, completed.size, rate());
    },
    async (result) => {
      inFlight.delete(result.index);
      for (const w of result.warnings) {
        log?.warn({ chunk: result.index }, w);
        options.onWarning?.(w);
      }
      log?.info(
        { chunk: result.index, frames: result.frames, encoder: result.encoder, sha256: result.sha256 },
        'chunk done',
      );
      encoders.add(result.encoder);
      completed.set(result.index, {
        file: segmentName(result.index),
        frames: result.frames,
        sha256: result.sha256,
      });
      doneFrames += result.frames;
      renderedFrames += result.frames;
      // Journal writes are serialised: each waits for the one before.
      journalWrite = journalWrite.then(() => writeRenderJournal(plan, completed, modelState));
      await journalWrite;
      progress('render', doneFrames, completed.size, rate());
    },
    async (task) => {
      await ensureSpace(workDir, (task.chunk.end - task.chunk.start) * plan.bytesPerFrame);
      if (modelState !== null) {
        // A newer installed version (already loaded and checked by the registry when it was
        // added) takes over from the next chunk; a pinned name@version never changes.
        if (!modelState.pinned) {
          const newest = (await registry.resolve(modelState.name)).manifest.version;
          if (newest !== modelState.version) {
            log?.info(
              { model: modelState.name, from: modelState.version, to: newest, chunk: task.chunk.index },
              'model swapped',
            );
            modelState.version = newest;
          }
        }
        task.styleOptions = modelOptionsOf(job, await registry.resolve(modelState.name, modelState.version));
        modelState.chunks[String(task.chunk.index)] = modelState.version;
      }
    },
    options.signal,
  );

  if (options.chunks !== undefined) {
    return {
      output: null,
      frames: wanted.reduce((s, c) => s + c.end - c.start, 0),
      chunks: wanted.length,
      rendered: pending.length,
      reused: wanted.length - pending.length,
      workDir,
      encoders: [...encoders],
      seconds: (performance.now() - started) / 1000,
      metrics: null,
    };
  }

  progress('stitch', doneFrames, completed.size, rate());
  const { metrics } = await finishRender(plan, options);
  progress('done', totalFrames, plan.chunks.length, rate());
  return {
    output,
    frames: totalFrames,
    chunks: plan.chunks.length,
    rendered: pending.length,
    reused,
    workDir,
    encoders: [...encoders],
    seconds: (performance.now() - started) / 1000,
    metrics,
  };
}

/**
 * Delete temporary outputs a killed earlier run left beside the output (`.<name>.partial-<pid>-…`,
 * see io's PartialFile) whose process is gone.
 */
async function removeStalePartials(output: string): Promise<void> {
  const ext = extname(output);
  const stem = basename(output, ext);
  const pattern = new RegExp(`^\\.${escapeRegExp(stem)}\\.partial-(\\d+)-[0-9a-f]{8}${escapeRegExp(ext)}$`);
  for (const name of await readdir(dirname(output))) {
    const m = pattern.exec(name);
    if (m === null) continue;
    const pid = Number(m[1]);
    let alive = pid === process.pid;
    if (!alive) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (err) {
        alive = (err as NodeJS.ErrnoException).code === 'EPERM';
      }
    }
    if (!alive) await rm(join(dirname(output), name), { force: true });
  }
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Join the chunks' metric logs in frame order beside the output, with a summary. */
async function mergeMetrics(
  plan: readonly Chunk[],
  workDir: string,
  output: string,
  style: string,
  totalFrames: number,
): Promise<{ log: string; summary: MetricsSummary }> {
  const stem = join(dirname(output), basename(output, extname(output)));
  const log = `${stem}.metrics.jsonl`;
  const lines: string[] = [];
  const values = new Map<string, number[]>();
  for (const c of plan) {
    const text = await readFile(join(workDir, metricsLogName(c.index)), 'utf8');
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      lines.push(line);
      for (const [k, v] of Object.entries(JSON.parse(line) as Record<string, unknown>)) {
        if (typeof v !== 'number' || k === 'frame_idx') continue;
        const list = values.get(k);
        if (list === undefined) values.set(k, [v]);
        else list.push(v);
      }
    }
  }
  const outMeans = values.get('mean_luma') ?? [];
  const inMeans = values.get('input_mean_luma') ?? [];
  const summary: MetricsSummary = {
    style,
    frames: totalFrames,
    sampled: lines.length,
    metrics: Object.fromEntries(
      [...values]
        .filter(([k]) => k !== 'mean_luma' && k !== 'input_mean_luma')
        .map(([k, v]) => [k, summarize(v)]),
    ),
    global_flicker: globalFlicker(outMeans, inMeans),
  };
  await writeFileAtomic(log, `${lines.join('\n')}\n`);
  await writeFileAtomic(`${stem}.metrics.summary.json`, `${JSON.stringify(summary, null, 2)}\n`);
  return { log, summary };
}

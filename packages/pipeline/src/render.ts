import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CanceledError, FramecraftError } from '@framecraft/core';
import { checkEncoder, diskSpace, probe, remux, VideoReader, writeFileAtomic } from '@framecraft/io';
import { globalFlicker, type MetricsSummary, summarize } from '@framecraft/metrics';
import { type ModelManifest, ModelRegistry } from '@framecraft/ml';
import { getStylizer, loadStylizer } from '@framecraft/stylizers';
import type { Logger } from 'pino';
import { type ChunkResult, type ChunkTask, fileSha256, renderChunk } from './chunk.ts';
import type { FromWorker, ToWorker } from './chunk-worker.ts';
import { deferred } from './deferred.ts';
import { DiskFullError, JobChangedError, OutputExistsError } from './errors.ts';
import { dataHome, type Job, jobHash, parseJob, workDirOf } from './job.ts';
import { type Journal, readJournal, writeJournal } from './journal.ts';
import { type Chunk, planChunks } from './plan.ts';

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

/** Where the job's style runs (see `Stylizer.device`). */
async function styleDevice(job: Job): Promise<'cpu' | 'gpu'> {
  const style = getStylizer(job.style);
  // The job's style options are parsed already (defaults filled).
  return style.device === undefined ? 'cpu' : style.device(job.styleOptions as never);
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

/** The worker module beside this one (TypeScript when running from source, JavaScript from dist). */
function workerUrl(): URL {
  return new URL(
    import.meta.url.endsWith('.ts') ? './chunk-worker.ts' : './chunk-worker.js',
    import.meta.url,
  );
}

/**
 * Render chunks on worker threads, `workers` at a time, each chunk start to finish in one worker.
 * Stops at the first error (terminating the others) and on abort.
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
  const queue = [...tasks];
  const pool: Worker[] = [];
  const { promise, resolve: finish, reject } = deferred<void>();
  let active = 0;
  let failed = false;
  const fail = (err: unknown): void => {
    if (failed) return;
    failed = true;
    for (const w of pool) void w.terminate();
    reject(err);
  };
  const abort = (): void => fail(new CanceledError('the render'));
  signal?.addEventListener('abort', abort, { once: true });
  const next = async (w: Worker): Promise<void> => {
    const task = queue.shift();
    if (task === undefined) {
      w.postMessage({ type: 'stop' } satisfies ToWorker);
      if (active === 0 && !failed) finish();
      return;
    }
    try {
      await beforeChunk(task);
    } catch (err) {
      fail(err);
      return;
    }
    active++;
    w.postMessage({ type: 'chunk', task } satisfies ToWorker);
  };
  for (let i = 0; i < Math.min(workers, tasks.length); i++) {
    const w = new Worker(workerUrl());
    pool.push(w);
    w.on('message', (msg: FromWorker) => {
      if (msg.type === 'frames') onFrames(msg.index, msg.written);
      else if (msg.type === 'done') {
        active--;
        onDone(msg.result).then(
          () => next(w),
          (err: unknown) => fail(err),
        );
      } else {
        const e = msg.error;
        const err =
          e.code !== null
            ? new FramecraftError(e.code, e.message)
            : Object.assign(new Error(e.message), { name: e.name });
        if (e.stack !== undefined) err.stack = e.stack;
        fail(err);
      }
    });
    w.on('error', fail);
    w.on('exit', (code) => {
      if (code !== 0 && !failed) fail(new Error(`a render worker exited with code ${code}`));
    });
    void next(w);
  }
  if (tasks.length === 0) finish();
  try {
    await promise;
  } finally {
    signal?.removeEventListener('abort', abort);
    await Promise.all(pool.map((w) => w.terminate()));
  }
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
    const instance = await getStylizer(job.style).create(job.styleOptions as never, {
      width,
      height,
      seed: job.seed,
    });
    instance.dispose();
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

/** A `model` style option that names a registered model (`name` or `name@version`), not a file. */
function registryRef(job: Job): { name: string; version: string | undefined } | null {
  const model = job.styleOptions.model;
  if (typeof model !== 'string' || existsSync(model) || !/^[a-z0-9][a-z0-9._-]*(@[^@/]+)?$/.test(model))
    return null;
  const [name = '', version] = model.split('@');
  return { name, version };
}

/** Style options that point at one version of a registered model, with its tensor layout. */
function modelOptionsOf(
  job: Job,
  resolved: { manifest: ModelManifest; path: string },
): Record<string, unknown> {
  const m = resolved.manifest;
  return {
    ...job.styleOptions,
    model: resolved.path,
    layout: m.layout,
    channels: m.channels,
    range: m.range,
  };
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

async function renderJob(input: unknown, options: RenderOptions): Promise<RenderResult> {
  const log = options.logger;
  const started = performance.now();
  // Styles behind their own subpath (neural) register when first asked for.
  const named = (input as { style?: unknown } | null)?.style;
  if (typeof named === 'string') await loadStylizer(named).catch(() => undefined);
  let job: Job = parseJob(input);
  const output = resolve(job.output);
  if (options.chunks === undefined && existsSync(output) && options.overwrite !== true)
    throw new OutputExistsError(output);
  // The input is checked first: a missing, empty, truncated or undecodable file gets io's error.
  const info = await probe(job.input);
  // A registered model (by name) is resolved per chunk: a new version swaps in at a chunk boundary.
  const registry = new ModelRegistry(join(dataHome(), 'models'));
  let modelRef = registryRef(job);
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
  // `auto` is decided once here (not per chunk): NVENC when it really encodes on this machine.
  // The decision is part of the job hash, so a render never mixes two encoders' segments.
  if (job.codec === 'auto') {
    const nvenc = await checkEncoder('h264_nvenc');
    if (!nvenc.usable) {
      const message = `NVENC is not usable here (${nvenc.reason}); encoding with libx264.`;
      log?.warn({ encoder: 'h264_nvenc', fallback: 'libx264' }, message);
      options.onWarning?.(message);
    }
    job = { ...job, codec: nvenc.usable ? 'h264_nvenc' : 'libx264' };
  }
  const workDir = workDirOf(job);
  const hash = await jobHash(job);
  let journal = await readJournal(workDir);
  if (journal !== null && (options.restart === true || journal.job_hash !== hash)) {
    if (options.restart !== true) throw new JobChangedError(workDir);
    await rm(workDir, { recursive: true, force: true });
    journal = null;
  }
  await mkdir(workDir, { recursive: true });

  // Plan from every frame's time and the keyframes (one packet scan gives both).
  let frameTimes: number[];
  let keyframes: number[];
  {
    await using reader = await VideoReader.open(job.input);
    const tb = reader.stream.timeBase;
    const seconds = (pts: number): number => (pts * tb.num) / tb.den;
    frameTimes = (await reader.frameTimestamps()).map(seconds);
    keyframes = (await reader.keyframeTimestamps()).map(seconds);
  }
  const plan = planChunks({
    frameTimes,
    keyframeTimes: keyframes,
    chunkDuration: job.chunkDuration,
    preroll: job.preroll,
  });
  const totalFrames = frameTimes.length;
  const perFrame = bytesPerFrame((await stat(job.input)).size, totalFrames);
  const progress = (stage: RenderProgress['stage'], framesDone: number, chunksDone: number, rate: number) => {
    const left = totalFrames - framesDone;
    options.onProgress?.({
      stage,
      framesDone,
      totalFrames,
      chunksDone,
      chunks: plan.length,
      fps: rate,
      etaSeconds: rate > 0 ? left / rate : null,
    });
  };

  // Reuse finished segments whose files are intact.
  const completed = new Map<number, { file: string; frames: number; sha256: string }>();
  if (journal !== null) {
    for (const index of journal.chunks_completed) {
      const rec = journal.segments[String(index)];
      if (rec === undefined) continue;
      const file = join(workDir, rec.file);
      if (existsSync(file) && (await fileSha256(file)) === rec.sha256) completed.set(index, rec);
    }
  }
  const reused = completed.size;
  // The model version in use: the journal's on a resume (the same version continues), else the
  // pinned or newest one; each chunk records the version it was started with.
  let modelState: { name: string; current: string; chunks: Record<string, string> } | null = null;
  if (modelRef !== null) {
    const current =
      modelRef.version ??
      (journal?.model?.name === modelRef.name ? journal.model.current : undefined) ??
      (await registry.resolve(modelRef.name)).manifest.version;
    modelState = { name: modelRef.name, current, chunks: { ...(journal?.model?.chunks ?? {}) } };
  }
  const journalOf = (): Journal => {
    const done = [...completed.keys()].sort((a, b) => a - b);
    let lastFrame = 0;
    for (const c of plan) {
      if (!completed.has(c.index)) break;
      lastFrame = c.end;
    }
    return {
      version: 1,
      job_hash: hash,
      input: resolve(job.input),
      output,
      total_frames: totalFrames,
      last_frame: lastFrame,
      chunks_total: plan.length,
      chunks_completed: done,
      codec: job.codec,
      crf: job.crf,
      segments: Object.fromEntries([...completed].map(([i, r]) => [String(i), r])),
      ...(modelState !== null && { model: { ...modelState, chunks: { ...modelState.chunks } } }),
      updated: new Date().toISOString(),
    };
  };
  let journalWrite = writeJournal(workDir, journalOf());
  await journalWrite;

  const wanted = options.chunks === undefined ? plan : plan.filter((c) => options.chunks!.includes(c.index));
  const pending = wanted.filter((c) => !completed.has(c.index));
  const pendingFrames = pending.reduce((s, c) => s + c.end - c.start, 0);
  // Before anything: room for the pending segments and the stitched output.
  await ensureSpace(workDir, pendingFrames * perFrame);
  if (options.chunks === undefined) await ensureSpace(dirname(output), totalFrames * perFrame);

  // A GPU style renders one chunk at a time (chunks would otherwise compete for video memory);
  // that worker gets every CPU thread for decoding and encoding.
  const device = pending.length > 0 ? await styleDevice(job) : 'cpu';
  const workers = chunkWorkers(device, job.workers ?? availableParallelism(), pending.length);
  const threads = Math.max(1, Math.floor(availableParallelism() / Math.max(1, workers)));
  const tasks: ChunkTask[] = pending.map((chunk: Chunk) => ({
    threads,
    job,
    chunk,
    segment: join(workDir, segmentName(chunk.index)),
    metricsLog: job.metrics.enabled ? join(workDir, metricsLogName(chunk.index)) : null,
  }));
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
      chunks: plan.length,
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
      journalWrite = journalWrite.then(() => writeJournal(workDir, journalOf()));
      await journalWrite;
      progress('render', doneFrames, completed.size, rate());
    },
    async (task) => {
      await ensureSpace(workDir, (task.chunk.end - task.chunk.start) * perFrame);
      if (modelState !== null && modelRef !== null) {
        // A newer installed version (already loaded and checked by the registry when it was
        // added) takes over from the next chunk; a pinned name@version never changes.
        if (modelRef.version === undefined) {
          const newest = (await registry.resolve(modelState.name)).manifest.version;
          if (newest !== modelState.current) {
            log?.info(
              { model: modelState.name, from: modelState.current, to: newest, chunk: task.chunk.index },
              'model swapped',
            );
            modelState.current = newest;
          }
        }
        task.styleOptions = modelOptionsOf(job, await registry.resolve(modelState.name, modelState.current));
        modelState.chunks[String(task.chunk.index)] = modelState.current;
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
  log?.info({ segments: plan.length, output }, 'stitch');
  await mkdir(dirname(output), { recursive: true });
  await removeStalePartials(output);
  const segments = plan.map((c) => join(workDir, segmentName(c.index)));
  await remux({
    output,
    segments,
    source: job.input,
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
    ...(options.onWarning !== undefined ? { onWarning: options.onWarning } : {}),
  });
  let metrics: RenderResult['metrics'] = null;
  if (job.metrics.enabled) metrics = await mergeMetrics(plan, workDir, output, job.style, totalFrames);
  await rm(workDir, { recursive: true, force: true });
  progress('done', totalFrames, plan.length, rate());
  return {
    output,
    frames: totalFrames,
    chunks: plan.length,
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

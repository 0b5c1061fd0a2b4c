import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { FramecraftError } from '@framecraft/core';
import { fileSha256, queryNvidiaGpus } from '@framecraft/io';
import { ModelRegistry } from '@framecraft/ml';
import {
  BUILT_IN_MODELS,
  ChunkThreads,
  chunkTaskOf,
  finishRender,
  intactSegments,
  type Job,
  modelRegistry,
  readJournal,
  type SegmentRecord,
  withStyleModel,
  writeRenderJournal,
} from '@framecraft/pipeline';
import { getStylizer, loadStylizer } from '@framecraft/stylizers';
import { type Job as BullJob, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { checkRedis, redactUrl, redisConnection } from './connection.ts';
import {
  addChunkRecords,
  type ChunkJobData,
  type ChunkJobResult,
  type ChunkProgress,
  cancelKey,
  checkJobHere,
  chunkQueueName,
  type ModelPin,
  PREFIX,
  type ResourceClass,
  readChunkRecord,
  STITCH_QUEUE,
  type StitchJobData,
  type StitchJobResult,
  workerName,
  writeChunkRecord,
} from './protocol.ts';

/** Options of {@link startFarmWorker}. */
export interface FarmWorkerOptions {
  /** The queue address, `redis://host:port`. */
  readonly queue: string;
  /** CPU-style chunks rendered at once (each on its own thread). The CPU count by default. */
  readonly concurrency?: number;
  /**
   * Queues to take chunks from: `cpu`, `gpu` or both. Default: `cpu`, plus `gpu` when nvidia-smi
   * finds a GPU here. A GPU queue is served one chunk at a time.
   */
  readonly resources?: readonly ResourceClass[];
  /** CPU threads each chunk's style may use; the cores divided by the chunks at once by default. */
  readonly threads?: number;
  /**
   * Seconds a chunk's lock lasts without renewal (renewed every half of it while the worker is
   * alive): how soon another worker takes over the chunk of a worker that died. 30 by default.
   */
  readonly lockSeconds?: number;
  /** How often this worker looks for chunks whose worker died, in seconds. 30 by default. */
  readonly stalledCheckSeconds?: number;
  /** Where registered models are looked up (`<data home>/models` by default). */
  readonly modelsDir?: string;
  readonly logger?: Logger;
  /** What the worker does, for a console. */
  readonly onEvent?: (event: FarmWorkerEvent) => void;
}

/** What a farm worker reports. */
export type FarmWorkerEvent =
  | { readonly type: 'ready'; readonly queues: readonly string[]; readonly concurrency: number }
  | {
      readonly type: 'chunk-start';
      readonly renderId: string;
      readonly output: string;
      readonly index: number;
      readonly attempt: number;
    }
  | {
      readonly type: 'chunk-done';
      readonly renderId: string;
      readonly index: number;
      readonly frames: number;
      readonly seconds: number;
      readonly reused: boolean;
    }
  | { readonly type: 'stitch-done'; readonly renderId: string; readonly output: string }
  | {
      readonly type: 'failed';
      readonly renderId: string;
      readonly index: number | null;
      readonly message: string;
    }
  | { readonly type: 'connection'; readonly state: 'lost' | 'back'; readonly message: string };

/** A running farm worker. */
export interface FarmWorker {
  /** `host:pid`. */
  readonly name: string;
  readonly queues: readonly string[];
  /**
   * Stop taking jobs and end. Graceful (default): chunks in flight finish first. Forced: they
   * are abandoned, and another worker takes them over when their locks expire.
   */
  close(force?: boolean): Promise<void>;
}

/** Errors a retry cannot fix: the job is failed at once instead of tried again. */
const FINAL = new Set(['ERR_FARM_JOB_MISMATCH', 'ERR_CANCELED', 'ERR_OUTPUT_EXISTS', 'ERR_JOB_CONFIG']);

function final(err: unknown): unknown {
  if (FramecraftError.is(err) && FINAL.has(err.code))
    return new UnrecoverableError(`${err.code}: ${err.message}`);
  return err;
}

/**
 * Start a render farm worker: takes chunk jobs from the queues of its resource classes and stitch
 * jobs, renders each chunk on a worker thread into the shared work folder, and reports progress.
 * Before rendering it checks that the job means the same here (settings hash, input, work folder)
 * and that it has the job's model version; it refuses clearly otherwise.
 *
 * @param options - Queue address, concurrency, resources, lock timing.
 * @returns The worker; `close()` it to stop.
 * @throws {RedisUnreachableError} When Redis cannot be reached at the start.
 */
export async function startFarmWorker(options: FarmWorkerOptions): Promise<FarmWorker> {
  await checkRedis(options.queue);
  const url = redactUrl(options.queue);
  const log = options.logger;
  const emit = (e: FarmWorkerEvent): void => options.onEvent?.(e);
  const me = workerName();
  const resources: readonly ResourceClass[] =
    options.resources ?? ((await queryNvidiaGpus()).gpus.length > 0 ? ['cpu', 'gpu'] : ['cpu']);
  const cpuSlots = resources.includes('cpu') ? (options.concurrency ?? availableParallelism()) : 0;
  const gpuSlots = resources.includes('gpu') ? 1 : 0;
  const threadsPerChunk =
    options.threads ?? Math.max(1, Math.floor(availableParallelism() / Math.max(1, cpuSlots + gpuSlots)));
  const pool = new ChunkThreads(Math.max(1, cpuSlots + gpuSlots));
  const registry =
    options.modelsDir === undefined
      ? modelRegistry()
      : new ModelRegistry(options.modelsDir, { builtIn: BUILT_IN_MODELS });
  const lockDuration = Math.round((options.lockSeconds ?? 30) * 1000);
  const stalledInterval = Math.round((options.stalledCheckSeconds ?? 30) * 1000);

  // Connection state, reported once per outage.
  let lost = false;
  const onError = (err: Error): void => {
    if (lost) return;
    lost = true;
    const message = `lost the connection to Redis at ${url} (${err.message}); retrying`;
    log?.warn({ queue: url }, message);
    emit({ type: 'connection', state: 'lost', message });
  };
  const connections: Redis[] = [];
  const connect = (): Redis => {
    const r = redisConnection(options.queue, onError);
    r.on('ready', () => {
      if (!lost) return;
      lost = false;
      const message = `connected to Redis at ${url} again`;
      log?.info({ queue: url }, message);
      emit({ type: 'connection', state: 'back', message });
    });
    connections.push(r);
    return r;
  };
  const control = connect();

  const canceled = async (renderId: string): Promise<boolean> =>
    (await control.exists(cancelKey(renderId))) === 1;

  const processChunk = async (job: BullJob<ChunkJobData, ChunkJobResult>): Promise<ChunkJobResult> => {
    const data = job.data;
    const { chunk } = data;
    const started = performance.now();
    try {
      if (await canceled(data.renderId))
        throw new FramecraftError('ERR_CANCELED', `the render of ${data.job.output} was canceled`);
      await loadStylizer(data.job.style);
      const parsed = await checkJobHere(data);
      const styleOptions = await modelHere(data.model, parsed, registry, me);
      emit({
        type: 'chunk-start',
        renderId: data.renderId,
        output: data.job.output,
        index: chunk.index,
        attempt: job.attemptsMade + 1,
      });
      log?.info({ render: data.renderId, chunk: chunk.index, attempt: job.attemptsMade + 1 }, 'chunk start');
      const task = {
        ...chunkTaskOf({ job: parsed, workDir: data.workDir }, chunk, threadsPerChunk),
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
          worker: me,
          seconds: (performance.now() - started) / 1000,
          reused: true,
        };
        emit({
          type: 'chunk-done',
          renderId: data.renderId,
          index: chunk.index,
          frames,
          seconds: 0,
          reused: true,
        });
        return result;
      }
      // Progress at most 4 times a second; a cancel mark stops the chunk within a second.
      const stop = new AbortController();
      let lastReport = 0;
      const watch = setInterval(() => {
        canceled(data.renderId).then(
          (yes) => {
            if (yes) stop.abort();
          },
          () => undefined,
        );
      }, 1000);
      let result: Awaited<ReturnType<ChunkThreads['run']>>;
      try {
        result = await pool.run(
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
      if (stop.signal.aborted)
        throw new FramecraftError('ERR_CANCELED', `the render of ${data.job.output} was canceled`);
      const file = basename(task.segment);
      await writeChunkRecord(data.workDir, chunk.index, {
        file,
        frames: result.frames,
        sha256: result.sha256,
        job_hash: data.hash,
        encoder: result.encoder,
      });
      const seconds = (performance.now() - started) / 1000;
      log?.info({ render: data.renderId, chunk: chunk.index, frames: result.frames, seconds }, 'chunk done');
      emit({
        type: 'chunk-done',
        renderId: data.renderId,
        index: chunk.index,
        frames: result.frames,
        seconds,
        reused: false,
      });
      return { ...result, file, worker: me, seconds, reused: false };
    } catch (err) {
      const message = (err as Error).message;
      log?.warn({ render: data.renderId, chunk: chunk.index, err: message }, 'chunk failed');
      emit({ type: 'failed', renderId: data.renderId, index: chunk.index, message });
      throw final(err);
    }
  };

  const processStitch = async (job: BullJob<StitchJobData, StitchJobResult>): Promise<StitchJobResult> => {
    const data = job.data;
    try {
      if (await canceled(data.renderId))
        throw new FramecraftError('ERR_CANCELED', `the render of ${data.output} was canceled`);
      await loadStylizer(data.job.style);
      const parsed = await checkJobHere(data);
      const completed = await finishedSegments(data);
      const missing = data.chunks.filter((c) => !completed.has(c.index)).map((c) => c.index);
      if (missing.length > 0)
        throw new FramecraftError(
          'ERR_FARM_JOB_MISMATCH',
          `Worker ${me} cannot stitch ${data.output}: chunk(s) ${missing.join(', ')} have no intact segment in ${data.workDir}. ` +
            'Run the same render command again to render them.',
        );
      if (existsSync(data.output) && !data.overwrite)
        throw new FramecraftError(
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
      const { metrics } = await finishRender(plan, log !== undefined ? { logger: log } : {});
      emit({ type: 'stitch-done', renderId: data.renderId, output: data.output });
      return {
        output: data.output,
        frames: data.totalFrames,
        chunks: data.chunks.length,
        metricsLog: metrics?.log ?? null,
        worker: me,
      };
    } catch (err) {
      const message = (err as Error).message;
      log?.warn({ render: data.renderId, err: message }, 'stitch failed');
      emit({ type: 'failed', renderId: data.renderId, index: null, message });
      throw final(err);
    }
  };

  const common = { prefix: PREFIX, lockDuration, stalledInterval, maxStalledCount: 2, name: me };
  const workers: Worker[] = [];
  const queues: string[] = [];
  if (cpuSlots > 0) {
    queues.push(chunkQueueName('cpu'));
    workers.push(
      new Worker(chunkQueueName('cpu'), processChunk, {
        ...common,
        connection: connect(),
        concurrency: cpuSlots,
      }),
    );
  }
  if (gpuSlots > 0) {
    queues.push(chunkQueueName('gpu'));
    workers.push(
      new Worker(chunkQueueName('gpu'), processChunk, { ...common, connection: connect(), concurrency: 1 }),
    );
  }
  queues.push(STITCH_QUEUE);
  workers.push(new Worker(STITCH_QUEUE, processStitch, { ...common, connection: connect(), concurrency: 1 }));
  for (const w of workers) w.on('error', onError);
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  log?.info(
    { queue: url, queues, concurrency: cpuSlots, gpu: gpuSlots > 0, worker: me },
    'farm worker ready',
  );
  emit({ type: 'ready', queues, concurrency: cpuSlots + gpuSlots });

  let closing: Promise<void> | null = null;
  return {
    name: me,
    queues,
    close(force = false): Promise<void> {
      closing ??= (async () => {
        await Promise.all(workers.map((w) => w.close(force)));
        await pool.close();
        for (const c of connections) c.disconnect();
      })();
      return closing;
    },
  };
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
      throw new FramecraftError(
        'ERR_FARM_MODEL',
        `Worker ${me} does not see the model file ${pin.path} (put models on the shared storage or register them on every worker).`,
      );
    const sha = await fileSha256(pin.path);
    if (sha !== pin.sha256)
      throw new FramecraftError(
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
    throw new FramecraftError(
      'ERR_FARM_MODEL',
      `Worker ${me} does not have model ${pin.name}@${pin.version}, which the job needs ` +
        `(install it on this machine with framecraft models add, or share ${registry.dir}). ${err.message}`,
    );
  }
  if (resolved.manifest.sha256 !== pin.sha256)
    throw new FramecraftError(
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

import { availableParallelism } from 'node:os';
import { queryNvidiaGpus } from '@framecraft/io';
import { ModelRegistry } from '@framecraft/ml';
import { BUILT_IN_MODELS, ChunkThreads, modelRegistry } from '@framecraft/pipeline';
import { type Job as BullJob, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { checkRedis, redactUrl, redisConnection } from './connection.ts';
import {
  type ChunkJobData,
  type ChunkJobResult,
  cancelKey,
  chunkQueueName,
  PREFIX,
  type ResourceClass,
  STITCH_QUEUE,
  type StitchJobData,
  type StitchJobResult,
  workerName,
} from './protocol.ts';
import { runChunkJob, runStitchJob, type WorkerContext } from './worker-jobs.ts';

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

  const ctx: WorkerContext = {
    me,
    pool,
    registry,
    threadsPerChunk,
    emit,
    canceled,
    ...(log !== undefined && { log }),
  };
  const processChunk = (job: BullJob<ChunkJobData, ChunkJobResult>): Promise<ChunkJobResult> =>
    runChunkJob(ctx, job);
  const processStitch = (job: BullJob<StitchJobData, StitchJobResult>): Promise<StitchJobResult> =>
    runStitchJob(ctx, job);

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

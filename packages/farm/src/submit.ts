import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { CanceledError, FramecraftError } from '@framecraft/core';
import { fileSha256 } from '@framecraft/io';
import type { ModelRegistry } from '@framecraft/ml';
import {
  modelRegistry,
  ProgressTracker,
  planRender,
  type RenderOptions,
  type RenderPlan,
  type RenderProgress,
  type RenderResult,
} from '@framecraft/pipeline';
import { getStylizer } from '@framecraft/stylizers';
import { FlowProducer, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { checkRedis, redactUrl, redisConnection } from './connection.ts';
import { FarmRenderError, RedisUnreachableError } from './errors.ts';
import {
  addChunkRecords,
  type ChunkJobData,
  type ChunkJobResult,
  cancelKey,
  chunkJobId,
  chunkQueueName,
  isChunkProgress,
  type ModelPin,
  PREFIX,
  type ResourceClass,
  renderIdOf,
  STITCH_QUEUE,
  type StitchJobData,
  type StitchJobResult,
} from './protocol.ts';

/** Options of {@link farmRender}. */
export interface FarmRenderOptions
  extends Pick<
    RenderOptions,
    'restart' | 'overwrite' | 'signal' | 'onProgress' | 'onWarning' | 'logger' | 'models'
  > {
  /** The queue address, `redis://host:port`. */
  readonly queue: string;
  /**
   * A folder every worker sees at the same path (NFS or similar): the work folder goes under it
   * (`<shared>/work/<key>`) unless the job names one. Default: the job's `workDir`, else the data
   * home, which only workers on this machine see.
   */
  readonly shared?: string;
  /** The queue to send chunks to; by default `gpu` for a style that prefers a GPU when a GPU worker is listening, else `cpu`. */
  readonly resource?: ResourceClass;
  /** Return once the render is queued, without following it. */
  readonly detach?: boolean;
  /**
   * What aborting `signal` does: `cancel` (default) stops the farm's work on this render (finished
   * chunks are kept: submitting the same job again continues); `detach` only stops following it.
   */
  readonly onAbort?: 'cancel' | 'detach';
  /** How long Redis may be unreachable while following before giving up, in seconds (300). */
  readonly redisTimeoutSeconds?: number;
  /** How long a chunk job may be retried after failing (3 attempts by default). */
  readonly attempts?: number;
}

/** What {@link farmRender} did. */
export interface FarmRenderResult extends RenderResult {
  /** The render's id on the farm. */
  readonly renderId: string;
  /** The queue its chunks went to. */
  readonly resource: ResourceClass;
  /** Workers (`host:pid`) that rendered its chunks, as seen while following. */
  readonly workers: readonly string[];
  /** True when the render was only queued (`detach`), so nothing was rendered yet. */
  readonly detached: boolean;
}

/** Days finished and failed jobs stay in Redis for inspection. */
const KEEP = { age: 7 * 24 * 3600 };

/** The job with absolute paths, its work folder under the shared folder when one is given. */
function farmJob(input: unknown, shared: string | undefined): unknown {
  const raw = (input ?? {}) as Record<string, unknown>;
  const job: Record<string, unknown> = { ...raw };
  if (typeof raw.input === 'string') job.input = resolve(raw.input);
  if (typeof raw.output === 'string') job.output = resolve(raw.output);
  if (typeof raw.workDir === 'string') job.workDir = resolve(raw.workDir);
  else if (shared !== undefined && typeof raw.output === 'string') {
    const key = createHash('sha256').update(resolve(raw.output)).digest('hex').slice(0, 16);
    job.workDir = join(resolve(shared), 'work', key);
  }
  return job;
}

/** The model version every worker must hold: a registered one, or the file the style reads. */
async function pinModel(plan: RenderPlan, models: ModelRegistry): Promise<ModelPin | null> {
  if (plan.model !== null) {
    const { manifest } = await models.resolve(plan.model.name, plan.model.version);
    return { kind: 'registry', name: manifest.name, version: manifest.version, sha256: manifest.sha256 };
  }
  // The styles so far read at most one file (the neural style's model).
  const [file] = getStylizer(plan.job.style).resources?.files(plan.job.styleOptions) ?? [];
  if (file === undefined) return null;
  return { kind: 'file', path: resolve(file), sha256: await fileSha256(file) };
}

/**
 * Render a job on the render farm: plan it here (the same plan, journal and work folder as a local
 * render), queue its unfinished chunks as BullMQ jobs under one stitch job that runs when they are
 * all done, and follow the workers' progress until the output is in place. The work folder and the
 * output must be on storage every worker sees at the same paths.
 *
 * Running the same job again finds it: still on the farm, it is followed again; failed or
 * canceled, its unfinished chunks are queued again (finished ones are reused).
 *
 * @param input - A job, as for `render`.
 * @param options - The queue address, and render options.
 * @returns What was rendered, by which workers.
 * @throws {RedisUnreachableError} When Redis cannot be reached, or stays away too long while following.
 * @throws {FarmRenderError} When a chunk or the stitch fails on the workers.
 * @throws {CanceledError} When `signal` aborts.
 */
export async function farmRender(input: unknown, options: FarmRenderOptions): Promise<FarmRenderResult> {
  const started = performance.now();
  const log = options.logger;
  await checkRedis(options.queue);
  const url = redactUrl(options.queue);
  const models = options.models ?? modelRegistry();
  const plan = await planRender(farmJob(input, options.shared), {
    ...(options.restart !== undefined && { restart: options.restart }),
    ...(options.overwrite !== undefined && { overwrite: options.overwrite }),
    ...(options.onWarning !== undefined && { onWarning: options.onWarning }),
    ...(options.logger !== undefined && { logger: options.logger }),
    models,
  });
  const renderId = renderIdOf(plan.output, plan.hash);
  const warn = (message: string): void => {
    log?.warn({ render: renderId }, message);
    options.onWarning?.(message);
  };

  // Connection trouble is reported once per outage; commands wait for the connection to return.
  let downSince: number | null = null;
  const onError = (err: Error): void => {
    if (downSince !== null) return;
    downSince = performance.now();
    warn(`lost the connection to Redis at ${url} (${err.message}); waiting for it to come back`);
  };
  const connections: Redis[] = [];
  const connect = (): Redis => {
    const r = redisConnection(options.queue, onError);
    connections.push(r);
    return r;
  };
  const control = connect();
  const stitchQueue = new Queue<StitchJobData, StitchJobResult>(STITCH_QUEUE, {
    connection: control,
    prefix: PREFIX,
  });
  stitchQueue.on('error', onError);
  const queues = [stitchQueue] as Queue[];
  const events: QueueEvents[] = [];
  try {
    // Segments finished by workers of an earlier attempt count as done too.
    const completed = await addChunkRecords(new Map(plan.completed), plan.workDir, plan.chunks, plan.hash);
    let reused = completed.size;
    const resource = await chooseResource(plan, options, connect, warn, queues, onError);
    const chunkQueue = queues.find((q) => q.name === chunkQueueName(resource)) as Queue;
    if ((await chunkQueue.getWorkersCount()) === 0)
      warn(
        `no worker is listening on the ${resource} queue at ${url} yet: the chunks wait until one starts (framecraft worker --queue ${url})`,
      );
    const model = await pinModel(plan, models);
    const submit = async (): Promise<void> => {
      await control.del(cancelKey(renderId));
      const flow = new FlowProducer({ connection: control, prefix: PREFIX });
      flow.on('error', onError);
      try {
        const pending = plan.chunks.filter((c) => !completed.has(c.index));
        const stitch: StitchJobData = {
          renderId,
          hash: plan.hash,
          job: plan.job,
          workDir: plan.workDir,
          output: plan.output,
          chunks: plan.chunks,
          totalFrames: plan.totalFrames,
          model: plan.model,
          overwrite: options.overwrite ?? false,
        };
        await flow.add({
          name: 'stitch',
          queueName: STITCH_QUEUE,
          data: stitch,
          opts: {
            jobId: renderId,
            attempts: 3,
            backoff: { type: 'exponential', delay: 2000 },
            removeOnComplete: KEEP,
            removeOnFail: KEEP,
          },
          children: pending.map((chunk) => ({
            name: `chunk ${chunk.index}`,
            queueName: chunkQueueName(resource),
            data: {
              renderId,
              hash: plan.hash,
              job: plan.job,
              chunk,
              workDir: plan.workDir,
              model,
            } satisfies ChunkJobData,
            opts: {
              jobId: chunkJobId(renderId, chunk.index),
              attempts: options.attempts ?? 3,
              backoff: { type: 'exponential', delay: 1000 },
              failParentOnFailure: true,
              removeOnComplete: KEEP,
              removeOnFail: KEEP,
            },
          })),
        });
        log?.info(
          { render: renderId, queue: url, resource, chunks: plan.chunks.length, pending: pending.length },
          'farm render queued',
        );
      } finally {
        await flow.close();
      }
    };

    // Follow: progress from the workers' events, completion by polling the stitch job's state
    // (events missed during a Redis outage cannot hide the end).
    const workers = new Set<string>();
    const encoders = new Set<string>();
    let rendered = 0;
    const progress = new ProgressTracker(
      { totalFrames: plan.totalFrames, chunks: plan.chunks.length, finished: completed.values() },
      options.onProgress,
    );
    const report = (stage: RenderProgress['stage']): void => progress.report(stage);
    const mine = (jobId: string): number | null =>
      jobId.startsWith(`${renderId}-`) ? Number(jobId.slice(renderId.length + 1)) : null;
    // Listening starts before anything is queued: a fast farm's first events are not missed.
    const following = options.detach !== true;
    const chunkEvents = following
      ? new QueueEvents(chunkQueue.name, { connection: connect(), prefix: PREFIX })
      : null;
    const stitchEvents = following
      ? new QueueEvents(STITCH_QUEUE, { connection: connect(), prefix: PREFIX })
      : null;
    if (chunkEvents !== null && stitchEvents !== null) events.push(chunkEvents, stitchEvents);
    for (const e of events) e.on('error', onError);
    // The stitch job's end wakes the poll at once (the poll still catches it if the event is lost).
    const wake = new EventTarget();
    const onStitchEnd = ({ jobId }: { jobId: string }): void => {
      if (jobId === renderId) wake.dispatchEvent(new Event('end'));
    };
    stitchEvents?.on('completed', onStitchEnd);
    stitchEvents?.on('failed', onStitchEnd);
    chunkEvents?.on('progress', ({ jobId, data }) => {
      const index = mine(jobId);
      if (index === null || completed.has(index) || !isChunkProgress(data)) return;
      progress.chunkFrames(index, data.written);
      report('render');
    });
    const chunkDone = (index: number, r: ChunkJobResult): void => {
      completed.set(index, { file: r.file, frames: r.frames, sha256: r.sha256 });
      workers.add(r.worker);
      encoders.add(r.encoder);
      for (const w of r.warnings) warn(`chunk ${index}: ${w}`);
      // A retried job that found its segment already finished (its first attempt's end was lost).
      progress.chunkDone(index, r.frames, r.reused);
      if (r.reused) reused++;
      else rendered++;
      log?.info({ render: renderId, chunk: index, worker: r.worker, seconds: r.seconds }, 'chunk done');
    };
    chunkEvents?.on('completed', ({ jobId, returnvalue }) => {
      const index = mine(jobId);
      if (index === null || completed.has(index)) return;
      chunkDone(
        index,
        (typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue) as ChunkJobResult,
      );
      report('render');
    });
    chunkEvents?.on('failed', ({ jobId, failedReason }) => {
      const index = mine(jobId);
      if (index === null) return;
      progress.chunkStopped(index);
      warn(`chunk ${index} failed on a worker: ${failedReason}`);
    });
    await Promise.all(events.map((e) => e.waitUntilReady()));
    // Chunks whose events this side never saw (finished before it followed an existing render, or
    // during a Redis outage): their results are on the chunk jobs.
    const settleFinished = async (): Promise<void> => {
      for (const c of plan.chunks) {
        if (completed.has(c.index)) continue;
        const child = await chunkQueue.getJob(chunkJobId(renderId, c.index));
        const r = child?.returnvalue as ChunkJobResult | null | undefined;
        // The awaits above let events in: the chunk may have been counted meanwhile.
        if (r !== undefined && r !== null && (await child!.isCompleted()) && !completed.has(c.index))
          chunkDone(c.index, r);
      }
    };

    // The same render already on the farm: follow it; finished or failed: queue it afresh.
    let state = await stitchQueue.getJobState(renderId);
    if (!settled(state) && (await control.exists(cancelKey(renderId))) === 1) {
      // A canceled run whose chunks are still stopping (a worker checks between frames, then fails
      // its chunk, which fails the render): following it now would end in that cancel. Let it
      // settle, then queue afresh; if it does not (a worker gone quiet), lift the mark and follow.
      const until = performance.now() + CANCEL_SETTLE_MS;
      while (!settled(state) && performance.now() < until) {
        await sleep(200, options.signal);
        state = await stitchQueue.getJobState(renderId);
      }
      if (!settled(state)) await control.del(cancelKey(renderId));
    }
    if (state === 'completed' || state === 'failed') {
      await removeFlow(stitchQueue, renderId);
      await submit();
    } else if (state === 'unknown') await submit();
    else warn(`this render is already on the farm (id ${renderId}, ${state}); following it`);

    if (!following) {
      return {
        output: null,
        frames: plan.totalFrames,
        chunks: plan.chunks.length,
        rendered: 0,
        reused,
        workDir: plan.workDir,
        encoders: [],
        seconds: (performance.now() - started) / 1000,
        metrics: null,
        renderId,
        resource,
        workers: [],
        detached: true,
      };
    }
    await settleFinished();
    report('render');

    const timeoutMs = (options.redisTimeoutSeconds ?? 300) * 1000;
    const signal = options.signal;
    for (;;) {
      if (signal?.aborted) {
        if ((options.onAbort ?? 'cancel') === 'cancel') {
          // With Redis away the mark cannot be set: the workers then finish their chunks, which the
          // next run reuses.
          await withTimeout(control.set(cancelKey(renderId), '1', 'EX', KEEP.age), 2000).catch(
            () => undefined,
          );
          throw new CanceledError(
            `the farm render of ${plan.output} (finished chunks are kept: run the same command to continue)`,
          );
        }
        throw new CanceledError(
          `following the farm render of ${plan.output} (it goes on; run the same command to follow it again)`,
        );
      }
      let now: Awaited<ReturnType<Queue['getJobState']>> | null = null;
      try {
        now = await withTimeout(stitchQueue.getJobState(renderId), 2000);
        if (downSince !== null) {
          log?.info({ render: renderId }, 'Redis is back');
          downSince = null;
        }
      } catch {
        downSince ??= performance.now();
        if (performance.now() - downSince > timeoutMs)
          throw new RedisUnreachableError(
            url,
            `unreachable for ${Math.round(timeoutMs / 1000)} s while following ${plan.output}; ` +
              'finished chunks are kept: run the same command again when Redis is back',
          );
      }
      if (now === 'completed') {
        const job = await stitchQueue.getJob(renderId);
        const result = job?.returnvalue as StitchJobResult | undefined;
        if (result === undefined)
          throw new FarmRenderError(
            'ERR_FARM_RENDER',
            renderId,
            `the stitch of ${plan.output} left no result`,
          );
        workers.add(result.worker);
        await settleFinished();
        report('done');
        return {
          output: result.output,
          frames: result.frames,
          chunks: result.chunks,
          rendered,
          reused,
          workDir: plan.workDir,
          encoders: [...encoders],
          seconds: (performance.now() - started) / 1000,
          metrics: result.metricsLog === null ? null : await readMetrics(result.output, result.metricsLog),
          renderId,
          resource,
          workers: [...workers],
          detached: false,
        };
      }
      if (now === 'failed') {
        const job = await stitchQueue.getJob(renderId);
        // The render's remaining chunks are refused from now on.
        await control.set(cancelKey(renderId), '1', 'EX', KEEP.age);
        // The parent's reason only names the failed child: the child's own reason says why.
        let reason = job?.failedReason ?? 'unknown reason';
        for (const c of plan.chunks) {
          const child = await chunkQueue.getJob(chunkJobId(renderId, c.index));
          if (child !== undefined && (await child.getState()) === 'failed' && child.failedReason) {
            reason = `chunk ${c.index}: ${child.failedReason}`;
            break;
          }
        }
        throw new FarmRenderError(
          /ERR_CANCELED/.test(reason) ? 'ERR_CANCELED' : 'ERR_FARM_RENDER',
          renderId,
          `The farm render of ${plan.output} failed: ${reason}. Finished chunks are kept: run the same command to retry the rest.`,
        );
      }
      if (now === 'unknown') {
        // Redis came back without the render's jobs (it ran without persistence): queue them again.
        warn(
          `the render's jobs are gone from Redis at ${url} (restarted without persistence?); queueing the unfinished chunks again`,
        );
        await submit();
      }
      await sleep(500, signal, wake);
    }
  } finally {
    // Closing waits for Redis; when it is away, give up after a second and drop the connections.
    await Promise.race([
      Promise.allSettled([...events.map((e) => e.close()), ...queues.map((q) => q.close())]),
      sleep(1000),
    ]);
    for (const c of connections) c.disconnect();
  }
}

/** The queue for the plan's chunks (opening the queues it looks at). */
async function chooseResource(
  plan: RenderPlan,
  options: FarmRenderOptions,
  connect: () => Redis,
  warn: (m: string) => void,
  queues: Queue[],
  onError: (err: Error) => void,
): Promise<ResourceClass> {
  const open = (r: ResourceClass): Queue => {
    const q = new Queue(chunkQueueName(r), { connection: connect(), prefix: PREFIX });
    q.on('error', onError);
    queues.push(q);
    return q;
  };
  if (options.resource !== undefined) {
    open(options.resource);
    return options.resource;
  }
  const style = getStylizer(plan.job.style);
  if (style.prefersGpu?.(plan.job.styleOptions) === true) {
    const gpu = open('gpu');
    if ((await gpu.getWorkersCount()) > 0) return 'gpu';
    warn(
      `the ${plan.job.style} style prefers a GPU but no GPU worker is listening; sending its chunks to the CPU queue`,
    );
  }
  open('cpu');
  return 'cpu';
}

/** Remove a finished or failed render's jobs, waiting for chunks of it still in flight to stop. */
async function removeFlow(queue: Queue, renderId: string): Promise<void> {
  const deadline = performance.now() + 60_000;
  for (;;) {
    const job = await queue.getJob(renderId);
    if (job === undefined) return;
    try {
      await job.remove({ removeChildren: true });
      return;
    } catch (err) {
      if (performance.now() > deadline)
        throw new FarmRenderError(
          'ERR_FARM_BUSY',
          renderId,
          `an earlier attempt of this render still has chunks in flight on the workers (${(err as Error).message}); try again shortly`,
        );
      await sleep(500);
    }
  }
}

async function readMetrics(output: string, log: string): Promise<RenderResult['metrics']> {
  const stem = join(dirname(output), basename(output, extname(output)));
  const summary = JSON.parse(await readFile(`${stem}.metrics.summary.json`, 'utf8'));
  return { log, summary };
}

/** How long a new run waits for a canceled run of the same render to stop. */
const CANCEL_SETTLE_MS = 30_000;

/** True for a stitch job state after which a run queues the render afresh (or anew). */
const settled = (state: string): boolean =>
  state === 'completed' || state === 'failed' || state === 'unknown';

/** Wait `ms`, or less when `signal` aborts or `wake` fires `end`. */
function sleep(ms: number, signal?: AbortSignal, wake?: EventTarget): Promise<void> {
  return new Promise((res) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      wake?.removeEventListener('end', done);
      res();
    }
    signal?.addEventListener('abort', done, { once: true });
    wake?.addEventListener('end', done, { once: true });
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new FramecraftError('ERR_TIMEOUT', `no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        res(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        rej(e);
      },
    );
  });
}

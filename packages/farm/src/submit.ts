import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileSha256 } from '@framecraft/io';
import type { ModelRegistry } from '@framecraft/ml';
import {
  type Chunk,
  modelRegistry,
  ProgressTracker,
  planRender,
  type RenderMetrics,
  type RenderOptions,
  type RenderPlan,
  type RenderProgress,
  type RenderResult,
  type SegmentRecord,
} from '@framecraft/pipeline';
import { getStylizer } from '@framecraft/stylizers';
import { FlowProducer, type Queue } from 'bullmq';
import type { FarmClient } from './client.ts';
import { FarmRenderError } from './errors.ts';
import { RenderFollower } from './follow.ts';
import {
  addChunkRecords,
  type ChunkJobData,
  cancelKey,
  chunkJobId,
  chunkQueueName,
  KEEP,
  type ModelPin,
  PREFIX,
  type ResourceClass,
  renderIdOf,
  STITCH_QUEUE,
  type StitchJobData,
  type StitchJobResult,
} from './protocol.ts';

/** Options of `farmRender`. */
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

/** What a farm render did. */
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
 * Plan a render here, queue it on the farm (or find it there) and follow it: what
 * {@link FarmClient.render} and `farmRender` run.
 *
 * @param client - The farm client.
 * @param input - A job, as for `render`.
 * @param options - Render options.
 * @param onProgress - Where progress goes.
 * @returns What was rendered, by which workers.
 */
export async function renderOnFarm(
  client: FarmClient,
  input: unknown,
  options: Omit<FarmRenderOptions, 'queue' | 'onProgress'>,
  onProgress?: (progress: RenderProgress) => void,
): Promise<FarmRenderResult> {
  const started = performance.now();
  const models = options.models ?? modelRegistry();
  const plan = await planRender(farmJob(input, options.shared), {
    ...(options.restart !== undefined && { restart: options.restart }),
    ...(options.overwrite !== undefined && { overwrite: options.overwrite }),
    ...(options.onWarning !== undefined && { onWarning: options.onWarning }),
    ...(options.logger !== undefined && { logger: options.logger }),
    models,
  });
  const renderId = renderIdOf(plan.output, plan.hash);
  const warn = (message: string): void => client.warn(message, options.onWarning);
  const stitchQueue = client.queue<StitchJobData, StitchJobResult>(STITCH_QUEUE);
  // Segments finished by workers of an earlier attempt count as done too.
  const completed = await addChunkRecords(new Map(plan.completed), plan.workDir, plan.chunks, plan.hash);
  const { resource, queue: chunkQueue } = await chooseResource(client, plan, options.resource, warn);
  if ((await chunkQueue.getWorkersCount()) === 0)
    warn(
      `no worker is listening on the ${resource} queue at ${client.url} yet: the chunks wait until one starts (framecraft worker --queue ${client.url})`,
    );
  const queued: QueuedRender = {
    plan,
    renderId,
    resource,
    model: await pinModel(plan, models),
    overwrite: options.overwrite ?? false,
    attempts: options.attempts ?? 3,
  };
  const submit = (): Promise<void> => enqueue(client, queued, completed);
  const progress = new ProgressTracker(
    { totalFrames: plan.totalFrames, chunks: plan.chunks.length, finished: completed.values() },
    onProgress,
  );
  // Listening starts before anything is queued: a fast farm's first events are not missed.
  const follower =
    options.detach === true
      ? null
      : new RenderFollower(client, { plan, renderId, chunkQueue, stitchQueue, completed, progress, warn });
  await follower?.ready();
  await submitOrFollow(client, stitchQueue, queued, submit, warn, options.signal);
  const summary = { workDir: plan.workDir, renderId, resource };
  if (follower === null) {
    return {
      ...summary,
      output: null,
      frames: plan.totalFrames,
      chunks: plan.chunks.length,
      rendered: 0,
      reused: completed.size,
      encoders: [],
      seconds: (performance.now() - started) / 1000,
      metrics: null,
      workers: [],
      detached: true,
    };
  }
  await follower.settleFinished();
  progress.report('render');
  const result = await follower.untilDone({
    ...(options.signal !== undefined && { signal: options.signal }),
    onAbort: options.onAbort ?? 'cancel',
    redisTimeoutMs: (options.redisTimeoutSeconds ?? 300) * 1000,
    resubmit: submit,
  });
  return {
    ...summary,
    output: result.output,
    frames: result.frames,
    chunks: result.chunks,
    rendered: follower.rendered,
    reused: follower.reused,
    encoders: [...follower.encoders],
    seconds: (performance.now() - started) / 1000,
    metrics: result.metricsLog === null ? null : await readMetrics(result.output, result.metricsLog),
    workers: [...follower.workers],
    detached: false,
  };
}

/** What is queued for a render: its chunks under one stitch job. */
interface QueuedRender {
  readonly plan: RenderPlan;
  readonly renderId: string;
  readonly resource: ResourceClass;
  readonly model: ModelPin | null;
  readonly overwrite: boolean;
  readonly attempts: number;
}

/** Queue the render's unfinished chunks as children of its stitch job. */
async function enqueue(
  client: FarmClient,
  r: QueuedRender,
  completed: ReadonlyMap<number, SegmentRecord>,
): Promise<void> {
  const { plan, renderId, resource } = r;
  await client.control.del(cancelKey(renderId));
  const flow = new FlowProducer({ connection: client.control, prefix: PREFIX });
  flow.on('error', (err) => client.unreachable(err));
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
      overwrite: r.overwrite,
    };
    const chunk = (c: Chunk): ChunkJobData => ({
      renderId,
      hash: plan.hash,
      job: plan.job,
      chunk: c,
      workDir: plan.workDir,
      model: r.model,
    });
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
      children: pending.map((c) => ({
        name: `chunk ${c.index}`,
        queueName: chunkQueueName(resource),
        data: chunk(c),
        opts: {
          jobId: chunkJobId(renderId, c.index),
          attempts: r.attempts,
          backoff: { type: 'exponential', delay: 1000 },
          failParentOnFailure: true,
          removeOnComplete: KEEP,
          removeOnFail: KEEP,
        },
      })),
    });
    client.logger?.info(
      { render: renderId, queue: client.url, resource, chunks: plan.chunks.length, pending: pending.length },
      'farm render queued',
    );
  } finally {
    await flow.close();
  }
}

/**
 * Queue the render, or follow it when the same render is already on the farm; one that finished
 * or failed is queued afresh.
 */
async function submitOrFollow(
  client: FarmClient,
  stitchQueue: Queue,
  r: QueuedRender,
  submit: () => Promise<void>,
  warn: (message: string) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  const control = client.control;
  let state = await stitchQueue.getJobState(r.renderId);
  if (!settled(state) && (await control.exists(cancelKey(r.renderId))) === 1) {
    // A canceled run whose chunks are still stopping (a worker checks between frames, then fails
    // its chunk, which fails the render): following it now would end in that cancel. Let it
    // settle, then queue afresh; if it does not (a worker gone quiet), lift the mark and follow.
    const until = performance.now() + CANCEL_SETTLE_MS;
    while (!settled(state) && performance.now() < until) {
      await delay(200, undefined, signal === undefined ? {} : { signal }).catch(() => undefined);
      state = await stitchQueue.getJobState(r.renderId);
    }
    if (!settled(state)) await control.del(cancelKey(r.renderId));
  }
  if (state === 'completed' || state === 'failed') {
    await removeFlow(stitchQueue, r.renderId);
    await submit();
  } else if (state === 'unknown') await submit();
  else warn(`this render is already on the farm (id ${r.renderId}, ${state}); following it`);
}

/** The queue for the plan's chunks. */
async function chooseResource(
  client: FarmClient,
  plan: RenderPlan,
  asked: ResourceClass | undefined,
  warn: (m: string) => void,
): Promise<{ resource: ResourceClass; queue: Queue }> {
  if (asked !== undefined) return { resource: asked, queue: client.queue(chunkQueueName(asked)) };
  const style = getStylizer(plan.job.style);
  if (style.prefersGpu?.(plan.job.styleOptions) === true) {
    const gpu = client.queue(chunkQueueName('gpu'));
    if ((await gpu.getWorkersCount()) > 0) return { resource: 'gpu', queue: gpu };
    warn(
      `the ${plan.job.style} style prefers a GPU but no GPU worker is listening; sending its chunks to the CPU queue`,
    );
  }
  return { resource: 'cpu', queue: client.queue(chunkQueueName('cpu')) };
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
      await delay(500);
    }
  }
}

async function readMetrics(output: string, log: string): Promise<RenderMetrics | null> {
  const stem = join(dirname(output), basename(output, extname(output)));
  const summary = JSON.parse(await readFile(`${stem}.metrics.summary.json`, 'utf8'));
  return { log, summary };
}

/** How long a new run waits for a canceled run of the same render to stop. */
const CANCEL_SETTLE_MS = 30_000;

/** True for a stitch job state after which a run queues the render afresh (or anew). */
const settled = (state: string): boolean =>
  state === 'completed' || state === 'failed' || state === 'unknown';

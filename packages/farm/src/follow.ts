// Follow a render on the farm: progress from the workers' events, completion by polling the stitch
// job's state (events missed during a Redis outage cannot hide the end).
import { setTimeout as delay } from 'node:timers/promises';
import { CanceledError } from '@framecraft/core';
import type { ProgressTracker, RenderPlan, SegmentRecord } from '@framecraft/pipeline';
import type { Queue, QueueEvents } from 'bullmq';
import type { FarmClient } from './client.ts';
import { FarmError, FarmRenderError, RedisUnreachableError } from './errors.ts';
import {
  type ChunkJobResult,
  cancelKey,
  chunkJobId,
  isChunkProgress,
  KEEP,
  STITCH_QUEUE,
  type StitchJobData,
  type StitchJobResult,
} from './protocol.ts';

/** What a follower needs to know of the render. */
export interface FollowedRender {
  readonly plan: RenderPlan;
  readonly renderId: string;
  readonly chunkQueue: Queue;
  readonly stitchQueue: Queue<StitchJobData, StitchJobResult>;
  /** Finished segments, by chunk index; the follower adds those it sees finish. */
  readonly completed: Map<number, SegmentRecord>;
  readonly progress: ProgressTracker;
  readonly warn: (message: string) => void;
}

/** How a followed render ends, from the signal. */
export interface FollowOptions {
  readonly signal?: AbortSignal;
  /** `cancel`: an abort stops the farm's work on the render; `detach`: it only stops following. */
  readonly onAbort: 'cancel' | 'detach';
  /** How long Redis may be unreachable before giving up. */
  readonly redisTimeoutMs: number;
  /** Called when the render's jobs vanished from Redis (a restart without persistence). */
  readonly resubmit: () => Promise<void>;
}

/** Listens to a render's chunk and stitch events and waits for its end. */
export class RenderFollower {
  /** Workers (`host:pid`) seen rendering the render's chunks. */
  readonly workers: Set<string> = new Set();
  /** Encoders the chunks used. */
  readonly encoders: Set<string> = new Set();
  /** Chunks rendered now, and chunks a retried job found already finished. */
  rendered = 0;
  reused: number;
  readonly #client: FarmClient;
  readonly #r: FollowedRender;
  readonly #chunkEvents: QueueEvents;
  readonly #stitchEvents: QueueEvents;
  #wake = new AbortController();

  /**
   * Start listening (before anything is queued, so a fast farm's first events are not missed).
   *
   * @param client - The farm client (owns the event connections).
   * @param render - The render.
   */
  constructor(client: FarmClient, render: FollowedRender) {
    this.#client = client;
    this.#r = render;
    this.reused = render.completed.size;
    this.#chunkEvents = client.queueEvents(render.chunkQueue.name);
    this.#stitchEvents = client.queueEvents(STITCH_QUEUE);
    this.#listen();
  }

  /** Resolve once the event streams are listening. */
  async ready(): Promise<void> {
    await Promise.all([this.#chunkEvents.waitUntilReady(), this.#stitchEvents.waitUntilReady()]);
  }

  /**
   * Count chunks whose events this side never saw (finished before it followed an existing render,
   * or during a Redis outage): their results are on the chunk jobs.
   */
  async settleFinished(): Promise<void> {
    const { plan, completed, chunkQueue, renderId } = this.#r;
    for (const c of plan.chunks) {
      if (completed.has(c.index)) continue;
      const child = await chunkQueue.getJob(chunkJobId(renderId, c.index));
      const r = child?.returnvalue as ChunkJobResult | null | undefined;
      // The awaits above let events in: the chunk may have been counted meanwhile.
      if (r !== undefined && r !== null && (await child!.isCompleted()) && !completed.has(c.index))
        this.#chunkDone(c.index, r);
    }
  }

  /**
   * Wait until the stitch job ends.
   *
   * @param options - Abort, outage limit, resubmission.
   * @returns The stitch job's result.
   * @throws {CanceledError} When `signal` aborts.
   * @throws {RedisUnreachableError} When Redis stays away longer than the limit.
   * @throws {FarmRenderError} When the render failed on the farm (`ERR_CANCELED` when canceled).
   */
  async untilDone(options: FollowOptions): Promise<StitchJobResult> {
    const { stitchQueue, renderId, plan } = this.#r;
    for (;;) {
      if (options.signal?.aborted) throw await this.#aborted(options.onAbort);
      let state: Awaited<ReturnType<Queue['getJobState']>> | null = null;
      try {
        state = await withTimeout(stitchQueue.getJobState(renderId), 2000);
        this.#client.reconnected();
      } catch {
        this.#client.noAnswer();
        if ((this.#client.outageSeconds ?? 0) * 1000 > options.redisTimeoutMs)
          throw new RedisUnreachableError(
            this.#client.url,
            `unreachable for ${Math.round(options.redisTimeoutMs / 1000)} s while following ${plan.output}; ` +
              'finished chunks are kept: run the same command again when Redis is back',
          );
      }
      if (state === 'completed') return this.#finished();
      if (state === 'failed') throw await this.#failure();
      if (state === 'unknown') {
        this.#r.warn(
          `the render's jobs are gone from Redis at ${this.#client.url} (restarted without persistence?); queueing the unfinished chunks again`,
        );
        await options.resubmit();
      }
      // The stitch job's end wakes the poll at once (the poll still catches it if the event is lost).
      const wake = this.#wake.signal;
      const stop = options.signal === undefined ? wake : AbortSignal.any([wake, options.signal]);
      await delay(500, undefined, { signal: stop }).catch(() => undefined);
      if (wake.aborted) this.#wake = new AbortController();
    }
  }

  #listen(): void {
    const { completed, progress, renderId } = this.#r;
    const mine = (jobId: string): number | null =>
      jobId.startsWith(`${renderId}-`) ? Number(jobId.slice(renderId.length + 1)) : null;
    const onStitchEnd = ({ jobId }: { jobId: string }): void => {
      if (jobId === renderId) this.#wake.abort();
    };
    this.#stitchEvents.on('completed', onStitchEnd);
    this.#stitchEvents.on('failed', onStitchEnd);
    this.#chunkEvents.on('progress', ({ jobId, data }) => {
      const index = mine(jobId);
      if (index === null || completed.has(index) || !isChunkProgress(data)) return;
      progress.chunkFrames(index, data.written);
      progress.report('render');
    });
    this.#chunkEvents.on('completed', ({ jobId, returnvalue }) => {
      const index = mine(jobId);
      if (index === null || completed.has(index)) return;
      const result = typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue;
      this.#chunkDone(index, result as ChunkJobResult);
      progress.report('render');
    });
    this.#chunkEvents.on('failed', ({ jobId, failedReason }) => {
      const index = mine(jobId);
      if (index === null) return;
      progress.chunkStopped(index);
      this.#r.warn(`chunk ${index} failed on a worker: ${failedReason}`);
    });
  }

  #chunkDone(index: number, r: ChunkJobResult): void {
    this.#r.completed.set(index, { file: r.file, frames: r.frames, sha256: r.sha256 });
    this.workers.add(r.worker);
    this.encoders.add(r.encoder);
    for (const w of r.warnings) this.#r.warn(`chunk ${index}: ${w}`);
    // A retried job that found its segment already finished (its first attempt's end was lost).
    this.#r.progress.chunkDone(index, r.frames, r.reused);
    if (r.reused) this.reused++;
    else this.rendered++;
    this.#client.logger?.info(
      { render: this.#r.renderId, chunk: index, worker: r.worker, seconds: r.seconds },
      'chunk done',
    );
  }

  async #finished(): Promise<StitchJobResult> {
    const { stitchQueue, renderId, plan } = this.#r;
    const result = (await stitchQueue.getJob(renderId))?.returnvalue;
    if (result === undefined || result === null)
      throw new FarmRenderError('ERR_FARM_RENDER', renderId, `the stitch of ${plan.output} left no result`);
    this.workers.add(result.worker);
    await this.settleFinished();
    this.#r.progress.report('done');
    return result;
  }

  /** The error of a failed render; its remaining chunks are refused from now on. */
  async #failure(): Promise<FarmRenderError> {
    const { stitchQueue, chunkQueue, renderId, plan } = this.#r;
    const redis = this.#client.control;
    // A cancel mark set before the render failed means it failed because it was canceled.
    const canceled = (await redis.exists(cancelKey(renderId))) === 1;
    await redis.set(cancelKey(renderId), '1', 'EX', KEEP.age);
    // The parent's reason only names the failed child: the child's own reason says why.
    let reason = (await stitchQueue.getJob(renderId))?.failedReason ?? 'unknown reason';
    for (const c of plan.chunks) {
      const child = await chunkQueue.getJob(chunkJobId(renderId, c.index));
      if (child !== undefined && (await child.getState()) === 'failed' && child.failedReason) {
        reason = `chunk ${c.index}: ${child.failedReason}`;
        break;
      }
    }
    return new FarmRenderError(
      canceled ? 'ERR_CANCELED' : 'ERR_FARM_RENDER',
      renderId,
      `The farm render of ${plan.output} failed: ${reason}. Finished chunks are kept: run the same command to retry the rest.`,
    );
  }

  async #aborted(onAbort: 'cancel' | 'detach'): Promise<CanceledError> {
    const { renderId, plan } = this.#r;
    if (onAbort === 'detach')
      return new CanceledError(
        `following the farm render of ${plan.output} (it goes on; run the same command to follow it again)`,
      );
    // With Redis away the mark cannot be set: the workers then finish their chunks, which the next
    // run reuses.
    await withTimeout(this.#client.control.set(cancelKey(renderId), '1', 'EX', KEEP.age), 2000).catch(
      () => undefined,
    );
    return new CanceledError(
      `the farm render of ${plan.output} (finished chunks are kept: run the same command to continue)`,
    );
  }
}

/**
 * A promise that rejects with `ERR_TIMEOUT` when `p` has not settled within `ms`.
 *
 * @param p - The promise.
 * @param ms - Milliseconds.
 * @returns `p`'s value.
 */
export async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  const timer = new AbortController();
  const timeout = delay(ms, undefined, { signal: timer.signal }).then(() => {
    throw new FarmError('ERR_TIMEOUT', `no answer within ${ms} ms`);
  });
  timeout.catch(() => undefined);
  try {
    return await Promise.race([p, timeout]);
  } finally {
    timer.abort();
  }
}

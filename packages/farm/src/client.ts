import { setTimeout as delay } from 'node:timers/promises';
import type { RenderProgress } from '@framecraft/pipeline';
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { checkRedis, redactUrl, redisConnection } from './connection.ts';
import { Latest } from './latest.ts';
import { PREFIX } from './protocol.ts';
import { type FarmRenderOptions, type FarmRenderResult, renderOnFarm } from './submit.ts';

/** Options of {@link FarmClient.connect}. */
export interface FarmClientOptions {
  /** The queue address, `redis://host:port`. */
  readonly queue: string;
  /** Warnings: a lost connection (once per outage), and each render's unless it has its own. */
  readonly onWarning?: (message: string) => void;
  readonly logger?: Logger;
}

/** Options of {@link FarmClient.render}: those of {@link farmRender} but the address and the callback. */
export type FarmSubmitOptions = Omit<FarmRenderOptions, 'queue' | 'onProgress'>;

/** A render on the farm, as it goes: its progress states, then its result. */
export interface FarmRender extends AsyncIterable<RenderProgress> {
  /** What the render did; rejects as the iteration throws. */
  readonly result: Promise<FarmRenderResult>;
}

/**
 * A connection to a render farm's queues: submits renders and follows them. It owns its Redis
 * connections; dispose of it (`await using`) or `close()` it when done.
 *
 * @example
 * await using farm = await FarmClient.connect({ queue: 'redis://farm:6379' });
 * const run = farm.render({ input: 'in.mp4', output: '/shared/out.mp4', style: 'cartoon' });
 * for await (const p of run) console.log(`${p.framesDone}/${p.totalFrames}`);
 * const { workers } = await run.result;
 */
export class FarmClient implements AsyncDisposable {
  /** The queue address, without its password (for messages). */
  readonly url: string;
  readonly logger: Logger | undefined;
  readonly #address: string;
  readonly #onWarning: ((message: string) => void) | undefined;
  readonly #connections: Redis[] = [];
  readonly #closers: { close(): Promise<unknown> }[] = [];
  #downSince: number | null = null;
  #control: Redis | null = null;
  #closed: Promise<void> | null = null;

  private constructor(options: FarmClientOptions) {
    this.#address = options.queue;
    this.url = redactUrl(options.queue);
    this.logger = options.logger;
    this.#onWarning = options.onWarning;
  }

  /**
   * Connect to a farm's Redis (checked before anything else is done).
   *
   * @param options - The queue address, warnings, log.
   * @returns The client.
   * @throws {RedisUnreachableError} When Redis cannot be reached.
   */
  static async connect(options: FarmClientOptions): Promise<FarmClient> {
    await checkRedis(options.queue);
    return new FarmClient(options);
  }

  /**
   * Render a job on the farm (see {@link farmRender}), following it unless `detach` is set.
   *
   * @param input - A job, as for `render`.
   * @param options - Shared folder, queue choice, abort, warnings.
   * @returns The render: iterate it for progress, await `result` for the outcome.
   */
  render(input: unknown, options: FarmSubmitOptions = {}): FarmRender {
    const progress = new Latest<RenderProgress>();
    const result = renderOnFarm(this, input, options, (p) => progress.set(p));
    result.then(
      () => progress.end(),
      (err: unknown) => progress.end({ err }),
    );
    return { result, [Symbol.asyncIterator]: () => progress[Symbol.asyncIterator]() };
  }

  /** Seconds Redis has been unreachable, or null while it answers. */
  get outageSeconds(): number | null {
    return this.#downSince === null ? null : (performance.now() - this.#downSince) / 1000;
  }

  /** Note that Redis answered again after an outage. */
  reconnected(): void {
    if (this.#downSince === null) return;
    this.logger?.info({ queue: this.url }, 'Redis is back');
    this.#downSince = null;
  }

  /** Note a command that got no answer: an outage starts now unless one already has (reported by the connection's error). */
  noAnswer(): void {
    this.#downSince ??= performance.now();
  }

  /** Note a connection error: the start of an outage (reported once). */
  unreachable(err: Error): void {
    if (this.#downSince !== null) return;
    this.#downSince = performance.now();
    this.warn(`lost the connection to Redis at ${this.url} (${err.message}); waiting for it to come back`);
  }

  /**
   * Report a warning to the log and the warning callback.
   *
   * @param message - The warning.
   * @param onWarning - The render's own callback, instead of the client's.
   */
  warn(message: string, onWarning: ((message: string) => void) | undefined = this.#onWarning): void {
    this.logger?.warn({ queue: this.url }, message);
    onWarning?.(message);
  }

  /**
   * A new Redis connection owned by this client (BullMQ's blocking readers each need their own).
   *
   * @returns The connection.
   */
  connection(): Redis {
    if (this.#closed !== null) throw new Error('FarmClient used after close()');
    const r = redisConnection(this.#address, (err) => this.unreachable(err));
    this.#connections.push(r);
    return r;
  }

  /** The connection for plain commands (marks, job states), opened on first use. */
  get control(): Redis {
    this.#control ??= this.connection();
    return this.#control;
  }

  /**
   * A queue on its own connection, closed with the client.
   *
   * @param name - The queue's name.
   * @returns The queue.
   */
  queue<D = unknown, R = unknown>(name: string): Queue<D, R> {
    const q = new Queue<D, R>(name, { connection: this.connection(), prefix: PREFIX });
    q.on('error', (err) => this.unreachable(err));
    this.#closers.push(q);
    return q;
  }

  /**
   * A queue's event stream on its own connection, closed with the client.
   *
   * @param name - The queue's name.
   * @returns The event stream (wait for `waitUntilReady()` before relying on it).
   */
  queueEvents(name: string): QueueEvents {
    const e = new QueueEvents(name, { connection: this.connection(), prefix: PREFIX });
    e.on('error', (err) => this.unreachable(err));
    this.#closers.push(e);
    return e;
  }

  /**
   * Close the queues and connections. Closing waits for Redis; when it is away, it gives up after a
   * second and drops the connections. Calling it again waits for the same close.
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await Promise.race([Promise.allSettled(this.#closers.map((c) => c.close())), delay(1000)]);
      for (const c of this.#connections) c.disconnect();
    })();
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Render a job on the render farm: plan it here (the same plan, journal and work folder as a local
 * render), queue its unfinished chunks as BullMQ jobs under one stitch job that runs when they are
 * all done, and follow the workers' progress until the output is in place. The work folder and the
 * output must be on storage every worker sees at the same paths. A {@link FarmClient} for one
 * render, closed at the end.
 *
 * Running the same job again finds it: still on the farm, it is followed again; failed or
 * canceled, its unfinished chunks are queued again (finished ones are reused).
 *
 * @param input - A job, as for `render`.
 * @param options - The queue address, and render options.
 * @returns What was rendered, by which workers.
 * @throws {RedisUnreachableError} When Redis cannot be reached, or stays away too long while following.
 * @throws {FarmRenderError} When a chunk or the stitch fails on the workers (`ERR_CANCELED` when
 *   the render was canceled).
 * @throws {CanceledError} When `signal` aborts.
 */
export async function farmRender(input: unknown, options: FarmRenderOptions): Promise<FarmRenderResult> {
  const { queue, onProgress, ...rest } = options;
  await using client = await FarmClient.connect({
    queue,
    ...(options.logger !== undefined && { logger: options.logger }),
    ...(options.onWarning !== undefined && { onWarning: options.onWarning }),
  });
  // Awaited here: the client is disposed when this block ends, after the render.
  return await renderOnFarm(client, input, rest, onProgress);
}

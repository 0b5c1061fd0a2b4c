import { Worker } from 'node:worker_threads';
import { CanceledError, FramecraftError } from '@framecraft/core';
import type { ChunkResult, ChunkTask } from './chunk.ts';
import type { FromWorker, ToWorker } from './chunk-worker.ts';
import { deferred } from './deferred.ts';
import { limitMallocRetention } from './malloc.ts';

/** The worker module beside this one (TypeScript when running from source, JavaScript from dist). */
function workerUrl(): URL {
  return new URL(
    import.meta.url.endsWith('.ts') ? './chunk-worker.ts' : './chunk-worker.js',
    import.meta.url,
  );
}

/** The error a worker thread reported, rebuilt with its code and stack. */
function workerError(e: Extract<FromWorker, { type: 'error' }>['error']): Error {
  const err =
    e.code !== null
      ? new FramecraftError(e.code, e.message)
      : Object.assign(new Error(e.message), { name: e.name });
  if (e.stack !== undefined) err.stack = e.stack;
  return err;
}

/** How long an aborted chunk's thread may take to stop between frames before it is ended. */
export const ABORT_GRACE_MS = 10_000;

/**
 * Worker threads that render chunks, at most `size` at once, each chunk start to finish in one
 * thread. Threads start when first needed and are reused for later chunks. The render loop and a
 * render farm worker both use it, so the main thread stays free for progress, journal writes and
 * (on a farm) the queue's lock renewals.
 */
export class ChunkThreads {
  readonly #size: number;
  readonly #idle: Worker[] = [];
  readonly #all = new Set<Worker>();
  readonly #waiting: Array<(w: Worker) => void> = [];
  #closed = false;

  /** @param size - Threads at most (chunks rendered at once). */
  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`ChunkThreads needs at least one thread, got ${size}`);
    this.#size = size;
    // Whoever renders chunks on threads renders for long: freed frame buffers go back to the
    // system (process-wide, applied once; see malloc.ts).
    void limitMallocRetention();
  }

  /** Threads at most. */
  get size(): number {
    return this.#size;
  }

  /**
   * Render one chunk on a free thread (waiting for one when all are busy).
   *
   * @param task - The chunk.
   * @param onFrames - Frames written so far, every few frames.
   * @param signal - Aborting stops the chunk between two frames (its temporary segment is removed)
   *   and rejects with `CanceledError`; the thread stays for the next chunk. A thread that does not
   *   stop within {@link ABORT_GRACE_MS} is ended.
   * @returns The chunk's result.
   */
  async run(
    task: ChunkTask,
    onFrames?: (written: number) => void,
    signal?: AbortSignal,
  ): Promise<ChunkResult> {
    if (this.#closed) throw new Error('ChunkThreads used after close()');
    const canceled = (): CanceledError => new CanceledError(`rendering chunk ${task.chunk.index}`);
    if (signal?.aborted) throw canceled();
    const w = await this.#acquire();
    const { promise, resolve, reject } = deferred<ChunkResult>();
    let settled = false;
    let aborting = false;
    let grace: ReturnType<typeof setTimeout> | undefined;
    const end = (keep: boolean): void => {
      settled = true;
      clearTimeout(grace);
      w.off('message', onMessage);
      w.off('error', onError);
      w.off('exit', onExit);
      signal?.removeEventListener('abort', onAbort);
      if (keep) this.#release(w);
      else this.#drop(w);
    };
    const onMessage = (msg: FromWorker): void => {
      if (msg.type === 'frames') {
        if (!aborting) onFrames?.(msg.written);
      } else if (aborting) {
        // Stopped (or finished just then): the caller asked to stop, so it hears so.
        end(true);
        reject(canceled());
      } else if (msg.type === 'done') {
        end(true);
        resolve(msg.result);
      } else {
        // The thread reported the error itself and is still sound.
        end(true);
        reject(workerError(msg.error));
      }
    };
    const onError = (err: Error): void => {
      end(false);
      reject(err);
    };
    const onExit = (code: number): void => {
      if (settled) return;
      end(false);
      reject(new Error(`a render thread exited with code ${code} while rendering chunk ${task.chunk.index}`));
    };
    const onAbort = (): void => {
      if (settled || aborting) return;
      aborting = true;
      w.postMessage({ type: 'abort' } satisfies ToWorker);
      grace = setTimeout(() => {
        if (settled) return;
        end(false);
        reject(canceled());
      }, ABORT_GRACE_MS);
    };
    w.on('message', onMessage);
    w.on('error', onError);
    w.on('exit', onExit);
    signal?.addEventListener('abort', onAbort, { once: true });
    w.postMessage({ type: 'chunk', task } satisfies ToWorker);
    return promise;
  }

  /** End every thread (a chunk still rendering is abandoned). Safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#all];
    this.#all.clear();
    this.#idle.length = 0;
    await Promise.all(all.map((w) => w.terminate()));
  }

  async #acquire(): Promise<Worker> {
    const idle = this.#idle.pop();
    if (idle !== undefined) return idle;
    if (this.#all.size < this.#size) {
      const w = new Worker(workerUrl());
      this.#all.add(w);
      return w;
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #release(w: Worker): void {
    if (this.#closed) return;
    const next = this.#waiting.shift();
    if (next !== undefined) next(w);
    else this.#idle.push(w);
  }

  #drop(w: Worker): void {
    this.#all.delete(w);
    void w.terminate();
    // A thread's place is free again: a waiting chunk gets a new thread.
    const next = this.#waiting.shift();
    if (next !== undefined && !this.#closed) {
      const fresh = new Worker(workerUrl());
      this.#all.add(fresh);
      next(fresh);
    }
  }
}

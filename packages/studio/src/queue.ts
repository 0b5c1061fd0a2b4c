import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FramecraftError } from '@framecraft/core';
import { writeFileAtomic } from '@framecraft/io';
import {
  type JobInput,
  parseJob,
  type RenderOptions,
  type RenderProgress,
  render,
} from '@framecraft/pipeline';
import { StudioError } from './errors.ts';

/** A render in the studio's queue. */
export interface QueuedJob {
  readonly id: string;
  readonly job: JobInput;
  state: 'queued' | 'running' | 'done' | 'failed' | 'canceled';
  progress: RenderProgress | null;
  readonly created: string;
  started: string | null;
  finished: string | null;
  /** Times this job was picked up again after a server restart. */
  resumed: number;
  error: { code: string; message: string } | null;
  warnings: string[];
}

/**
 * Runs one render for the queue: the pipeline's `render` here, or a render farm's submit-and-follow
 * (`farmRender` of @framecraft/farm, which reports the workers' progress the same way).
 */
export type Renderer = (
  job: JobInput,
  options: Pick<RenderOptions, 'signal' | 'onWarning' | 'onProgress'>,
) => Promise<unknown>;

/** Options of {@link RenderQueue.open}. */
export interface RenderQueueOptions {
  /** How jobs render; the pipeline's `render` in this process by default. */
  readonly render?: Renderer;
  /** Where they render, in words for the pages ("this machine" by default). */
  readonly target?: string;
  /**
   * Least time between two progress updates to listeners, ms (200 by default: at most ~5 a
   * second). An update that comes sooner is held and sent when the time is up, so the latest
   * progress always arrives; `done` goes out at once.
   */
  readonly progressIntervalMs?: number;
}

/** What the queue tells listeners: a job's new state. */
export type QueueListener = (job: QueuedJob) => void;

/**
 * The studio's render queue: jobs run one at a time through the same `render` as the CLI (which
 * spreads each over worker threads), persisted in a JSON file written atomically, so a restarted
 * server shows every job again and picks up the one that was running — the pipeline's journal
 * then resumes it from its finished chunks.
 */
export class RenderQueue {
  readonly file: string;
  /** Where jobs render, in words. */
  readonly target: string;
  readonly #render: Renderer;
  readonly #progressIntervalMs: number;
  readonly #jobs: QueuedJob[];
  readonly #listeners = new Set<QueueListener>();
  #running: { id: string; abort: AbortController } | null = null;
  #saving: Promise<void> = Promise.resolve();
  #closed = false;
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;

  private constructor(file: string, jobs: QueuedJob[], options: RenderQueueOptions) {
    this.file = file;
    this.#jobs = jobs;
    this.#render = options.render ?? render;
    this.#progressIntervalMs = options.progressIntervalMs ?? 200;
    this.target = options.target ?? 'this machine';
  }

  /**
   * Open the queue file (created when missing) and start running queued jobs. A job the last
   * server left `running` goes back to the front of the queue.
   *
   * @throws {FramecraftError} `ERR_QUEUE_FILE` naming the file when it is not valid JSON.
   */
  static async open(file: string, options: RenderQueueOptions = {}): Promise<RenderQueue> {
    let jobs: QueuedJob[] = [];
    if (existsSync(file)) {
      try {
        jobs = (JSON.parse(await readFile(file, 'utf8')) as { jobs: QueuedJob[] }).jobs;
      } catch (err) {
        throw new StudioError('ERR_QUEUE_FILE', `${file}: not a studio queue (${(err as Error).message})`);
      }
    }
    for (const j of jobs)
      if (j.state === 'running') {
        j.state = 'queued';
        j.resumed++;
      }
    const q = new RenderQueue(file, jobs, options);
    await q.#save();
    q.#loop = q.#run();
    return q;
  }

  /** Every job, oldest first (copies). */
  list(): QueuedJob[] {
    return this.#jobs.map((j) => structuredClone(j));
  }

  get(id: string): QueuedJob | undefined {
    const j = this.#jobs.find((x) => x.id === id);
    return j === undefined ? undefined : structuredClone(j);
  }

  /** Be told of every change; returns the unsubscribe function. */
  subscribe(listener: QueueListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Queue a render. The job is validated now (the pipeline's schema).
   *
   * @throws {JobConfigError} Naming each invalid field.
   */
  async submit(job: JobInput): Promise<QueuedJob> {
    parseJob(job);
    const entry: QueuedJob = {
      id: `job-${Date.now().toString(36)}-${randomUUID().slice(0, 6)}`,
      job,
      state: 'queued',
      progress: null,
      created: new Date().toISOString(),
      started: null,
      finished: null,
      resumed: 0,
      error: null,
      warnings: [],
    };
    this.#jobs.push(entry);
    await this.#changed(entry);
    this.#wake?.();
    return structuredClone(entry);
  }

  /** Cancel a queued or running job. */
  async cancel(id: string): Promise<QueuedJob> {
    const j = this.#find(id);
    if (j.state === 'queued') {
      j.state = 'canceled';
      j.finished = new Date().toISOString();
      await this.#changed(j);
    } else if (j.state === 'running' && this.#running?.id === id) this.#running.abort.abort();
    return structuredClone(j);
  }

  /** Queue a failed or canceled job again (its work folder lets it resume). */
  async retry(id: string): Promise<QueuedJob> {
    const j = this.#find(id);
    if (j.state !== 'failed' && j.state !== 'canceled')
      throw new StudioError(
        'ERR_JOB_STATE',
        `${id} is ${j.state}; only failed or canceled jobs can be retried`,
      );
    Object.assign(j, { state: 'queued', error: null, finished: null, progress: null });
    await this.#changed(j);
    this.#wake?.();
    return structuredClone(j);
  }

  /** Stop: a running render is aborted and stays `running` in the file, to resume on the next open. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#running?.abort.abort();
    this.#wake?.();
    await this.#loop;
    await this.#saving;
  }

  #find(id: string): QueuedJob {
    const j = this.#jobs.find((x) => x.id === id);
    if (j === undefined) throw new StudioError('ERR_JOB_NOT_FOUND', `no job ${id}`);
    return j;
  }

  async #changed(j: QueuedJob): Promise<void> {
    for (const l of this.#listeners) l(structuredClone(j));
    await this.#save();
  }

  /** Write the file atomically; writes are serialised. */
  #save(): Promise<void> {
    this.#saving = this.#saving.then(async () => {
      await mkdir(dirname(this.file), { recursive: true });
      await writeFileAtomic(this.file, `${JSON.stringify({ jobs: this.#jobs }, null, 1)}\n`);
    });
    return this.#saving;
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      const next = this.#jobs.find((j) => j.state === 'queued');
      if (next === undefined) {
        await new Promise<void>((r) => {
          this.#wake = r;
        });
        this.#wake = null;
        continue;
      }
      const abort = new AbortController();
      this.#running = { id: next.id, abort };
      next.state = 'running';
      next.started = new Date().toISOString();
      await this.#changed(next);
      // Listeners hear progress at most once per interval, the latest held back until then (the
      // file is written on state changes only).
      let lastSent = 0;
      let held: ReturnType<typeof setTimeout> | null = null;
      const send = (): void => {
        if (held !== null) clearTimeout(held);
        held = null;
        lastSent = Date.now();
        for (const l of this.#listeners) l(structuredClone(next));
      };
      try {
        try {
          await this.#render(next.job, {
            signal: abort.signal,
            onWarning: (m) => next.warnings.push(m),
            onProgress: (p) => {
              next.progress = p;
              const wait = lastSent + this.#progressIntervalMs - Date.now();
              if (p.stage === 'done' || wait <= 0) send();
              else held ??= setTimeout(send, wait);
            },
          });
        } finally {
          // What comes next (a state change) tells listeners all a held update would have.
          if (held !== null) clearTimeout(held);
        }
        next.state = 'done';
      } catch (err) {
        if (this.#closed) {
          // Shutting down: leave it running in the file, so the next open resumes it.
          this.#running = null;
          await this.#save();
          return;
        }
        next.state = FramecraftError.is(err, 'ERR_CANCELED') || abort.signal.aborted ? 'canceled' : 'failed';
        if (next.state === 'failed')
          next.error = {
            code: FramecraftError.is(err) ? err.code : 'ERR_RENDER',
            message: (err as Error).message,
          };
      }
      this.#running = null;
      next.finished = new Date().toISOString();
      await this.#changed(next);
    }
  }
}

import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { FramecraftError } from '@framecraft/core';
import type { ModelRegistry } from '@framecraft/ml';
import { type FeedbackLog, type TrainEvent, trainModel } from '@framecraft/trainer';
import { StudioError } from './errors.ts';

/** What the trainer page asks for. */
export interface TrainRequest {
  /** Register the result under this model name. */
  readonly name: string;
  readonly mode: 'finetune' | 'student';
  /** For fine-tuning: a registered model (`name` or `name@version`). */
  readonly base?: string | undefined;
  readonly steps?: number | undefined;
  /** Judgement ids to train on; every approved pair by default. */
  readonly pairs?: readonly string[] | undefined;
  readonly batch?: number | undefined;
  readonly crop?: number | undefined;
  readonly lr?: number | undefined;
}

/** A training run started from the studio. */
export interface TrainingRun {
  readonly id: string;
  readonly request: TrainRequest;
  state: 'running' | 'trained' | 'failed' | 'promoted' | 'discarded';
  readonly events: TrainEvent[];
  /** The registered candidate, once there is one. */
  candidate: { name: string; version: string } | null;
  error: { code: string; message: string } | null;
}

/**
 * Training runs started from the studio's trainer page, one at a time: approved pairs from the
 * feedback log, `trainModel` with promotion left to the person (the candidate is registered, not
 * promoted), events kept for the page's loss curves and pushed to listeners. Promote makes the
 * candidate the model renders use; discard removes it from the registry.
 */
export class TrainingRuns {
  readonly #runs = new Map<string, TrainingRun>();
  readonly #listeners = new Set<(run: TrainingRun, event: TrainEvent | null) => void>();
  #active: string | null = null;

  constructor(
    private readonly feedback: FeedbackLog,
    private readonly registry: ModelRegistry,
    private readonly workRoot: string,
  ) {}

  list(): TrainingRun[] {
    return [...this.#runs.values()].map((r) => structuredClone(r));
  }

  get(id: string): TrainingRun {
    const r = this.#runs.get(id);
    if (r === undefined) throw new StudioError('ERR_TRAINING_NOT_FOUND', `no training run ${id}`);
    return r;
  }

  subscribe(listener: (run: TrainingRun, event: TrainEvent | null) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Start training on the approved pairs of the feedback log.
   *
   * @throws {FramecraftError} `ERR_TRAINING_BUSY` while another run trains; `ERR_NO_PAIRS` without approved pairs.
   */
  async start(request: TrainRequest): Promise<TrainingRun> {
    if (this.#active !== null)
      throw new StudioError('ERR_TRAINING_BUSY', `training run ${this.#active} is still running`);
    const approved = await this.feedback.approvedPairs();
    const pairs =
      request.pairs === undefined ? approved : approved.filter((p) => request.pairs!.includes(p.id));
    if (pairs.length === 0)
      throw new StudioError(
        'ERR_NO_PAIRS',
        'no approved judgements in the feedback log yet: approve some in the style lab',
      );
    let base: string | undefined;
    if (request.mode === 'finetune') {
      base = (await this.registry.resolveRef(request.base ?? '')).path;
    }
    const id = `train-${Date.now().toString(36)}-${randomUUID().slice(0, 6)}`;
    const run: TrainingRun = { id, request, state: 'running', events: [], candidate: null, error: null };
    this.#runs.set(id, run);
    this.#active = id;
    void (async () => {
      try {
        for await (const e of trainModel({
          pairs,
          mode: request.mode,
          ...(base !== undefined && { base }),
          workDir: join(this.workRoot, request.name),
          ...(request.steps !== undefined && { steps: request.steps }),
          ...(request.batch !== undefined && { batch: request.batch }),
          ...(request.crop !== undefined && { crop: request.crop }),
          ...(request.lr !== undefined && { lr: request.lr }),
          register: { registry: this.registry, name: request.name, promote: 'never' },
        })) {
          run.events.push(e);
          if (e.type === 'registered') run.candidate = { name: e.manifest.name, version: e.manifest.version };
          this.#emit(run, e);
        }
        run.state = 'trained';
      } catch (err) {
        run.state = 'failed';
        run.error = {
          code: FramecraftError.is(err) ? err.code : 'ERR_TRAINING',
          message: (err as Error).message,
        };
      } finally {
        this.#active = null;
        this.#emit(run, null);
      }
    })();
    return structuredClone(run);
  }

  /** Make the candidate the model renders use. */
  async promote(id: string): Promise<TrainingRun> {
    const run = this.#trained(id);
    await this.registry.promote(run.candidate!.name, run.candidate!.version, 'promoted in the studio');
    run.state = 'promoted';
    this.#emit(run, null);
    return structuredClone(run);
  }

  /** Remove the candidate from the registry. */
  async discard(id: string): Promise<TrainingRun> {
    const run = this.#trained(id);
    await this.registry.remove(run.candidate!.name, run.candidate!.version);
    run.state = 'discarded';
    this.#emit(run, null);
    return structuredClone(run);
  }

  #trained(id: string): TrainingRun {
    const run = this.get(id);
    if (run.state !== 'trained' || run.candidate === null)
      throw new StudioError(
        'ERR_TRAINING_STATE',
        `training run ${id} is ${run.state}; only a trained candidate can be promoted or discarded`,
      );
    return run;
  }

  #emit(run: TrainingRun, event: TrainEvent | null): void {
    for (const l of this.#listeners) l(structuredClone(run), event);
  }
}

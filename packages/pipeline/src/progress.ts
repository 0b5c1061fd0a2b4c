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

/**
 * The progress arithmetic of a render, wherever its chunks run (worker threads here, or a render
 * farm's machines): frames of finished chunks, frames written so far by chunks in flight, the rate
 * this run renders at (reused chunks do not count) and the time left at that rate.
 *
 * @example
 * const progress = new ProgressTracker({ totalFrames: 300, chunks: 3 }, onProgress);
 * progress.chunkFrames(0, 40); // chunk 0 has written 40 frames
 * progress.report('render'); // { framesDone: 40, fps: …, etaSeconds: … }
 * progress.chunkDone(0, 100);
 */
export class ProgressTracker {
  readonly totalFrames: number;
  readonly chunks: number;
  readonly #onProgress: ((progress: RenderProgress) => void) | undefined;
  readonly #inFlight = new Map<number, number>();
  readonly #started = performance.now();
  #doneFrames: number;
  #chunksDone: number;
  #renderedFrames = 0;

  /**
   * Start measuring (the rate counts from now).
   *
   * @param render - The render's frame and chunk counts, and what earlier runs finished.
   * @param onProgress - Where {@link report} sends progress; nothing is sent without it.
   */
  constructor(
    render: {
      readonly totalFrames: number;
      readonly chunks: number;
      /** Chunks finished before this run (reused): their frames are done but not this run's rate. */
      readonly finished?: Iterable<{ readonly frames: number }>;
    },
    onProgress?: (progress: RenderProgress) => void,
  ) {
    this.totalFrames = render.totalFrames;
    this.chunks = render.chunks;
    this.#onProgress = onProgress;
    this.#doneFrames = 0;
    this.#chunksDone = 0;
    for (const f of render.finished ?? []) {
      this.#doneFrames += f.frames;
      this.#chunksDone++;
    }
  }

  /**
   * Note how many frames a chunk in flight has written.
   *
   * @param index - The chunk.
   * @param written - Its frames written so far.
   */
  chunkFrames(index: number, written: number): void {
    this.#inFlight.set(index, written);
  }

  /**
   * Note that a chunk in flight stopped without finishing (it failed and may be retried).
   *
   * @param index - The chunk.
   */
  chunkStopped(index: number): void {
    this.#inFlight.delete(index);
  }

  /**
   * Note a finished chunk.
   *
   * @param index - The chunk.
   * @param frames - Its frames.
   * @param reused - True when no frame was rendered for it now (an earlier attempt's segment).
   */
  chunkDone(index: number, frames: number, reused = false): void {
    this.#inFlight.delete(index);
    this.#doneFrames += frames;
    this.#chunksDone++;
    if (!reused) this.#renderedFrames += frames;
  }

  /** Frames per second this run has rendered, counting frames written by chunks in flight. */
  get fps(): number {
    const seconds = (performance.now() - this.#started) / 1000;
    return seconds > 0 ? (this.#renderedFrames + this.#live()) / seconds : 0;
  }

  /**
   * Where the render stands now.
   *
   * @param stage - The render's stage; at `done` every frame is done.
   * @returns The progress.
   */
  now(stage: RenderProgress['stage']): RenderProgress {
    const rate = this.fps;
    const framesDone =
      stage === 'done' ? this.totalFrames : Math.min(this.totalFrames, this.#doneFrames + this.#live());
    return {
      stage,
      framesDone,
      totalFrames: this.totalFrames,
      chunksDone: stage === 'done' ? this.chunks : this.#chunksDone,
      chunks: this.chunks,
      fps: rate,
      etaSeconds: rate > 0 ? (this.totalFrames - framesDone) / rate : null,
    };
  }

  /**
   * Send where the render stands to the progress callback.
   *
   * @param stage - The render's stage.
   */
  report(stage: RenderProgress['stage']): void {
    this.#onProgress?.(this.now(stage));
  }

  #live(): number {
    let live = 0;
    for (const written of this.#inFlight.values()) live += written;
    return live;
  }
}

/**
 * Lets the event loop run now and then during long synchronous native work.
 *
 * FFmpeg calls are made synchronously on the calling thread (each async call would cost a
 * thread-pool round trip per packet, 20% of decode time in our measurements); this keeps timers,
 * progress output and signal handlers (Ctrl-C) alive in between.
 */
export class Breather {
  readonly #intervalMs: number;
  #last = performance.now();

  /**
   * Create a breather.
   *
   * @param intervalMs - Longest stretch of synchronous work before yielding; 50 ms by default.
   */
  constructor(intervalMs = 50) {
    this.#intervalMs = intervalMs;
  }

  /** Yield to the event loop when the last yield was long enough ago. */
  async breathe(): Promise<void> {
    const now = performance.now();
    if (now - this.#last < this.#intervalMs) return;
    this.#last = now;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

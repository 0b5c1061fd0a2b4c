/**
 * A value that changes over time, read as an async iterable of its states: a reader that falls
 * behind skips to the newest state instead of queueing every one (progress is a state, not a log),
 * so memory stays constant however slow the reader. One reader at a time.
 */
export class Latest<T> implements AsyncIterable<T> {
  #value: T | undefined;
  #fresh = false;
  #ended = false;
  #error: { readonly err: unknown } | null = null;
  #wake: (() => void) | null = null;

  /**
   * Set the newest state.
   *
   * @param value - The state.
   */
  set(value: T): void {
    if (this.#ended) return;
    this.#value = value;
    this.#fresh = true;
    this.#notify();
  }

  /**
   * End the iteration after the last state is read; with an error, the iteration then throws it.
   *
   * @param error - Why it ended, when it failed.
   */
  end(error?: { readonly err: unknown }): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error ?? null;
    this.#notify();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.#fresh) {
        this.#fresh = false;
        yield this.#value as T;
        continue;
      }
      if (this.#ended) {
        if (this.#error !== null) throw this.#error.err;
        return;
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

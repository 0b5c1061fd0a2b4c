import { CanceledError, FramecraftError } from '@framecraft/core';
import type { CliErrorCode } from './errors.ts';

/** Raised when Ctrl-C (SIGINT) or SIGTERM stopped a command: says what stopped and what a rerun does. */
export class InterruptedError extends FramecraftError<CliErrorCode> {
  /** The signal that stopped the command. */
  readonly signal: 'SIGINT' | 'SIGTERM';

  /**
   * @param signal - The signal received.
   * @param message - What stopped, and what to do next.
   */
  constructor(signal: 'SIGINT' | 'SIGTERM', message: string) {
    super('ERR_CANCELED', message);
    this.name = 'InterruptedError';
    this.signal = signal;
  }
}

/**
 * The exit status of a command that failed with `err`: 130 for Ctrl-C, 143 for SIGTERM (the
 * shell's 128 + signal number), 1 otherwise.
 *
 * @param err - What the command threw.
 * @returns The exit status.
 */
export function exitStatusOf(err: unknown): number {
  if (err instanceof InterruptedError) return err.signal === 'SIGTERM' ? 143 : 130;
  return FramecraftError.is(err, 'ERR_CANCELED') ? 130 : 1;
}

/**
 * Ctrl-C and SIGTERM turned into an abort signal for the command's work, while it runs (a second
 * Ctrl-C then ends the process at once, as usual). `using interrupt = listenForInterrupt()`.
 */
export interface Interrupt extends Disposable {
  /** Aborted when a signal arrives; its reason is a {@link CanceledError}. */
  readonly signal: AbortSignal;
  /** The signal received, or null. */
  readonly received: () => 'SIGINT' | 'SIGTERM' | null;
  /**
   * What to throw for a failure: when a signal stopped the work, an {@link InterruptedError}
   * saying `<what> stopped by SIGINT; <next>`; otherwise the failure itself.
   */
  readonly explain: (err: unknown, what: string, next: string) => unknown;
}

/**
 * Start listening for SIGINT and SIGTERM.
 *
 * @returns The interrupt; dispose it when the command is done.
 */
export function listenForInterrupt(): Interrupt {
  const controller = new AbortController();
  let received: 'SIGINT' | 'SIGTERM' | null = null;
  const on = (name: 'SIGINT' | 'SIGTERM') => (): void => {
    received = name;
    controller.abort(new CanceledError(`the command (${name})`));
  };
  const onInt = on('SIGINT');
  const onTerm = on('SIGTERM');
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  return {
    signal: controller.signal,
    received: () => received,
    explain: (err, what, next) =>
      received === null
        ? err
        : new InterruptedError(
            received,
            `${what} stopped by ${received === 'SIGINT' ? 'Ctrl-C (SIGINT)' : 'SIGTERM'}; ${next}`,
          ),
    [Symbol.dispose]() {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}

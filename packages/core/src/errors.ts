/** Every code @framecraft/core raises, with what it means. */
export const CORE_ERRORS = {
  ERR_ASSERTION: 'an internal invariant failed: a bug in Framecraft',
  ERR_CANCELED: 'the operation was aborted through its AbortSignal',
} as const;

/** A code @framecraft/core raises. */
export type CoreErrorCode = keyof typeof CORE_ERRORS;

/** Options shared by every Framecraft error. */
export interface FramecraftErrorOptions {
  /** The underlying failure, kept for debugging. */
  readonly cause?: unknown;
}

/**
 * A package's error codes, each with what it means: the package's one list of the codes it raises
 * (exported as `<PACKAGE>_ERRORS`, with `keyof typeof` as its code type), so a code is checked where
 * it is raised and a caller can see every code it may have to handle.
 */
export type ErrorCodeTable = { readonly [code: `ERR_${string}`]: string };

/**
 * Base class of every error Framecraft raises on purpose. `C` narrows `code` to a package's table
 * (`FramecraftError<IoErrorCode>`); plain `FramecraftError` carries any code.
 *
 * Callers branch on `code` (through the static `is`), never on `instanceof`: two bundled copies
 * of a package each have their own class, but the codes are the same.
 *
 * @example
 * ```ts
 * try { await probe('clip.mp4') } catch (err) {
 *   if (FramecraftError.is(err, 'ERR_FILE_NOT_FOUND')) console.error(err.message)
 * }
 * ```
 */
export class FramecraftError<C extends string = string> extends Error {
  /** Stable machine-readable code, for example `"ERR_LUT_PARSE"`. */
  readonly code: C;

  /**
   * Create an error with a code.
   *
   * @param code - Stable machine-readable code.
   * @param message - What failed, on which input, and what to do.
   * @param options - The underlying cause.
   */
  constructor(code: C, message: string, options: FramecraftErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FramecraftError';
    this.code = code;
  }

  /**
   * Tell whether a value is a Framecraft error, optionally with a given code.
   *
   * @param err - Any caught value.
   * @param code - The code to match; any Framecraft code when omitted.
   * @returns True when `err` carries a Framecraft code (and it matches `code`).
   */
  static is(err: unknown, code?: string): err is FramecraftError {
    if (typeof err !== 'object' || err === null) return false;
    const c = (err as { code?: unknown }).code;
    if (typeof c !== 'string' || !c.startsWith('ERR_')) return false;
    return code === undefined || c === code;
  }
}

/**
 * Describe a received value briefly for an error message.
 *
 * @param value - Any value.
 * @returns A short printable form.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `array(${value.length})`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${value.byteLength} bytes)`;
  return typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value;
}

/**
 * Format the one invalid-argument message: "Expected <what> for <param> but received <value>".
 *
 * @param expected - What the parameter must be.
 * @param param - The parameter's name.
 * @param value - What was passed.
 * @returns The message.
 */
export function invalidArgumentMessage(expected: string, param: string, value: unknown): string {
  return `Expected ${expected} for ${param} but received ${describeValue(value)}`;
}

/**
 * Create the `TypeError` for an argument of the wrong type.
 *
 * @param expected - What the parameter must be.
 * @param param - The parameter's name.
 * @param value - What was passed.
 * @returns The error, for the caller to throw.
 */
export function invalidTypeError(expected: string, param: string, value: unknown): TypeError {
  return new TypeError(invalidArgumentMessage(expected, param, value));
}

/**
 * Create the `RangeError` for an argument out of range.
 *
 * @param expected - What the parameter must be.
 * @param param - The parameter's name.
 * @param value - What was passed.
 * @returns The error, for the caller to throw.
 */
export function invalidRangeError(expected: string, param: string, value: unknown): RangeError {
  return new RangeError(invalidArgumentMessage(expected, param, value));
}

/** Raised when an operation is aborted through its `AbortSignal`. */
export class CanceledError extends FramecraftError<'ERR_CANCELED'> {
  /**
   * Create a cancellation error.
   *
   * @param what - The operation that was canceled.
   * @param options - The abort reason as cause.
   */
  constructor(what: string, options: FramecraftErrorOptions = {}) {
    super('ERR_CANCELED', `${what} was canceled`, options);
    this.name = 'CanceledError';
  }
}

import { FramecraftError, invalidRangeError, invalidTypeError } from './errors.ts';

/**
 * Throw an internal-invariant error when a condition does not hold.
 *
 * Use for states that indicate a bug in Framecraft, not bad user input.
 *
 * @param condition - The invariant.
 * @param message - What broke.
 * @throws {FramecraftError} `ERR_ASSERTION` when `condition` is falsy.
 */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new FramecraftError('ERR_ASSERTION', `Internal assertion failed: ${message}`);
}

/**
 * Check that a value is an integer within bounds.
 *
 * @param value - The value to check.
 * @param param - The parameter's name for the message.
 * @param min - Smallest allowed value.
 * @param max - Largest allowed value.
 * @returns The value, typed as a number.
 * @throws {TypeError} When `value` is not an integer.
 * @throws {RangeError} When `value` is outside [min, max].
 */
export function assertInteger(
  value: unknown,
  param: string,
  min: number = -Infinity,
  max: number = Infinity,
): number {
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw invalidTypeError('an integer', param, value);
  if (value < min || value > max) {
    const range = Number.isFinite(max) ? `an integer in [${min}, ${max}]` : `an integer >= ${min}`;
    throw invalidRangeError(range, param, value);
  }
  return value;
}

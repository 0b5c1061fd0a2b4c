/** Helpers the bench scripts share. */

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A comma-separated flag value as a list. */
export const list = (value: string): string[] => value.split(',').filter((v) => v !== '');

/** A comma-separated flag value as numbers. */
export const numbers = (value: string): number[] => list(value).map(Number);

import { FramecraftError } from '@framecraft/core';

/** Every code @framecraft/color raises, with what it means. */
export const COLOR_ERRORS = {
  ERR_LUT_PARSE: 'a .cube file is malformed (the line, column and problem are named)',
} as const;

/** A code @framecraft/color raises. */
export type ColorErrorCode = keyof typeof COLOR_ERRORS;

/** An error @framecraft/color raises on purpose, its code checked against {@link COLOR_ERRORS}. */
export class ColorError extends FramecraftError<ColorErrorCode> {}

/** Raised for a malformed .cube file; carries where the problem is. */
export class LutParseError extends FramecraftError<ColorErrorCode> {
  /** The file (or `"<string>"`) being parsed. */
  readonly file: string;
  /** 1-based line of the problem (0 when it concerns the whole file). */
  readonly line: number;
  /** 1-based column of the problem on that line (0 when unknown). */
  readonly column: number;

  /**
   * Create the error.
   *
   * @param file - The file being parsed.
   * @param line - 1-based line number.
   * @param column - 1-based column.
   * @param problem - What was found and what was expected.
   */
  constructor(file: string, line: number, column: number, problem: string) {
    const where = line > 0 ? `${file}:${line}${column > 0 ? `:${column}` : ''}` : file;
    super('ERR_LUT_PARSE', `${where}: ${problem}`);
    this.name = 'LutParseError';
    this.file = file;
    this.line = line;
    this.column = column;
  }
}

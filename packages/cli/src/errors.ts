import { access, constants, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { FramecraftError } from '@framecraft/core';
import { existingOutput, outputContainer } from '@framecraft/io';

/** Every code @framecraft/cli raises, with what it means. */
export const CLI_ERRORS = {
  ERR_USAGE: 'a flag or argument is missing or malformed',
  ERR_INVALID_ARG: 'a flag value is out of range',
  ERR_FILE_NOT_FOUND: 'an input file does not exist',
  ERR_OUTPUT_DIR: 'an output that must be a file is a folder, or --out-dir is a file',
  ERR_OUTPUT_EXISTS: 'the output exists and --overwrite was not given',
  ERR_OUTPUT_NOT_WRITABLE: "the output's folder is not writable",
  ERR_SAME_FILE: 'the output is the input',
  ERR_CANCELED: 'the command was stopped (Ctrl+C or a signal)',
  ERR_UNEXPECTED: 'a failure without a code: a bug, reported with its stack',
} as const;

/** A code @framecraft/cli raises. */
export type CliErrorCode = keyof typeof CLI_ERRORS;

/** An error @framecraft/cli raises on purpose, its code checked against {@link CLI_ERRORS}. */
export class CliError extends FramecraftError<CliErrorCode> {}

/** Raised for command-line mistakes the user fixes by changing the command. */
export class UsageError extends FramecraftError<CliErrorCode> {
  /**
   * Create the error.
   *
   * @param code - Stable code.
   * @param message - What is wrong and what to do.
   */
  constructor(code: CliErrorCode, message: string) {
    super(code, message);
    this.name = 'UsageError';
  }
}

/**
 * Turn any failure into the one line the CLI prints.
 *
 * @param err - What was thrown.
 * @returns `error [CODE]: message`, on one line.
 */
export function formatError(err: unknown): string {
  const code = FramecraftError.is(err)
    ? err.code
    : err instanceof TypeError || err instanceof RangeError
      ? 'ERR_INVALID_ARG'
      : 'ERR_UNEXPECTED';
  const message = err instanceof Error ? err.message : String(err);
  return `error [${code}]: ${message.replace(/\s*\n\s*/g, ' ')}`;
}

/**
 * Check that an output path can be written without losing anything the user has.
 *
 * @param input - The input path (never overwritten).
 * @param output - The output path.
 * @param overwrite - Whether replacing an existing output file is allowed.
 * @throws {UsageError} `ERR_SAME_FILE`, `ERR_OUTPUT_EXISTS`, `ERR_OUTPUT_DIR` or `ERR_OUTPUT_NOT_WRITABLE`.
 * @throws {MediaFileError} `ERR_OUTPUT_NOT_FILE` (a device, pipe or link is there) or `ERR_OUTPUT_FORMAT` (an extension we do not write).
 */
export async function checkOutputPath(input: string, output: string, overwrite: boolean): Promise<void> {
  if (resolve(input) === resolve(output)) {
    throw new UsageError(
      'ERR_SAME_FILE',
      `${output}: the output would replace the input. Choose another output path.`,
    );
  }
  const existing = await stat(output).catch(() => undefined);
  if (existing?.isDirectory())
    throw new UsageError('ERR_OUTPUT_DIR', `${output}: is a folder; give a file name.`);
  // A device, a pipe or a link is never replaced; an output of a kind we cannot write is refused
  // before any work.
  existingOutput(output);
  outputContainer(output);
  if (existing && !overwrite) {
    throw new UsageError('ERR_OUTPUT_EXISTS', `${output}: already exists. Pass --overwrite to replace it.`);
  }
  const dir = dirname(resolve(output));
  const dirStat = await stat(dir).catch(() => undefined);
  if (!dirStat?.isDirectory())
    throw new UsageError('ERR_OUTPUT_DIR', `${output}: folder ${dir} does not exist.`);
  try {
    await access(dir, constants.W_OK);
  } catch {
    throw new UsageError('ERR_OUTPUT_NOT_WRITABLE', `${output}: folder ${dir} is not writable.`);
  }
}

import { FramecraftError } from '@framecraft/core';

/** Every code @framecraft/pipeline raises, with what it means. */
export const PIPELINE_ERRORS = {
  ERR_JOB_CONFIG: 'a job does not match the job schema or names an unknown style',
  ERR_JOB_CHANGED: 'the work folder holds an unfinished render of other settings',
  ERR_JOURNAL: "a work folder's journal cannot be read",
  ERR_DISK_FULL: 'the disk of the work folder or the output has too little room',
  ERR_OUTPUT_EXISTS: 'the output exists and overwrite was not asked for',
  ERR_BATCH_OUTPUT_CLASH: 'two inputs of a batch would write the same output',
  ERR_PRESET: 'a preset file is malformed, or a built-in preset would be changed',
  ERR_PRESET_NOT_FOUND: 'no preset has this name',
  ERR_AUTOTUNE: 'an autotune grid or input cannot be searched',
} as const;

/** A code @framecraft/pipeline raises. */
export type PipelineErrorCode = keyof typeof PIPELINE_ERRORS;

/** An error @framecraft/pipeline raises on purpose, its code checked against {@link PIPELINE_ERRORS}. */
export class PipelineError extends FramecraftError<PipelineErrorCode> {}

/** Raised when a job does not match the job schema or names an unknown style. */
export class JobConfigError extends FramecraftError<PipelineErrorCode> {
  /** One line per problem: `field: message`. */
  readonly issues: readonly string[];

  /** @param issues - The problems, each naming its field. */
  constructor(issues: readonly string[]) {
    super('ERR_JOB_CONFIG', `Invalid job: ${issues.join('; ')}`);
    this.name = 'JobConfigError';
    this.issues = issues;
  }
}

/** Raised when a work folder holds a render of different settings. */
export class JobChangedError extends FramecraftError<PipelineErrorCode> {
  /** The work folder. */
  readonly workDir: string;

  /** @param workDir - The work folder holding the other render. */
  constructor(workDir: string) {
    super(
      'ERR_JOB_CHANGED',
      `The unfinished render in ${workDir} was started with different settings (or the input changed). ` +
        'Run with --restart to discard it and start over, or run the original command to finish it.',
    );
    this.name = 'JobChangedError';
    this.workDir = workDir;
  }
}

/** Raised when the disk holding the work folder or the output has too little room. */
export class DiskFullError extends FramecraftError<PipelineErrorCode> {
  /** The folder that lacks room. */
  readonly folder: string;

  /**
   * @param folder - Where the space is missing.
   * @param needed - Bytes estimated.
   * @param free - Bytes available.
   */
  constructor(folder: string, needed: number, free: number) {
    const mb = (b: number): string => `${(b / 1048576).toFixed(0)} MiB`;
    super(
      'ERR_DISK_FULL',
      `Not enough disk space in ${folder}: about ${mb(needed)} needed, ${mb(free)} free. ` +
        'Free some space and run the same command again to continue.',
    );
    this.name = 'DiskFullError';
    this.folder = folder;
  }
}

/** Raised when the output exists and overwriting was not asked for. */
export class OutputExistsError extends FramecraftError<PipelineErrorCode> {
  /** @param path - The existing output. */
  constructor(path: string) {
    super('ERR_OUTPUT_EXISTS', `${path} already exists (pass overwrite to replace it)`);
    this.name = 'OutputExistsError';
  }
}

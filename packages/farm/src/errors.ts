import { FramecraftError } from '@framecraft/core';

/** Every code @framecraft/farm raises, with what it means. */
export const FARM_ERRORS = {
  ERR_QUEUE_URL: 'a queue address is not redis://host:port[/db]',
  ERR_REDIS_UNREACHABLE: 'Redis cannot be reached (at the start, or for too long during a render)',
  ERR_TIMEOUT: 'Redis or a worker gave no answer in time',
  ERR_FARM_BUSY: 'another submitter is rendering this output on the farm',
  ERR_FARM_JOB_MISMATCH: "the farm's render of this output has other settings",
  ERR_FARM_MODEL: 'a worker has no copy of the model version the render pinned',
  ERR_FARM_RENDER: 'a chunk or the stitch failed on a worker',
  ERR_OUTPUT_EXISTS: 'the output exists and overwrite was not asked for',
  ERR_CANCELED: 'the render was canceled',
} as const;

/** A code @framecraft/farm raises. */
export type FarmErrorCode = keyof typeof FARM_ERRORS;

/** An error @framecraft/farm raises on purpose, its code checked against {@link FARM_ERRORS}. */
export class FarmError extends FramecraftError<FarmErrorCode> {}

/** Raised when Redis cannot be reached (at the start, or for too long during a render). */
export class RedisUnreachableError extends FramecraftError<FarmErrorCode> {
  /** The queue address (password removed). */
  readonly url: string;

  /**
   * @param url - The queue address (password removed).
   * @param detail - What failed.
   */
  constructor(url: string, detail: string) {
    super('ERR_REDIS_UNREACHABLE', `Cannot reach Redis at ${url} (${detail}).`);
    this.name = 'RedisUnreachableError';
    this.url = url;
  }
}

/** Raised when a farm render fails: a chunk or the stitch failed on a worker, or it was canceled. */
export class FarmRenderError extends FramecraftError<FarmErrorCode> {
  /** The render's id on the farm. */
  readonly renderId: string;

  /**
   * @param code - `ERR_FARM_RENDER`, `ERR_FARM_BUSY` or `ERR_CANCELED`.
   * @param renderId - The render's id on the farm.
   * @param message - What happened.
   */
  constructor(code: 'ERR_FARM_RENDER' | 'ERR_FARM_BUSY' | 'ERR_CANCELED', renderId: string, message: string) {
    super(code, message);
    this.name = 'FarmRenderError';
    this.renderId = renderId;
  }
}

import { FramecraftError } from '@framecraft/core';

/** Raised when Redis cannot be reached (at the start, or for too long during a render). */
export class RedisUnreachableError extends FramecraftError {
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
export class FarmRenderError extends FramecraftError {
  /** The render's id on the farm. */
  readonly renderId: string;

  /**
   * @param code - `ERR_FARM_RENDER` or `ERR_CANCELED`.
   * @param renderId - The render's id on the farm.
   * @param message - What happened.
   */
  constructor(code: string, renderId: string, message: string) {
    super(code, message);
    this.name = 'FarmRenderError';
    this.renderId = renderId;
  }
}

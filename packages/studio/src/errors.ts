import { FramecraftError } from '@framecraft/core';
import type { IoErrorCode } from '@framecraft/io';
import type { MlErrorCode } from '@framecraft/ml';
import type { PipelineErrorCode } from '@framecraft/pipeline';
import { issueText, type StylizersErrorCode } from '@framecraft/stylizers';
import type { TrainerErrorCode } from '@framecraft/trainer';
import { HTTPException } from 'hono/http-exception';
import type * as v from 'valibot';

/** Every code the studio raises, with what it means. */
export const STUDIO_ERRORS = {
  ERR_ORIGIN: 'a request that changes state came from another site',
  ERR_PATH_NOT_ALLOWED: 'a path lies outside the folders the studio may use',
  ERR_ROOT: 'an allowed folder is not an existing folder',
  ERR_NOT_A_FILE: 'the path asked for is a folder or a device, not a file',
  ERR_NO_METRICS: 'the render was made without per-frame metrics',
  ERR_UPLOAD_TYPE: 'an upload is not a video, image, .cube or .onnx file',
  ERR_UPLOAD_EMPTY: 'an upload has no body',
  ERR_UPLOAD_TOO_LARGE: "an upload is larger than the studio's limit",
  ERR_JOB_CONFIG: 'a job sent to the queue is not a JSON job',
  ERR_OUTPUT_EXISTS: 'the output file exists; the studio never replaces a file',
  ERR_JOB_NOT_FOUND: 'no job in the queue has this id',
  ERR_JOB_STATE: 'the job is not in a state that allows this (retrying a running job)',
  ERR_QUEUE_FILE: "the queue's file is not a studio queue",
  ERR_NO_VIDEOS: 'a folder sent to the queue has no videos',
  ERR_RENDER: 'a render failed with an error that has no code of its own',
  ERR_LAB: 'a style-lab comparison request is malformed',
  ERR_LAB_NOT_FOUND: 'no style-lab comparison has this id (or it was dropped from the cache)',
  ERR_LAB_TIME: 'the clip has no frame at the time asked for',
  ERR_FEEDBACK: 'a judgement is malformed',
  ERR_FEEDBACK_NOT_FOUND: 'no judgement in the feedback log has this id',
  ERR_DEFAULTS: "the dashboard's defaults sent are malformed",
  ERR_TRAIN_REQUEST: 'a training request is malformed',
  ERR_TRAINING: 'a training run failed with an error that has no code of its own',
  ERR_TRAINING_BUSY: 'another training run is still running',
  ERR_TRAINING_NOT_FOUND: 'no training run has this id',
  ERR_TRAINING_STATE: 'the training run is not in a state that allows this',
  ERR_NO_PAIRS: 'there are no approved judgements to train on',
  ERR_BAD_REQUEST: 'the request could not be read (malformed JSON)',
  ERR_INTERNAL: 'an unexpected failure inside the studio',
} as const;

/** A code the studio raises. */
export type StudioErrorCode = keyof typeof STUDIO_ERRORS;

/** An error the studio raises on purpose. */
export class StudioError extends FramecraftError<StudioErrorCode> {}

/** HTTP statuses the studio answers errors with. */
export type ErrorStatus = 400 | 403 | 404 | 409 | 413 | 500;

/** Every code a request can end with: the studio's and those of the packages it calls. */
type KnownCode =
  | StudioErrorCode
  | IoErrorCode
  | MlErrorCode
  | StylizersErrorCode
  | PipelineErrorCode
  | TrainerErrorCode;

/**
 * The status of each code that is not a plain 400: the one place an error becomes an HTTP status.
 * Codes of the packages below (files, models, presets, the output that exists) are listed by name.
 */
const STATUSES: { readonly [K in KnownCode]?: ErrorStatus } = {
  ERR_ORIGIN: 403,
  ERR_PATH_NOT_ALLOWED: 403,
  ERR_FILE_NOT_FOUND: 404,
  ERR_MODEL_NOT_FOUND: 404,
  ERR_PRESET_NOT_FOUND: 404,
  ERR_LUT_NOT_FOUND: 404,
  ERR_JOB_NOT_FOUND: 404,
  ERR_LAB_NOT_FOUND: 404,
  ERR_FEEDBACK_NOT_FOUND: 404,
  ERR_TRAINING_NOT_FOUND: 404,
  ERR_NO_METRICS: 404,
  ERR_OUTPUT_EXISTS: 409,
  ERR_JOB_STATE: 409,
  ERR_TRAINING_BUSY: 409,
  ERR_TRAINING_STATE: 409,
  ERR_UPLOAD_TOO_LARGE: 413,
};
const STATUS = new Map<string, ErrorStatus>(Object.entries(STATUSES));

/** The JSON body of every error answer. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

/**
 * The answer to a failed request: a Framecraft error's code with its status from the table above
 * (400 when not listed), Hono's own request errors (malformed JSON) as `ERR_BAD_REQUEST`, anything
 * else as a 500 `ERR_INTERNAL`.
 */
export function failure(err: unknown): { status: ErrorStatus; body: ErrorBody } {
  if (FramecraftError.is(err))
    return { status: STATUS.get(err.code) ?? 400, body: { error: { code: err.code, message: err.message } } };
  if (err instanceof HTTPException && err.status < 500)
    return { status: 400, body: { error: { code: 'ERR_BAD_REQUEST', message: err.message } } };
  return { status: 500, body: { error: { code: 'ERR_INTERNAL', message: (err as Error).message } } };
}

/**
 * The hook of a body validator: a body that does not match `schema` becomes a `code` error that
 * names each wrong field, after `usage` (what the route expects).
 */
export function invalidBody(
  code: StudioErrorCode,
  usage: string,
): (result: { success: boolean; issues?: readonly v.BaseIssue<unknown>[] | undefined }) => void {
  return (result) => {
    if (result.success) return;
    const issues = (result.issues ?? []).map((i) => issueText(i, '(body)'));
    throw new StudioError(code, `expected ${usage}: ${issues.join('; ')}`);
  };
}

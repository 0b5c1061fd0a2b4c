// What the submitter and the workers agree on: queue names, job ids, job data, the chunk record
// files in the work folder, and the checks a worker makes before rendering.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '@framecraft/io';
import {
  type Chunk,
  type ChunkResult,
  chunkFileName,
  type Job,
  jobHash,
  parseJob,
  type RenderModel,
  readJournal,
  type SegmentRecord,
  segmentIntact,
} from '@framecraft/pipeline';
import { FarmError } from './errors.ts';

/** BullMQ key prefix of every Framecraft queue (so they sit apart from other BullMQ users). */
export const PREFIX = 'framecraft';

/** A class of resource a chunk needs: a GPU style's chunks go to GPU workers. */
export type ResourceClass = 'cpu' | 'gpu';

/** The queue of chunks needing this resource. */
export function chunkQueueName(resource: ResourceClass): string {
  return `chunks-${resource}`;
}

/** The queue of stitch jobs (any worker takes them). */
export const STITCH_QUEUE = 'stitch';

/** Redis key that marks a render as canceled (chunks in flight stop, waiting ones are refused). */
export function cancelKey(renderId: string): string {
  return `${PREFIX}:canceled:${renderId}`;
}

/**
 * The id of a render on the farm: the same output and job settings give the same id, so running
 * the same command again finds the render already queued.
 *
 * @param output - Absolute output path.
 * @param hash - The job hash.
 */
export function renderIdOf(output: string, hash: string): string {
  return createHash('sha256').update(`${output}\n${hash}`).digest('hex').slice(0, 20);
}

/** The job id of one chunk of a render. */
export function chunkJobId(renderId: string, index: number): string {
  return `${renderId}-${String(index).padStart(5, '0')}`;
}

/** The model a render was submitted with, which every worker must have too. */
export type ModelPin =
  | { readonly kind: 'registry'; readonly name: string; readonly version: string; readonly sha256: string }
  | { readonly kind: 'file'; readonly path: string; readonly sha256: string };

/** Data of a chunk job. */
export interface ChunkJobData {
  readonly renderId: string;
  /** The job hash the submitter computed; a worker computing another refuses the chunk. */
  readonly hash: string;
  readonly job: Job;
  readonly chunk: Chunk;
  readonly workDir: string;
  readonly model: ModelPin | null;
}

/** Data of the stitch job (the parent of the chunk jobs). */
export interface StitchJobData {
  readonly renderId: string;
  readonly hash: string;
  readonly job: Job;
  readonly workDir: string;
  readonly output: string;
  readonly chunks: readonly Chunk[];
  readonly totalFrames: number;
  readonly model: RenderModel | null;
  readonly overwrite: boolean;
}

/** What a chunk job returns. */
export interface ChunkJobResult extends ChunkResult {
  readonly file: string;
  /** `host:pid` of the worker that rendered it. */
  readonly worker: string;
  readonly seconds: number;
  /** True when an earlier attempt had finished the segment and it was reused. */
  readonly reused: boolean;
}

/** What the stitch job returns. */
export interface StitchJobResult {
  readonly output: string;
  readonly frames: number;
  readonly chunks: number;
  readonly metricsLog: string | null;
  readonly worker: string;
}

/** Progress a chunk job reports. */
export interface ChunkProgress {
  readonly index: number;
  readonly written: number;
  readonly frames: number;
}

/**
 * Whether a progress event's data is a chunk's {@link ChunkProgress} (BullMQ types it as any
 * number or object).
 *
 * @param data - The event's data.
 * @returns True for a chunk's progress.
 */
export function isChunkProgress(data: unknown): data is ChunkProgress {
  return (
    typeof data === 'object' && data !== null && typeof (data as { written?: unknown }).written === 'number'
  );
}

/** How long finished and failed jobs stay in Redis for inspection (seconds; 7 days). */
export const KEEP: { readonly age: number } = { age: 7 * 24 * 3600 };

/** This process, as workers name themselves in results and messages. */
export function workerName(): string {
  return `${hostname()}:${process.pid}`;
}

function recordPath(workDir: string, index: number): string {
  return join(workDir, chunkFileName(index, '.done.json'));
}

/** A finished chunk as recorded beside its segment (so a retried job reuses it). */
export interface ChunkRecord extends SegmentRecord {
  readonly job_hash: string;
  readonly encoder: string;
}

/**
 * Record a finished chunk beside its segment (atomically).
 *
 * @param workDir - The work folder.
 * @param index - The chunk.
 * @param record - Its segment and the job hash it was rendered for.
 */
export async function writeChunkRecord(workDir: string, index: number, record: ChunkRecord): Promise<void> {
  await writeFileAtomic(recordPath(workDir, index), `${JSON.stringify(record)}\n`);
}

/**
 * A chunk finished earlier for this job whose segment is intact, or null.
 *
 * @param workDir - The work folder.
 * @param index - The chunk.
 * @param hash - The job hash it must have been rendered for.
 */
export async function readChunkRecord(
  workDir: string,
  index: number,
  hash: string,
): Promise<ChunkRecord | null> {
  const path = recordPath(workDir, index);
  if (!existsSync(path)) return null;
  let record: ChunkRecord;
  try {
    record = JSON.parse(await readFile(path, 'utf8')) as ChunkRecord;
  } catch {
    return null;
  }
  if (record.job_hash !== hash || !(await segmentIntact(workDir, record))) return null;
  return record;
}

/**
 * Add the chunks the farm's workers recorded (for this job, segment intact) to the finished ones.
 *
 * @param completed - Finished segments so far (journaled ones), added to in place.
 * @param workDir - The work folder.
 * @param chunks - The render's chunks.
 * @param hash - The job hash.
 * @returns `completed`.
 */
export async function addChunkRecords(
  completed: Map<number, SegmentRecord>,
  workDir: string,
  chunks: readonly Chunk[],
  hash: string,
): Promise<Map<number, SegmentRecord>> {
  for (const c of chunks) {
    if (completed.has(c.index)) continue;
    const record = await readChunkRecord(workDir, c.index, hash);
    if (record !== null)
      completed.set(c.index, { file: record.file, frames: record.frames, sha256: record.sha256 });
  }
  return completed;
}

/**
 * Check, on the worker, that a job means here what it meant to the submitter: the same job hash
 * (the input at the same path with the same size and modification time, the same style options
 * after this worker's defaults) and a work folder still holding this render.
 *
 * @param data - The job's data.
 * @returns The job parsed on this worker.
 * @throws {FramecraftError} `ERR_FARM_JOB_MISMATCH` saying what differs.
 */
export async function checkJobHere(data: {
  readonly job: Job;
  readonly hash: string;
  readonly workDir: string;
}): Promise<Job> {
  const me = workerName();
  let job: Job;
  let hash: string;
  try {
    job = parseJob(data.job);
    hash = await jobHash(job);
  } catch (err) {
    throw new FarmError(
      'ERR_FARM_JOB_MISMATCH',
      `Worker ${me} cannot take this job: ${(err as Error).message} (does this machine see the shared storage at the same paths?)`,
      { cause: err },
    );
  }
  if (hash !== data.hash)
    throw new FarmError(
      'ERR_FARM_JOB_MISMATCH',
      `Worker ${me} refuses the job for ${data.job.output}: its settings hash here is ${hash.slice(0, 12)}, ` +
        `the submitter's ${data.hash.slice(0, 12)}. The input ${data.job.input} differs on this machine ` +
        '(size or modification time), or this worker runs another Framecraft version.',
    );
  const journal = await readJournal(data.workDir);
  if (journal === null || journal.job_hash !== data.hash)
    throw new FarmError(
      'ERR_FARM_JOB_MISMATCH',
      `Worker ${me} refuses the job for ${data.job.output}: the work folder ${data.workDir} ` +
        (journal === null
          ? 'holds no journal (the render finished, was restarted, or the folder is not shared with this machine).'
          : 'now belongs to a render with other settings (it was restarted).'),
    );
  return job;
}

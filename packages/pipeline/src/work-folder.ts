// A render's work folder: a segment and a metrics log per chunk, and the journal that says which
// segments are finished. Local renders and render farm workers write the same layout.
import { join, resolve } from 'node:path';
import type { ChunkTask } from './chunk.ts';
import type { Chunk } from './chunk-plan.ts';
import type { Job } from './job.ts';
import { type Journal, type SegmentRecord, writeJournal } from './journal.ts';

/** A registered model a render uses (see {@link RenderPlan}). */
export interface RenderModel {
  readonly name: string;
  /** The version in use: pinned (`name@version`), the journal's on a resume, else the newest. */
  readonly version: string;
  /** True for `name@version`: no newer version swaps in. */
  readonly pinned: boolean;
  /** The version each finished chunk was rendered with. */
  readonly chunks: Readonly<Record<string, string>>;
}

/** What a render's journal records of its plan. */
export interface JournaledRender {
  readonly job: Job;
  /** `jobHash` of `job`. */
  readonly hash: string;
  readonly workDir: string;
  /** Absolute output path. */
  readonly output: string;
  readonly chunks: readonly Chunk[];
  readonly totalFrames: number;
  readonly model: RenderModel | null;
}

/**
 * The name of one of a chunk's files in the work folder (`chunk-00003.mp4`): its segment, metrics
 * log, or a farm worker's record of it.
 *
 * @param index - The chunk.
 * @param ending - What follows the chunk number: `.mp4`, `.metrics.jsonl`, `.done.json`.
 * @returns The file name.
 */
export function chunkFileName(index: number, ending: string): string {
  return `chunk-${String(index).padStart(5, '0')}${ending}`;
}

/** A chunk's segment file name in the work folder. */
export const segmentName = (index: number): string => chunkFileName(index, '.mp4');

/** A chunk's metrics log file name in the work folder. */
export const metricsLogName = (index: number): string => chunkFileName(index, '.metrics.jsonl');

/**
 * Write a plan's journal (atomically) with these finished segments.
 *
 * @param plan - The plan.
 * @param completed - Finished segments by chunk index.
 * @param model - The model state to record (the plan's by default).
 */
export async function writeRenderJournal(
  plan: JournaledRender,
  completed: ReadonlyMap<number, SegmentRecord>,
  model: RenderModel | null = plan.model,
): Promise<void> {
  const done = [...completed.keys()].sort((a, b) => a - b);
  let lastFrame = 0;
  for (const c of plan.chunks) {
    if (!completed.has(c.index)) break;
    lastFrame = c.end;
  }
  const journal: Journal = {
    version: 1,
    job_hash: plan.hash,
    input: resolve(plan.job.input),
    output: plan.output,
    total_frames: plan.totalFrames,
    last_frame: lastFrame,
    chunks_total: plan.chunks.length,
    chunks_completed: done,
    codec: plan.job.codec,
    crf: plan.job.crf,
    segments: Object.fromEntries([...completed].map(([i, r]) => [String(i), r])),
    ...(model !== null && {
      model: { name: model.name, current: model.version, chunks: { ...model.chunks } },
    }),
    updated: new Date().toISOString(),
  };
  await writeJournal(plan.workDir, journal);
}

/**
 * The task that renders one chunk of a plan into its segment in the work folder.
 *
 * @param plan - The plan.
 * @param chunk - One of its chunks.
 * @param threads - The chunk's share of the cores (see `ChunkTask.threads`).
 * @returns A structured-clone friendly task for `renderChunk` or `ChunkThreads`.
 */
export function chunkTaskOf(
  plan: Pick<JournaledRender, 'job' | 'workDir'>,
  chunk: Chunk,
  threads?: number,
): ChunkTask {
  return {
    job: plan.job,
    chunk,
    segment: join(plan.workDir, segmentName(chunk.index)),
    metricsLog: plan.job.metrics.enabled ? join(plan.workDir, metricsLogName(chunk.index)) : null,
    ...(threads !== undefined && { threads }),
  };
}

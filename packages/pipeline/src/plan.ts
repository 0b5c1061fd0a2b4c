// Plan a render: everything decided before the first frame (see ARCHITECTURE.md, "one render").
import { mkdir, rm, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  checkEncoder,
  encodedSize,
  existingOutput,
  noFramesError,
  outputContainer,
  outputEncoder,
  paddedSizeNote,
  probe,
  VideoReader,
} from '@framecraft/io';
import type { ModelRef, ModelRegistry } from '@framecraft/ml';
import { loadStylizer } from '@framecraft/stylizers';
import type { Logger } from 'pino';
import { planChunks } from './chunk-plan.ts';
import { JobChangedError, OutputExistsError } from './errors.ts';
import { type Job, jobHash, parseJob, prerollOf, workDirOf } from './job.ts';
import { intactSegments, type Journal, readJournal, type SegmentRecord } from './journal.ts';
import { modelRegistry } from './models.ts';
import { checkJobStyle } from './style-check.ts';
import { type JournaledRender, type RenderModel, writeRenderJournal } from './work-folder.ts';

/**
 * A render planned and journaled, ready for its chunks: what `render` does before rendering, and
 * what a render farm submits as jobs.
 */
export interface RenderPlan extends JournaledRender {
  /** The job as it will render: the fallback style applied if the model failed, `auto` codec decided. */
  readonly job: Job;
  /** Intact segments of an earlier attempt (journaled, hash checked), by chunk index. */
  readonly completed: ReadonlyMap<number, SegmentRecord>;
  /** Estimated bytes of encoded output per frame, for disk checks. */
  readonly bytesPerFrame: number;
}

/** Options of {@link planRender}. */
export interface PlanOptions {
  /** Discard an unfinished render of the same output (also one with other settings). */
  readonly restart?: boolean;
  /** Replace an existing output file. */
  readonly overwrite?: boolean;
  /** Warnings: encoder fallbacks, streams the container cannot carry. */
  readonly onWarning?: (message: string) => void;
  /**
   * Render only these chunk indices and stop before stitching (a render farm worker, or a test
   * rendering chunks in a chosen order). The journal records them as usual.
   */
  readonly chunks?: readonly number[];
  /** Structured log of the render (see `createLogger`); nothing is logged without one. */
  readonly logger?: Logger;
  /** Where the registered models a style names are found; the data folder's ({@link modelRegistry}) by default. */
  readonly models?: ModelRegistry;
}

/**
 * Plan a render: check the job and its input, resolve a registered model (falling back to
 * `fallbackStyle` when it cannot load), decide `auto` codec, find the work folder and any
 * finished segments of an earlier attempt, cut chunks at keyframes, and write the journal.
 *
 * @param input - A job (checked with `parseJob`).
 * @param options - Restart, overwrite, warnings, logger, models; with `chunks`, an existing output
 *   is no obstacle (only those chunks will render).
 * @returns The plan.
 * @throws {JobConfigError} For an invalid job.
 * @throws {JobChangedError} When the work folder holds a render of other settings (use `restart`).
 * @throws {OutputExistsError} When the output exists and `overwrite` is not set.
 * @example
 * const plan = await planRender({ input: 'in.mp4', output: 'out.mp4', style: 'pencil' });
 * plan.chunks.length; // 3
 */
export async function planRender(input: unknown, options: PlanOptions = {}): Promise<RenderPlan> {
  const models = options.models ?? modelRegistry();
  const parsed = await parseJobWithStyle(input);
  const output = resolve(parsed.output);
  outputContainer(parsed.output);
  if (options.chunks === undefined && existingOutput(output) && options.overwrite !== true)
    throw new OutputExistsError(output);
  // The input is checked first: a missing, empty, truncated or undecodable file gets io's error.
  const info = await probe(parsed.input);
  const video = info.streams.find((s) => s.type === 'video' && !s.attachedPicture);
  const size = video?.type === 'video' ? video : { width: 16, height: 16 };
  const styled = await checkJobStyle(parsed, size, models, options);
  const job = await decideEncoder(styled.job, options.logger);
  if (video?.type === 'video') notePadding(job, video, options);
  const { workDir, hash, journal } = await openWorkFolder(job, options);
  const frames = await readFrameTimes(job.input);
  const chunks = planChunks({ ...frames, chunkDuration: job.chunkDuration, preroll: prerollOf(job) });

  // The work folder only once the input is known to have pictures (a failed plan leaves nothing);
  // finished segments whose files are intact are reused.
  await mkdir(workDir, { recursive: true });
  const completed = await intactSegments(workDir, journal);
  const model = styled.model === null ? null : await modelInUse(styled.model, journal, completed, models);
  const totalFrames = frames.frameTimes.length;
  const plan: RenderPlan = {
    job,
    hash,
    workDir,
    output,
    chunks,
    totalFrames,
    completed,
    model,
    bytesPerFrame: bytesPerFrame((await stat(job.input)).size, totalFrames),
  };
  await writeRenderJournal(plan, completed, model);
  return plan;
}

/** Parse a job, first loading its style when it lives behind its own subpath (neural). */
async function parseJobWithStyle(input: unknown): Promise<Job> {
  const named = (input as { style?: unknown } | null)?.style;
  if (typeof named === 'string') await loadStylizer(named).catch(() => undefined);
  return parseJob(input);
}

/**
 * The job with its encoder decided. A container that takes only some encoders (WebM: VP9, AV1)
 * turns `auto` into its default and refuses the others before any work. Otherwise `auto` is
 * decided once here (not per chunk): NVENC when it really encodes on this machine. The decision is
 * part of the job hash, so a render never mixes two encoders' segments.
 */
async function decideEncoder(job: Job, log: Logger | undefined): Promise<Job> {
  const codec = outputEncoder(job.output, job.codec);
  if (codec !== 'auto') return { ...job, codec };
  const nvenc = await checkEncoder('h264_nvenc');
  // A decision, not a failure: the log and --verbose say it; a terminal without a GPU stays quiet.
  if (!nvenc.usable) log?.info({ encoder: 'libx264' }, `encoding with libx264: ${nvenc.reason}`);
  return { ...job, codec: nvenc.usable ? 'h264_nvenc' : 'libx264' };
}

/** Say when an odd size is padded to the even one 4:2:0 needs (the output is then that size). */
function notePadding(
  job: Job,
  video: { readonly width: number; readonly height: number },
  options: PlanOptions,
): void {
  const size = encodedSize(job.codec, 'yuv420p', video.width, video.height, job.input);
  if (!size.padded) return;
  const message = paddedSizeNote(job.input, video.width, video.height, size, job.codec);
  options.logger?.warn({ width: size.width, height: size.height }, message);
  options.onWarning?.(message);
}

/**
 * The job's work folder, its hash and the journal of an earlier attempt of the same job (none
 * after `restart`, which deletes the folder).
 *
 * @throws {JobChangedError} When the folder holds a render of other settings and `restart` is not set.
 */
async function openWorkFolder(
  job: Job,
  options: PlanOptions,
): Promise<{ workDir: string; hash: string; journal: Journal | null }> {
  const workDir = workDirOf(job);
  const hash = await jobHash(job);
  const journal = await readJournal(workDir);
  if (journal === null || (options.restart !== true && journal.job_hash === hash))
    return { workDir, hash, journal };
  if (options.restart !== true) throw new JobChangedError(workDir);
  await rm(workDir, { recursive: true, force: true });
  return { workDir, hash, journal: null };
}

/** Every frame's time and the keyframes' (one packet scan gives both), in seconds. */
async function readFrameTimes(input: string): Promise<{ frameTimes: number[]; keyframeTimes: number[] }> {
  await using reader = await VideoReader.open(input);
  const tb = reader.stream.timeBase;
  const seconds = (pts: number): number => (pts * tb.num) / tb.den;
  const frameTimes = (await reader.frameTimestamps()).map(seconds);
  const keyframeTimes = (await reader.keyframeTimestamps()).map(seconds);
  // Packets are no proof of pictures: the first one must decode before chunks are planned.
  const decodes = await reader.frameAt({ frame: 0 }).then(
    () => true,
    () => false,
  );
  if (frameTimes.length === 0 || !decodes) throw noFramesError(input);
  return { frameTimes, keyframeTimes };
}

/**
 * The model version a render uses: the journal's on a resume (the same version continues), else
 * the pinned or newest one; with the versions of the finished chunks kept from the journal.
 */
async function modelInUse(
  ref: ModelRef,
  journal: Journal | null,
  completed: ReadonlyMap<number, SegmentRecord>,
  models: ModelRegistry,
): Promise<RenderModel> {
  const version =
    ref.version ??
    (journal?.model?.name === ref.name ? journal.model.current : undefined) ??
    (await models.resolve(ref.name)).manifest.version;
  const kept = Object.entries(journal?.model?.chunks ?? {}).filter(([i]) => completed.has(Number(i)));
  return { name: ref.name, version, pinned: ref.version !== undefined, chunks: Object.fromEntries(kept) };
}

/** Bytes a chunk's segment may take: the source's bits per frame, with headroom for a grainier style. */
function bytesPerFrame(sizeBytes: number, frames: number): number {
  return Math.max(4096, (sizeBytes / Math.max(1, frames)) * 3);
}

import { availableParallelism } from 'node:os';
import { CanceledError, cloneFrame, createFrame, type Frame } from '@framecraft/core';
import { fileSha256, VideoReader, VideoWriter } from '@framecraft/io';
import { MetricsCollector } from '@framecraft/metrics';
import { getStylizer } from '@framecraft/stylizers';
import { Deflicker, EmaStabilizer, FlowStabilizer } from '@framecraft/temporal';
import type { Chunk } from './chunk-plan.ts';
import type { Job } from './job.ts';

/** One chunk to render: everything a worker thread needs (structured-clone friendly). */
export interface ChunkTask {
  readonly job: Job;
  readonly chunk: Chunk;
  /** Segment path (written under a temporary name, renamed when complete). */
  readonly segment: string;
  /** JSON-lines metrics log of this chunk, when metrics are on. */
  readonly metricsLog: string | null;
  /**
   * CPU threads for the style's own pools, the decoder and the encoder (the cores divided between
   * the chunks rendering at once). A chunk with the whole machine lets the decoder and encoder pick
   * their own counts, as the FFmpeg CLI does; a reproducible libx264 job encodes with a fixed count.
   */
  readonly threads?: number;
  /** Style options for this chunk (the model version it uses), instead of the job's. */
  styleOptions?: Readonly<Record<string, unknown>>;
}

/** What rendering a chunk produced. */
export interface ChunkResult {
  readonly index: number;
  readonly frames: number;
  /** SHA-256 of the segment file. */
  readonly sha256: string;
  /** The encoder used (after any NVENC → libx264 fallback). */
  readonly encoder: string;
  readonly warnings: readonly string[];
}

/**
 * libx264's thread count in a reproducible job. x264's output depends on its thread count, and its
 * default (1.5 × the machine's cores) differs between machines: a chunk rendered on a 16-core
 * farm worker would not match one from a 2-core laptop. A fixed count gives the same bytes
 * anywhere (checked: 4 threads on one core and on two, identical files; 1, 2, 3 threads, three
 * different ones).
 */
export const REPRODUCIBLE_X264_THREADS = 4;

/** Encoders whose output depends on their thread count, given a fixed one in reproducible jobs. */
const REPRODUCIBLE_THREADS_FOR: ReadonlySet<string> = new Set(['libx264', 'libvpx-vp9']);

/**
 * Encoder threads for a chunk with `share` of the cores. With the whole machine, the encoder's own
 * choice, as the FFmpeg CLI leaves it (x264: 3/2 per core, rounded down, since its frame threads
 * wait on each other); with a share, the same rule on the share (one core: one thread). Passing
 * the bare core count cost ~5 % on the identity render (x264 on 2 frame threads instead of 3).
 */
export function encoderThreads(
  job: Pick<Job, 'reproducible' | 'codec'>,
  share: number | undefined,
  cores: number = availableParallelism(),
): { threads?: number } {
  if (job.reproducible && REPRODUCIBLE_THREADS_FOR.has(job.codec))
    return { threads: REPRODUCIBLE_X264_THREADS };
  if (share === undefined || share >= cores) return {};
  return { threads: Math.max(1, Math.floor((share * 3) / 2)) };
}

/**
 * Decoder threads for a chunk with `share` of the cores: FFmpeg's own choice (frame threads, one per
 * core plus one) with the whole machine, else the share.
 */
export function decoderThreads(
  share: number | undefined,
  cores: number = availableParallelism(),
): { threads?: number } {
  return share === undefined || share >= cores ? {} : { threads: share };
}

/**
 * Render one chunk: decode from the pre-roll start in the style's input format, stylize,
 * stabilize, measure, and encode the chunk's own frames (with their source timestamps) to a
 * segment. The result depends only on the input and the job, so chunks can run in any order,
 * in parallel, anywhere.
 *
 * @param task - Job, chunk and paths.
 * @param onFrames - Called with the number of frames written so far (every few frames).
 * @param signal - Aborts between frames; the segment is then not left behind.
 * @returns Frame count, segment hash, encoder used.
 */
export async function renderChunk(
  task: ChunkTask,
  onFrames?: (written: number) => void,
  signal?: AbortSignal,
): Promise<ChunkResult> {
  const { job, chunk } = task;
  const style = getStylizer(job.style);
  const warnings: string[] = [];
  // Chunks side by side give their decoders their share of the cores, so they do not each start a
  // thread per core; a chunk alone lets FFmpeg choose (decoding is exact whatever the count).
  await using reader = await VideoReader.open(job.input, decoderThreads(task.threads));
  const s = reader.stream;
  const instance = await style.create(task.styleOptions ?? job.styleOptions, {
    width: s.width,
    height: s.height,
    seed: job.seed,
    ...(task.threads !== undefined && { threads: task.threads }),
  });
  const t = job.temporal;
  const ema =
    t.mode === 'ema'
      ? EmaStabilizer.create({
          strength: t.strength,
          motionThreshold: t.motionThreshold,
          sceneCut: { threshold: t.sceneCutThreshold },
        })
      : null;
  const flow =
    t.mode === 'flow'
      ? FlowStabilizer.create({ ...t.flow, sceneCut: { threshold: t.sceneCutThreshold } })
      : null;
  const deflicker = t.mode !== 'off' && t.deflicker ? Deflicker.create() : null;
  const metrics = job.metrics.enabled
    ? await MetricsCollector.create({
        style: job.style,
        ...(task.metricsLog !== null ? { path: task.metricsLog } : {}),
        sampleEvery: job.metrics.sampleEvery,
        ssim: { window: job.metrics.ssimWindow },
      })
    : null;
  const direct = instance.passthrough === true && ema === null && flow === null && deflicker === null;
  // A style whose calls may overlap (the neural style, its model on a thread of its own) gets the
  // next frame while the last is still being stylized: decoding, the temporal stage and encoding
  // then run while the model does. Each frame in flight has its own copy of the decoded frame (the
  // decoder reuses its memory) and its own output; one more of each than in flight, since the
  // temporal stage and metrics read the previous frame.
  const depth = instance.concurrent === true && !direct ? 2 : 1;
  const slots = depth === 1 ? 1 : depth + 1;
  const styledFrames = Array.from({ length: slots }, () =>
    createFrame({ width: s.width, height: s.height, format: instance.outputFormat }),
  );
  const inputFrames: Frame[] = [];
  // A style that paints a reduced frame (the neural style at a scale below 1) can have the flow
  // stage on the reduced frames, between painting and upsampling, when the job asks
  // (`temporal.flow.atStyleScale`): the flow costs a fraction, the upsample puts the input's edges
  // back, and the moving texture comes out softer.
  const reduced = flow !== null && t.flow.atStyleScale ? instance.reduced : undefined;
  const reducedFrames =
    reduced === undefined
      ? []
      : Array.from({ length: slots }, () => ({
          small: createFrame({ width: reduced.width, height: reduced.height, format: style.inputFormat }),
          styled: createFrame({
            width: reduced.width,
            height: reduced.height,
            format: instance.outputFormat,
          }),
        }));
  let writer = null as VideoWriter | null;
  let written = 0;
  // Pre-roll only warms state: a chain without any (stateless style, no temporal filter) starts
  // right at the chunk, usually a keyframe, and decodes nothing it does not write.
  const warm = ema !== null || flow !== null || deflicker !== null || instance.stateful !== false;
  let index = warm ? chunk.prerollStart : chunk.start;
  /** A frame handed to the style, not yet through the temporal stage and the encoder. */
  interface InFlight {
    readonly index: number;
    readonly frame: Frame;
    readonly styled: Promise<Frame>;
    readonly t0: number;
    readonly slot: number;
  }
  const inFlight: InFlight[] = [];
  const finish = async ({ index: at, frame, styled, t0, slot }: InFlight): Promise<void> => {
    let out = await styled;
    const small = reduced === undefined ? null : reducedFrames[slot]!.small;
    if (deflicker !== null) out = deflicker.process(out);
    if (ema !== null) out = ema.process(out);
    // The flow follows the source frame's motion (the decoded frame, in the style's input format;
    // reduced with the style's output when the style paints reduced frames).
    if (flow !== null) out = flow.process(small ?? frame, out, at);
    if (reduced !== undefined && small !== null)
      out = reduced.upsample(out, small, frame, styledFrames[slot]!);
    const seconds = (performance.now() - t0) / 1000;
    // The last pre-roll frame is the first frame's predecessor for the temporal metrics.
    if (metrics !== null && at === chunk.start - 1) metrics.observe(at, frame, out);
    if (at >= chunk.start) {
      // The writer takes its colour tags from the first stylized frame (a sketch is full range).
      writer ??= await VideoWriter.create(task.segment, {
        width: s.width,
        height: s.height,
        timeBase: s.timeBase,
        frameRate: s.avgFrameRate,
        codec: job.codec,
        crf: job.crf,
        preset: job.encoderPreset,
        color: out.color,
        sampleAspect: s.sampleAspect,
        rotation: s.rotation,
        container: 'mp4',
        ...encoderThreads(job, task.threads),
        // x264's mb-tree made repeated encodes of identical frames differ now and then (1–2 of
        // 5–8 encodes in some batches here); off, a chunk encodes to the same bytes anywhere.
        ...(job.reproducible && job.codec === 'libx264' && { encoderOptions: { 'x264-params': 'mbtree=0' } }),
        onWarning: (m) => warnings.push(m),
      });
      await writer.write(out);
      if (metrics !== null) await metrics.record(at, frame, out, seconds);
      written++;
      if (onFrames !== undefined && written % 8 === 0) onFrames(written);
    }
  };
  try {
    let k = 0;
    // Positions by time (from the plan) let the reader seek without scanning the file's packets.
    for await (const decoded of reader.frames({
      format: style.inputFormat,
      start: { time: warm ? chunk.prerollTime : chunk.startTime },
      ...(chunk.endTime !== null && { end: { time: chunk.endTime } }),
    })) {
      if (signal?.aborted) throw new CanceledError(`rendering chunk ${chunk.index} of ${job.input}`);
      const slot = k++ % slots;
      const frame = depth === 1 ? decoded : cloneFrame(decoded, inputFrames[slot]);
      inputFrames[slot] = frame;
      const t0 = performance.now();
      // A pass-through style with nothing after it that writes in place: the decoded frame goes to
      // the encoder as it is (no copy; the writer encodes the decoder's own frame).
      const r = reduced === undefined ? null : reducedFrames[slot]!;
      const styled = direct
        ? Promise.resolve(frame)
        : r !== null
          ? Promise.resolve(reduced!.paint(frame, r.small, r.styled)).then(() => r.styled)
          : Promise.resolve(instance.processInto(frame, styledFrames[slot]!));
      // Settled later, in order; a failure meanwhile is not an unhandled rejection.
      styled.catch(() => {});
      inFlight.push({ index, frame, styled, t0, slot });
      if (inFlight.length >= depth) await finish(inFlight.shift()!);
      index++;
    }
    while (inFlight.length > 0) await finish(inFlight.shift()!);
    if (writer === null) throw new Error(`chunk ${chunk.index} of ${job.input} has no frames`);
    const result = await writer.close();
    writer = null;
    await metrics?.close();
    onFrames?.(written);
    return {
      index: chunk.index,
      frames: result.frames,
      sha256: await fileSha256(task.segment),
      encoder: result.encoder,
      warnings,
    };
  } finally {
    await writer?.abort();
    instance.dispose();
  }
}

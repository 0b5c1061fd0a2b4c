import type { FormatContext, Packet, Stream } from 'node-av';
import { AudioReencoder } from './audio-reencode.ts';
import { loadNodeAv, type NodeAv } from './binding.ts';
import { type Chapter, readChapterList } from './chapters.ts';
import { MediaFileError } from './errors.ts';
import { Breather } from './event-loop.ts';
import { check, isEof, toError } from './ffmpeg-error.ts';
import { openInput } from './input.ts';
import { writeMatroskaChapters } from './matroska-chapters-write.ts';
import { MAX_MP4_CHAPTERS, writeMp4Chapters } from './mp4-chapters-write.ts';
import { muxerForPath, PartialFile } from './output-file.ts';

/** Options of {@link remux}. */
export interface RemuxOptions {
  /** Final output path; written under a temporary name and renamed when complete. */
  readonly output: string;
  /**
   * Encoded video segments, in order, all from the same encoder settings. Their timestamps are
   * on the source's timeline, so stitching needs no offsets and A/V sync holds.
   */
  readonly segments: readonly string[];
  /** The original input: its audio, subtitle and attachment streams and its metadata are copied. */
  readonly source?: string;
  /** More files whose audio and subtitle streams are added (an external .srt, a dub track). */
  readonly extraSources?: readonly string[];
  /** Muxer name; guessed from the output extension by default. */
  readonly container?: string;
  readonly signal?: AbortSignal;
  /** Receives a message for every source stream that cannot be carried into the container. */
  readonly onWarning?: (message: string) => void;
  /** Carry the source's chapters (MP4, MOV, Matroska and WebM outputs). True by default. */
  readonly chapters?: boolean;
}

/** The result of {@link remux}. */
export interface RemuxResult {
  readonly path: string;
  readonly videoPackets: number;
  /** Streams that were copied, by file and stream index. */
  readonly copiedStreams: readonly StreamRef[];
  /** Streams left out, with the reason. */
  readonly skippedStreams: readonly (StreamRef & { readonly reason: string })[];
  /** Streams the container cannot take as they are, decoded and encoded again (audio into WebM: Opus). */
  readonly reencodedStreams: readonly (StreamRef & { readonly codec: 'opus' })[];
  /** Chapters carried from the source. */
  readonly chapters: number;
}

/** A stream of an input file. */
export interface StreamRef {
  readonly file: string;
  readonly index: number;
}

interface Route {
  readonly out: Stream;
  lastDts: bigint;
}

/** A packet on its way into the output: its time base, and the output stream it goes to. */
interface LaneItem {
  readonly pkt: Packet;
  readonly timeBase: { readonly num: number; readonly den: number };
  readonly route: Route;
}

/** Whether a source stream is re-encoded rather than dropped: AAC (or other) audio into WebM, as Opus. */
function reencodesTo(av: NodeAv, container: string, stream: Stream): 'opus' | null {
  const par = stream.codecpar;
  if (container !== 'webm' || par.codecType !== av.AVMEDIA_TYPE_AUDIO) return null;
  const codec = av.avGetCodecName(par.codecId);
  if (codec === 'opus' || codec === 'vorbis' || stream.hasDisposition(av.AV_DISPOSITION_ATTACHED_PIC))
    return null;
  return av.Codec.findDecoder(par.codecId) === null ? null : 'opus';
}

function carryVerdict(av: NodeAv, container: string, stream: Stream): string | null {
  const par = stream.codecpar;
  const type = par.codecType;
  const codec = av.avGetCodecName(par.codecId) ?? 'unknown';
  const isMp4 = container === 'mp4' || container === 'mov' || container === 'ipod';
  if (stream.hasDisposition(av.AV_DISPOSITION_ATTACHED_PIC)) return 'cover art is not carried';
  if (type === av.AVMEDIA_TYPE_AUDIO) {
    if (container === 'webm' && codec !== 'opus' && codec !== 'vorbis')
      return `${codec} audio is not allowed in WebM`;
    return null;
  }
  if (type === av.AVMEDIA_TYPE_SUBTITLE) {
    if (isMp4 && codec !== 'mov_text')
      return `${codec} subtitles cannot go into MP4/MOV (only mov_text); use .mkv`;
    if (container === 'matroska' && codec === 'mov_text')
      return 'mov_text subtitles cannot go into Matroska; use .mp4';
    if (container === 'webm' && codec !== 'webvtt') return `${codec} subtitles are not allowed in WebM`;
    return null;
  }
  if (type === av.AVMEDIA_TYPE_ATTACHMENT) {
    return container === 'matroska' ? null : 'attachments (fonts) are only carried into Matroska';
  }
  if (type === av.AVMEDIA_TYPE_VIDEO) return 'a second video stream is not carried';
  return `${codec} data streams are not carried`;
}

function copyStream(av: NodeAv, fmt: FormatContext, src: Stream, file: string): Stream {
  const out = fmt.newStream(null);
  check(src.codecpar.copy(out.codecpar), file, 'copy stream parameters');
  // The source container's codec tag may be invalid in the target container.
  out.codecpar.codecTag = 0;
  out.timeBase = src.timeBase;
  out.disposition = src.disposition;
  if (src.metadata) out.metadata = av.Dictionary.fromObject(src.metadata.getAll());
  if (src.sampleAspectRatio.num > 0) out.sampleAspectRatio = src.sampleAspectRatio;
  return out;
}

/** Iterate the packets of an input, optionally only some streams. */
async function* packetsOf(
  ctx: FormatContext,
  file: string,
  pkt: Packet,
  wanted: (index: number) => boolean,
): AsyncGenerator<Packet> {
  const breather = new Breather();
  while (true) {
    await breather.breathe();
    const ret = ctx.readFrameSync(pkt);
    if (isEof(ret)) return;
    if (ret < 0) throw toError(ret, file, 'read packets');
    if (wanted(pkt.streamIndex)) yield pkt;
    pkt.unref();
  }
}

function seconds(pkt: Packet, timeBase: LaneItem['timeBase'], av: NodeAv): number {
  const ts = pkt.dts !== av.AV_NOPTS_VALUE ? pkt.dts : pkt.pts;
  if (ts === av.AV_NOPTS_VALUE) return -Infinity;
  return (Number(ts) * timeBase.num) / timeBase.den;
}

interface Lane {
  readonly it: AsyncIterator<LaneItem>;
  current: IteratorResult<LaneItem>;
}

/** The source's chapters, or none (with a warning) when they cannot be read. */
async function sourceChapters(
  source: string,
  warn: (message: string) => void,
): Promise<{ chapters: Chapter[]; trackIds: number[] }> {
  try {
    return await readChapterList(source);
  } catch (err) {
    warn(`framecraft: ${source}: chapters left out: ${(err as Error).message}`);
    return { chapters: [], trackIds: [] };
  }
}

/** Chapters into the finished file at `file`'s temporary path (MP4/MOV or Matroska/WebM); returns how many were written. */
async function carryChapters(
  source: string,
  list: readonly Chapter[],
  file: PartialFile,
  container: string,
  warn: (message: string) => void,
): Promise<number> {
  const path = file.tempPath;
  if (list.length === 0) return 0;
  if (container === 'matroska' || container === 'webm') {
    if (await writeMatroskaChapters(path, list)) return list.length;
    warn(`framecraft: ${source}: chapters left out: the output's layout leaves no room for them`);
    return 0;
  }
  if (!MP4_FAMILY.has(container)) {
    warn(
      `framecraft: ${source}: its ${list.length} chapters are not carried into ${container} (chapters are written into MP4, MOV, Matroska and WebM outputs)`,
    );
    return 0;
  }
  if (list.length > MAX_MP4_CHAPTERS)
    warn(
      `framecraft: ${source}: ${list.length} chapters, MP4 holds ${MAX_MP4_CHAPTERS}: the rest are left out`,
    );
  // The rewrite goes to another partial name of the same output, which stale-file cleanups know.
  if (!(await writeMp4Chapters(path, list, new PartialFile(file.finalPath).tempPath))) {
    warn(`framecraft: ${source}: chapters left out: the output's chunk offsets cannot take them`);
    return 0;
  }
  return Math.min(list.length, MAX_MP4_CHAPTERS);
}

/** Containers chapters are written into. */
const MP4_FAMILY = new Set(['mp4', 'mov', 'ipod']);

/**
 * Stitch encoded video segments into one file and carry over the source's audio, subtitles,
 * attachments and metadata by stream copy, interleaved by time.
 *
 * The source's chapters (QuickTime chapter track or Nero `chpl` in MP4/MOV, `Chapters` in
 * Matroska/WebM) are carried into MP4 and MOV outputs as a Nero `chpl` box and into Matroska/WebM
 * as a `Chapters` element; other output containers get a warning (node-av 6.1 exposes no chapter
 * list, so they are read and written by hand: see `chapters.ts`).
 *
 * @param options - Segments, sources and output.
 * @returns What was written and what was left out.
 * @throws {UnsupportedInputError} When a segment or a source cannot be read.
 * @throws {MediaFileError} When the output cannot be written; nothing is left at the output path.
 * @example
 * ```ts
 * await remux({ output: 'final.mp4', segments: ['work/0000.mp4', 'work/0001.mp4'], source: 'input.mp4' })
 * ```
 */
export async function remux(options: RemuxOptions): Promise<RemuxResult> {
  const av = await loadNodeAv();
  const warn = options.onWarning ?? ((m: string) => console.warn(m));
  if (options.segments.length === 0) {
    throw new MediaFileError(
      'ERR_NO_SEGMENTS',
      options.output,
      'nothing to write: no video segments were given.',
    );
  }
  const container = options.container ?? muxerForPath(options.output);
  const file = new PartialFile(options.output);
  const sourceFiles = [
    ...(options.source === undefined ? [] : [options.source]),
    ...(options.extraSources ?? []),
  ];
  const inputs: { path: string; ctx: FormatContext }[] = [];
  const packets: Packet[] = [];
  const fmt = new av.FormatContext();
  const copied: StreamRef[] = [];
  const skipped: (StreamRef & { reason: string })[] = [];
  const reencoded: (StreamRef & { codec: 'opus' })[] = [];
  /** Re-encoders by source (k) and stream index. */
  const reencoders: Map<number, { readonly re: AudioReencoder; readonly route: Route }>[] = [];
  const newPacket = (): Packet => {
    const p = new av.Packet();
    p.alloc();
    packets.push(p);
    return p;
  };
  let opened = false;
  let videoPackets = 0;
  try {
    const first = await openInput(options.segments[0]!);
    inputs.push({ path: options.segments[0]!, ctx: first });
    for (const path of sourceFiles) inputs.push({ path, ctx: await openInput(path) });
    // Chapters before the streams: a QuickTime chapter track among them is carried as chapters.
    const chapterList =
      options.source !== undefined && options.chapters !== false
        ? await sourceChapters(options.source, warn)
        : { chapters: [], trackIds: [] };
    if (fmt.allocOutputContext2(null, container, file.tempPath) < 0 || fmt.oformat === null) {
      throw new MediaFileError('ERR_OUTPUT_FORMAT', options.output, `no muxer for container "${container}".`);
    }
    const segVideo = first.findBestStream(av.AVMEDIA_TYPE_VIDEO);
    if (segVideo < 0)
      throw new MediaFileError('ERR_NO_VIDEO_STREAM', options.segments[0]!, 'segment has no video.');
    const videoRoute: Route = {
      out: copyStream(av, fmt, first.streams[segVideo]!, options.output),
      lastDts: -(2n ** 63n),
    };

    // Streams to carry, per source file; the main source also lends its video metadata and tags.
    const sourceRoutes: Map<number, Route>[] = [];
    const globalHeader = fmt.oformat.hasFlags(av.AVFMT_GLOBALHEADER);
    for (let k = 1; k < inputs.length; k++) {
      const { path, ctx } = inputs[k]!;
      const routes = new Map<number, Route>();
      const again = new Map<number, { re: AudioReencoder; route: Route }>();
      reencoders.push(again);
      const bestVideo = ctx.findBestStream(av.AVMEDIA_TYPE_VIDEO);
      if (k === 1 && options.source !== undefined) {
        const sv = bestVideo >= 0 ? ctx.streams[bestVideo] : undefined;
        if (sv?.metadata) videoRoute.out.metadata = av.Dictionary.fromObject(sv.metadata.getAll());
        if (sv) videoRoute.out.disposition = sv.disposition;
        const meta = ctx.metadata?.getAll();
        if (meta && Object.keys(meta).length > 0) fmt.metadata = av.Dictionary.fromObject(meta);
      }
      for (const s of ctx.streams) {
        if (s.index === bestVideo) continue;
        if (k === 1 && chapterList.trackIds.includes(s.id) && chapterList.chapters.length > 0) {
          // The chapter track's text goes in as the output's chapter list, not as a stream.
          skipped.push({
            file: path,
            index: s.index,
            reason: 'QuickTime chapter track (carried as chapters)',
          });
          continue;
        }
        if (reencodesTo(av, container, s) !== null) {
          const re = await AudioReencoder.open(av, fmt, s, path, globalHeader);
          again.set(s.index, { re, route: { out: re.out, lastDts: -(2n ** 63n) } });
          reencoded.push({ file: path, index: s.index, codec: 'opus' });
          warn(
            `framecraft: ${path}: stream #${s.index} (${av.avGetCodecName(s.codecpar.codecId)} audio) is encoded again as Opus: WebM takes Opus or Vorbis audio.`,
          );
          continue;
        }
        const reason = carryVerdict(av, container, s);
        if (reason !== null) {
          skipped.push({ file: path, index: s.index, reason });
          warn(`framecraft: ${path}: stream #${s.index} left out: ${reason}.`);
          continue;
        }
        routes.set(s.index, { out: copyStream(av, fmt, s, options.output), lastDts: -(2n ** 63n) });
        copied.push({ file: path, index: s.index });
      }
      sourceRoutes.push(routes);
    }
    if (!fmt.oformat.hasFlags(av.AVFMT_NOFILE))
      check(await fmt.openOutput(), options.output, 'create output file');
    opened = true;
    const headerOpts =
      container === 'mp4' || container === 'mov'
        ? av.Dictionary.fromObject({ movflags: '+faststart' })
        : null;
    check(await fmt.writeHeader(headerOpts), options.output, 'write container header');

    const write = async ({ pkt: p, timeBase, route }: LaneItem): Promise<void> => {
      p.streamIndex = route.out.index;
      p.rescaleTs(timeBase, route.out.timeBase);
      // Segments each start their own DTS run; keep DTS strictly increasing across the joins.
      if (p.dts !== av.AV_NOPTS_VALUE) {
        if (p.dts <= route.lastDts) p.dts = route.lastDts + 1n;
        if (p.pts !== av.AV_NOPTS_VALUE && p.pts < p.dts) p.pts = p.dts;
        route.lastDts = p.dts;
      }
      check(fmt.interleavedWriteFrameSync(p), options.output, 'write packet');
    };

    async function* videoLane(pkt: Packet): AsyncGenerator<LaneItem> {
      for (let i = 0; i < options.segments.length; i++) {
        const path = options.segments[i]!;
        const ctx = i === 0 ? first : await openInput(path);
        try {
          const vi = ctx.findBestStream(av.AVMEDIA_TYPE_VIDEO);
          if (vi < 0) throw new MediaFileError('ERR_NO_VIDEO_STREAM', path, 'segment has no video.');
          const from = ctx.streams[vi]!;
          for await (const p of packetsOf(ctx, path, pkt, (idx) => idx === vi))
            yield { pkt: p, timeBase: from.timeBase, route: videoRoute };
        } finally {
          if (i > 0) await ctx.closeInput();
        }
      }
    }
    async function* sourceLane(k: number, pkt: Packet): AsyncGenerator<LaneItem> {
      const { path, ctx } = inputs[k + 1]!;
      const routes = sourceRoutes[k]!;
      const again = reencoders[k]!;
      for await (const p of packetsOf(ctx, path, pkt, (idx) => routes.has(idx) || again.has(idx))) {
        const re = again.get(p.streamIndex);
        if (re === undefined)
          yield { pkt: p, timeBase: ctx.streams[p.streamIndex]!.timeBase, route: routes.get(p.streamIndex)! };
        else
          for await (const out of re.re.push(p))
            yield { pkt: out, timeBase: re.re.timeBase, route: re.route };
      }
      for (const { re, route } of again.values())
        for await (const out of re.push(null)) yield { pkt: out, timeBase: re.timeBase, route };
    }
    const its = [videoLane(newPacket())];
    sourceRoutes.forEach((routes, k) => {
      if (routes.size > 0 || reencoders[k]!.size > 0) its.push(sourceLane(k, newPacket()));
    });
    const lanes: Lane[] = [];
    for (const it of its) lanes.push({ it, current: await it.next() });
    // Merge the lanes by time so the muxer's interleaving queue stays small.
    while (true) {
      options.signal?.throwIfAborted();
      let pick: Lane | undefined;
      let best = Infinity;
      for (const lane of lanes) {
        if (lane.current.done) continue;
        const t = seconds(lane.current.value.pkt, lane.current.value.timeBase, av);
        if (pick === undefined || t < best) {
          pick = lane;
          best = t;
        }
      }
      if (pick === undefined || pick.current.done) break;
      await write(pick.current.value);
      if (pick.current.value.route === videoRoute) videoPackets++;
      pick.current = await pick.it.next();
    }
    check(await fmt.writeTrailer(), options.output, 'finish container');
    await fmt.closeOutput();
    opened = false;
    const chapters =
      options.source !== undefined
        ? await carryChapters(options.source, chapterList.chapters, file, container, warn)
        : 0;
    await file.commit();
    return {
      path: options.output,
      videoPackets,
      copiedStreams: copied,
      skippedStreams: skipped,
      reencodedStreams: reencoded,
      chapters,
    };
  } catch (err) {
    if (opened) await fmt.closeOutput().catch(() => {});
    await file.discard();
    throw err;
  } finally {
    for (const p of packets) p.free();
    for (const again of reencoders) for (const { re } of again.values()) re.free();
    fmt.freeContext();
    for (const { ctx } of inputs) await ctx.closeInput().catch(() => {});
  }
}

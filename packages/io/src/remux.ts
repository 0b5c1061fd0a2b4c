import type { FormatContext, Packet, Stream } from 'node-av';
import { loadNodeAv, type NodeAv } from './binding.ts';
import { MediaFileError } from './errors.ts';
import { check, isEof, toError } from './ffmpeg-error.ts';
import { openInput } from './input.ts';
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
  /** Muxer name; guessed from the output extension by default. */
  readonly container?: string;
  readonly signal?: AbortSignal;
  /** Receives a message for every source stream that cannot be carried into the container. */
  readonly onWarning?: (message: string) => void;
}

/** The result of {@link remux}. */
export interface RemuxResult {
  readonly path: string;
  readonly videoPackets: number;
  /** Source stream indices that were copied. */
  readonly copiedStreams: readonly number[];
  /** Source streams left out, with the reason. */
  readonly skippedStreams: readonly { readonly index: number; readonly reason: string }[];
}

interface Route {
  readonly out: Stream;
  lastDts: bigint;
}

function carryVerdict(av: NodeAv, container: string, stream: Stream): string | null {
  const par = stream.codecpar;
  const type = par.codecType;
  const codec = av.avGetCodecName(par.codecId) ?? 'unknown';
  const isMp4 = container === 'mp4' || container === 'mov' || container === 'ipod';
  if (stream.hasDisposition(av.AV_DISPOSITION_ATTACHED_PIC)) return 'cover art is not carried';
  if (type === av.AVMEDIA_TYPE_AUDIO) {
    if (container === 'webm' && codec !== 'opus' && codec !== 'vorbis') return `${codec} audio is not allowed in WebM`;
    return null;
  }
  if (type === av.AVMEDIA_TYPE_SUBTITLE) {
    if (isMp4 && codec !== 'mov_text') return `${codec} subtitles cannot go into MP4/MOV (only mov_text); use .mkv`;
    if (container === 'matroska' && codec === 'mov_text') return 'mov_text subtitles cannot go into Matroska; use .mp4';
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
  while (true) {
    const ret = await ctx.readFrame(pkt);
    if (isEof(ret)) return;
    if (ret < 0) throw toError(ret, file, 'read packets');
    if (wanted(pkt.streamIndex)) yield pkt;
    pkt.unref();
  }
}

function seconds(pkt: Packet, stream: Stream, av: NodeAv): number {
  const ts = pkt.dts !== av.AV_NOPTS_VALUE ? pkt.dts : pkt.pts;
  if (ts === av.AV_NOPTS_VALUE) return -Infinity;
  return (Number(ts) * stream.timeBase.num) / stream.timeBase.den;
}

/**
 * Stitch encoded video segments into one file and carry over the source's audio, subtitles,
 * attachments and metadata by stream copy, interleaved by time.
 *
 * Chapters are not carried: node-av exposes no access to FFmpeg's chapter list.
 *
 * @param options - Segments, source and output.
 * @returns What was written and what was left out.
 * @throws {UnsupportedInputError} When a segment or the source cannot be read.
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
    throw new MediaFileError('ERR_NO_SEGMENTS', options.output, 'nothing to write: no video segments were given.');
  }
  const container = options.container ?? muxerForPath(options.output);
  const file = new PartialFile(options.output);
  const first = await openInput(options.segments[0]!);
  const source = options.source === undefined ? undefined : await openInput(options.source);
  const fmt = new av.FormatContext();
  const pkt = new av.Packet();
  pkt.alloc();
  const srcPkt = new av.Packet();
  srcPkt.alloc();
  const copied: number[] = [];
  const skipped: { index: number; reason: string }[] = [];
  let opened = false;
  let videoPackets = 0;
  try {
    if (fmt.allocOutputContext2(null, container, file.tempPath) < 0 || fmt.oformat === null) {
      throw new MediaFileError('ERR_OUTPUT_FORMAT', options.output, `no muxer for container "${container}".`);
    }
    const segVideoIndex = first.findBestStream(av.AVMEDIA_TYPE_VIDEO);
    if (segVideoIndex < 0) throw new MediaFileError('ERR_NO_VIDEO_STREAM', options.segments[0]!, 'segment has no video.');
    const segStream = first.streams[segVideoIndex]!;
    const videoOut = copyStream(av, fmt, segStream, options.output);
    if (source !== undefined) {
      const sourceVideo = source.findBestStream(av.AVMEDIA_TYPE_VIDEO);
      if (sourceVideo >= 0) {
        const sv = source.streams[sourceVideo]!;
        if (sv.metadata) videoOut.metadata = av.Dictionary.fromObject(sv.metadata.getAll());
        videoOut.disposition = sv.disposition;
      }
    }
    const routes = new Map<number, Route>();
    const videoRoute: Route = { out: videoOut, lastDts: -(2n ** 63n) };
    if (source !== undefined) {
      const bestVideo = source.findBestStream(av.AVMEDIA_TYPE_VIDEO);
      for (const s of source.streams) {
        if (s.index === bestVideo) continue;
        const reason = carryVerdict(av, container, s);
        if (reason !== null) {
          skipped.push({ index: s.index, reason });
          warn(`framecraft: ${options.source}: stream #${s.index} left out: ${reason}.`);
          continue;
        }
        routes.set(s.index, { out: copyStream(av, fmt, s, options.output), lastDts: -(2n ** 63n) });
        copied.push(s.index);
      }
      const meta = source.metadata?.getAll();
      if (meta && Object.keys(meta).length > 0) fmt.metadata = av.Dictionary.fromObject(meta);
    }
    if (!fmt.oformat.hasFlags(av.AVFMT_NOFILE)) check(await fmt.openOutput(), options.output, 'create output file');
    opened = true;
    const headerOpts =
      container === 'mp4' || container === 'mov' ? av.Dictionary.fromObject({ movflags: '+faststart' }) : null;
    check(await fmt.writeHeader(headerOpts), options.output, 'write container header');

    const write = async (p: Packet, from: Stream, route: Route): Promise<void> => {
      p.streamIndex = route.out.index;
      p.rescaleTs(from.timeBase, route.out.timeBase);
      // Segments each start their own DTS run; keep DTS strictly increasing across the joins.
      if (p.dts !== av.AV_NOPTS_VALUE) {
        if (p.dts <= route.lastDts) p.dts = route.lastDts + 1n;
        if (p.pts !== av.AV_NOPTS_VALUE && p.pts < p.dts) p.pts = p.dts;
        route.lastDts = p.dts;
      }
      check(await fmt.interleavedWriteFrame(p), options.output, 'write packet');
    };

    // Video packets across all segments, in order.
    async function* videoPacketsAll(): AsyncGenerator<{ pkt: Packet; from: Stream }> {
      for (let i = 0; i < options.segments.length; i++) {
        const ctx = i === 0 ? first : await openInput(options.segments[i]!);
        const vi = ctx.findBestStream(av.AVMEDIA_TYPE_VIDEO);
        if (vi < 0) throw new MediaFileError('ERR_NO_VIDEO_STREAM', options.segments[i]!, 'segment has no video.');
        const from = ctx.streams[vi]!;
        for await (const p of packetsOf(ctx, options.segments[i]!, pkt, (idx) => idx === vi)) yield { pkt: p, from };
        if (i > 0) await ctx.closeInput();
      }
    }
    const videoIt = videoPacketsAll();
    const otherIt =
      source !== undefined && routes.size > 0
        ? packetsOf(source, options.source!, srcPkt, (idx) => routes.has(idx))
        : undefined;
    let v = await videoIt.next();
    let o = otherIt ? await otherIt.next() : undefined;
    while (!v.done || (o !== undefined && !o.done)) {
      options.signal?.throwIfAborted();
      const takeVideo =
        o === undefined ||
        o.done === true ||
        (!v.done && seconds(v.value.pkt, v.value.from, av) <= seconds(o.value, source!.streams[o.value.streamIndex]!, av));
      if (takeVideo && !v.done) {
        await write(v.value.pkt, v.value.from, videoRoute);
        videoPackets++;
        v = await videoIt.next();
      } else if (o !== undefined && !o.done && otherIt !== undefined) {
        const from = source!.streams[o.value.streamIndex]!;
        await write(o.value, from, routes.get(o.value.streamIndex)!);
        o = await otherIt.next();
      }
    }
    check(await fmt.writeTrailer(), options.output, 'finish container');
    await fmt.closeOutput();
    opened = false;
    await file.commit();
    return { path: options.output, videoPackets, copiedStreams: copied, skippedStreams: skipped };
  } catch (err) {
    if (opened) await fmt.closeOutput().catch(() => {});
    await file.discard();
    throw err;
  } finally {
    pkt.free();
    srcPkt.free();
    fmt.freeContext();
    await first.closeInput().catch(() => {});
    await source?.closeInput().catch(() => {});
  }
}

import type { ColorInfo, Rational } from '@framecraft/core';
import type { FormatContext, Stream } from 'node-av';
import { loadNodeAv, type NodeAv } from './binding.ts';
import { avPixelFormatName, avSampleFormatName, colorFromAv } from './convert.ts';
import { Breather } from './event-loop.ts';
import { isEof, toError } from './ffmpeg-error.ts';
import { openInput } from './input.ts';

/** The kind of an elementary stream. */
export type StreamType = 'video' | 'audio' | 'subtitle' | 'data' | 'attachment' | 'unknown';

/** What every stream has. */
export interface BaseStreamInfo {
  readonly index: number;
  readonly type: StreamType;
  /** Codec short name (`h264`, `aac`, `subrip`), `"none"` when unknown. */
  readonly codec: string;
  readonly timeBase: Rational;
  /** Start time in seconds, 0 when unknown. */
  readonly startTime: number;
  /** Duration in seconds, 0 when unknown. */
  readonly duration: number;
  /** Bits per second, 0 when unknown. */
  readonly bitRate: number;
  readonly language: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  /** True when this stream is the default of its kind. */
  readonly isDefault: boolean;
}

/** A video stream. */
export interface VideoStreamInfo extends BaseStreamInfo {
  readonly type: 'video';
  readonly width: number;
  readonly height: number;
  readonly sampleAspect: Rational;
  /**
   * Display rotation in degrees from the display matrix, counter-clockwise as FFmpeg counts it
   * (ffprobe's `rotation`; players turn the picture by it), 0 when none.
   */
  readonly rotation: number;
  readonly avgFrameRate: Rational;
  readonly realFrameRate: Rational;
  /** True when frame durations vary (timestamps scanned, not guessed from the header). */
  readonly vfr: boolean;
  readonly bitDepth: number;
  /** FFmpeg pixel format name, for example `yuv420p10le`. */
  readonly pixelFormat: string;
  readonly color: ColorInfo;
  /** True for PQ (smpte2084) or HLG (arib-std-b67) transfer. */
  readonly hdr: boolean;
  /** Frame count from the header, or counted when keyframes were requested; 0 when unknown. */
  readonly frameCount: number;
  /** True for an attached picture (cover art), not a real video track. */
  readonly attachedPicture: boolean;
  /** Keyframe times in seconds, present when requested. */
  readonly keyframes?: readonly number[];
}

/** An audio stream. */
export interface AudioStreamInfo extends BaseStreamInfo {
  readonly type: 'audio';
  readonly sampleRate: number;
  readonly channels: number;
  readonly sampleFormat: string;
}

/** A subtitle, data, attachment or unknown stream. */
export interface OtherStreamInfo extends BaseStreamInfo {
  readonly type: 'subtitle' | 'data' | 'attachment' | 'unknown';
}

/** Any stream. */
export type StreamInfo = VideoStreamInfo | AudioStreamInfo | OtherStreamInfo;

/** The result of {@link probe}; JSON-serialisable. */
export interface ProbeResult {
  readonly file: string;
  /** Demuxer short names, for example `mov,mp4,m4a,3gp,3g2,mj2`. */
  readonly container: string;
  readonly containerLongName: string;
  /** Seconds. */
  readonly duration: number;
  /** Seconds. */
  readonly startTime: number;
  readonly bitRate: number;
  readonly metadata: Readonly<Record<string, string>>;
  readonly streams: readonly StreamInfo[];
}

/** Options of {@link probe}. */
export interface ProbeOptions {
  /** Scan every packet of the main video stream for keyframe times and an exact frame count. */
  readonly keyframes?: boolean;
  readonly signal?: AbortSignal;
}

const VFR_SCAN_PACKETS = 600;

function rational(r: { num: number; den: number }): Rational {
  return { num: r.num, den: r.den };
}

function seconds(ts: bigint, tb: Rational, av: NodeAv): number {
  if (ts === av.AV_NOPTS_VALUE || tb.den === 0) return 0;
  return (Number(ts) * tb.num) / tb.den;
}

function streamType(type: number, av: NodeAv): StreamType {
  if (type === av.AVMEDIA_TYPE_VIDEO) return 'video';
  if (type === av.AVMEDIA_TYPE_AUDIO) return 'audio';
  if (type === av.AVMEDIA_TYPE_SUBTITLE) return 'subtitle';
  if (type === av.AVMEDIA_TYPE_DATA) return 'data';
  if (type === av.AVMEDIA_TYPE_ATTACHMENT) return 'attachment';
  return 'unknown';
}

/** Read the display rotation from a display matrix (9 × int32, 16.16 fixed point), as ffprobe reports it. */
export function displayMatrixRotation(matrix: Buffer | null): number {
  if (matrix === null || matrix.length < 36) return 0;
  const a = matrix.readInt32LE(0) / 65536;
  const b = matrix.readInt32LE(4) / 65536;
  if (a === 0 && b === 0) return 0;
  // [cos θ, -sin θ; sin θ, cos θ] reads as θ, the value ffprobe prints as `rotation` (FFmpeg 5.1's
  // autorotate shows a file tagged 90 turned counter-clockwise).
  const deg = Math.round((-Math.atan2(b, a) * 180 * 100) / Math.PI) / 100;
  return ((deg % 360) + 360) % 360;
}

function bitDepthOf(pixFmt: string, bitsPerRawSample: number): number {
  if (bitsPerRawSample > 0) return bitsPerRawSample;
  const m = /p(9|10|12|14|16)(le|be)?$/.exec(pixFmt) ?? /(9|10|12|14|16)(le|be)$/.exec(pixFmt);
  return m ? Number(m[1]) : 8;
}

function base(stream: Stream, av: NodeAv): BaseStreamInfo {
  const par = stream.codecpar;
  const tb = rational(stream.timeBase);
  const metadata = stream.metadata?.getAll() ?? {};
  return {
    index: stream.index,
    type: streamType(par.codecType, av),
    codec: av.avGetCodecName(par.codecId) ?? 'none',
    timeBase: tb,
    startTime: seconds(stream.startTime, tb, av),
    duration: seconds(stream.duration, tb, av),
    bitRate: Number(par.bitRate),
    language: metadata.language ?? null,
    metadata,
    isDefault: stream.hasDisposition(av.AV_DISPOSITION_DEFAULT),
  };
}

interface PacketScan {
  readonly ptsList: number[];
  readonly keyframes: number[];
}

/**
 * Read the packets of one stream without decoding them.
 *
 * @param ctx - An open input.
 * @param file - Its path, for errors.
 * @param streamIndex - The stream to scan.
 * @param limit - Stop after this many packets of the stream.
 * @param signal - Abort signal.
 * @returns Packet presentation timestamps (stream units, unsorted) and keyframe timestamps.
 */
export async function scanPackets(
  ctx: FormatContext,
  file: string,
  streamIndex: number,
  limit: number,
  signal?: AbortSignal,
): Promise<PacketScan> {
  const av = await loadNodeAv();
  const pkt = new av.Packet();
  pkt.alloc();
  const ptsList: number[] = [];
  const keyframes: number[] = [];
  const breather = new Breather();
  try {
    while (ptsList.length < limit) {
      signal?.throwIfAborted();
      await breather.breathe();
      const ret = ctx.readFrameSync(pkt);
      if (isEof(ret)) break;
      if (ret < 0) throw toError(ret, file, 'read packets');
      if (pkt.streamIndex === streamIndex) {
        const ts = pkt.pts !== av.AV_NOPTS_VALUE ? pkt.pts : pkt.dts;
        if (ts !== av.AV_NOPTS_VALUE) {
          ptsList.push(Number(ts));
          if (pkt.isKeyframe) keyframes.push(Number(ts));
        }
      }
      pkt.unref();
    }
  } finally {
    pkt.free();
  }
  return { ptsList, keyframes };
}

function isVariable(ptsList: readonly number[]): boolean {
  if (ptsList.length < 3) return false;
  const sorted = [...ptsList].sort((a, b) => a - b);
  const deltas: number[] = [];
  for (let i = 1; i < sorted.length; i++) deltas.push(sorted[i]! - sorted[i - 1]!);
  const ordered = [...deltas].sort((a, b) => a - b);
  const median = ordered[ordered.length >> 1]!;
  const tolerance = Math.max(2, median * 0.01);
  return ordered[ordered.length - 1]! - ordered[0]! > tolerance;
}

/**
 * Describe a media file: container, duration and every stream.
 *
 * Video streams get an honest VFR flag from their timestamps (the first 600 packets, or all of
 * them when `keyframes` is set) rather than from header frame rates.
 *
 * @param file - Path of the input.
 * @param options - Ask for keyframe positions.
 * @returns A JSON-serialisable description.
 * @throws {UnsupportedInputError} For a missing, empty, non-media or truncated file.
 * @throws {NativeBindingError} When FFmpeg cannot be loaded.
 * @example
 * ```ts
 * const info = await probe('clip.mp4')
 * const video = info.streams.find((s) => s.type === 'video')
 * console.log(info.duration, video?.width, video?.height)
 * ```
 */
export async function probe(file: string, options: ProbeOptions = {}): Promise<ProbeResult> {
  const ctx = await openInput(file);
  try {
    return await describeInput(ctx, file, options);
  } finally {
    await ctx.closeInput();
  }
}

/**
 * Describe an input that is already open (see {@link probe}); reads packets, so the caller seeks
 * back before decoding.
 *
 * @param ctx - An open input.
 * @param file - Its path.
 * @param options - Keyframe scan and abort signal.
 * @returns The description.
 */
export async function describeInput(
  ctx: FormatContext,
  file: string,
  options: ProbeOptions = {},
): Promise<ProbeResult> {
  const av = await loadNodeAv();
  const streams = ctx.streams;
  const main = ctx.findBestStream(av.AVMEDIA_TYPE_VIDEO);
  const scan =
    main >= 0
      ? await scanPackets(ctx, file, main, options.keyframes ? Infinity : VFR_SCAN_PACKETS, options.signal)
      : undefined;
  const infos: StreamInfo[] = streams.map((stream) => {
    const b = base(stream, av);
    const par = stream.codecpar;
    if (b.type === 'audio') {
      return {
        ...b,
        type: 'audio',
        sampleRate: par.sampleRate,
        channels: par.channelLayout?.nbChannels ?? par.channels,
        sampleFormat: avSampleFormatName(par.format),
      };
    }
    if (b.type !== 'video') return { ...b, type: b.type };
    const pixelFormat = avPixelFormatName(par.format);
    const color = colorFromAv(par.colorRange, par.colorPrimaries, par.colorTrc, par.colorSpace);
    const sar = stream.sampleAspectRatio.num > 0 ? stream.sampleAspectRatio : par.sampleAspectRatio;
    const isMain = stream.index === main && scan !== undefined;
    const header = Number(stream.nbFrames);
    const info: VideoStreamInfo = {
      ...b,
      type: 'video',
      width: par.width,
      height: par.height,
      sampleAspect: sar.num > 0 && sar.den > 0 ? rational(sar) : { num: 1, den: 1 },
      rotation: displayMatrixRotation(par.getCodedSideData(av.AV_PKT_DATA_DISPLAYMATRIX)),
      avgFrameRate: rational(stream.avgFrameRate),
      realFrameRate: rational(stream.rFrameRate),
      vfr: isMain ? isVariable(scan.ptsList) : false,
      bitDepth: bitDepthOf(pixelFormat, par.bitsPerRawSample),
      pixelFormat,
      color,
      hdr: color.transfer === 'smpte2084' || color.transfer === 'arib-std-b67',
      frameCount: isMain && options.keyframes ? scan.ptsList.length : Math.max(header, 0),
      attachedPicture: stream.hasDisposition(av.AV_DISPOSITION_ATTACHED_PIC),
    };
    if (isMain && options.keyframes) {
      const tb = b.timeBase;
      return { ...info, keyframes: scan.keyframes.sort((x, y) => x - y).map((k) => (k * tb.num) / tb.den) };
    }
    return info;
  });
  const AV_TIME_BASE = 1_000_000;
  return {
    file,
    container: ctx.iformat?.name ?? 'unknown',
    containerLongName: ctx.iformat?.longName ?? '',
    duration: ctx.duration > 0n ? Number(ctx.duration) / AV_TIME_BASE : 0,
    startTime: ctx.startTime !== av.AV_NOPTS_VALUE ? Number(ctx.startTime) / AV_TIME_BASE : 0,
    bitRate: Number(ctx.bitRate),
    metadata: ctx.metadata?.getAll() ?? {},
    streams: infos,
  };
}

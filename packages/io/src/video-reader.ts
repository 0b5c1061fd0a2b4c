import { cloneFrame, type Frame, invalidRangeError, type PixelFormat, type Rational } from '@framecraft/core';
import type { Frame as AvFrame, CodecContext, FormatContext, Packet, SoftwareScaleContext } from 'node-av';
import { loadNodeAv, type NodeAv } from './binding.ts';
import {
  avPixelFormatName,
  colorToAv,
  pixelFormatFromAv,
  pixelFormatToAv,
  reusableAvFrame,
  wrapAvFrame,
} from './convert.ts';
import { UnsupportedInputError } from './errors.ts';
import { Breather } from './event-loop.ts';
import { check, isAgain, isEof, isInvalidData, reasonOf, toError } from './ffmpeg-error.ts';
import { openInput } from './input.ts';
import { describeInput, type ProbeResult, scanPackets, type VideoStreamInfo } from './probe.ts';

/** The pixel layout frames are delivered in: the decoder's own (`native`) or a conversion. */
export type ReadFormat = 'native' | PixelFormat;

/** A point in a video: seconds on the stream's timeline, or a frame number (0-based, display order). */
export type Position = { readonly time: number } | { readonly frame: number };

/** Options of {@link VideoReader.open}. */
export interface VideoReaderOptions {
  /** Which video stream; the container's best one by default. */
  readonly streamIndex?: number;
  /** Decoder threads; 0 (default) lets FFmpeg pick. */
  readonly threads?: number;
}

/** Options of {@link VideoReader.frames}. */
export interface ReadOptions {
  /** Pixel format wanted; `native` (default) converts nothing. */
  readonly format?: ReadFormat;
  /** First frame to deliver (inclusive). */
  readonly start?: Position;
  /** Frame to stop before (exclusive). */
  readonly end?: Position;
  /**
   * Deliver frames that own their memory. By default a frame's planes may view decoder memory
   * and stay valid only until the next frame is requested.
   */
  readonly copy?: boolean;
  readonly signal?: AbortSignal;
}

const INT64_MIN = -(2n ** 63n);

/**
 * Frame-accurate reader of one video stream, delivering frames as an `AsyncIterable<Frame>`.
 *
 * @example
 * ```ts
 * await using reader = await VideoReader.open('clip.mp4')
 * for await (const frame of reader.frames({ format: 'gray8', start: { frame: 10 }, end: { frame: 20 } })) {
 *   console.log(frame.pts, frame.planes[0].data[0])
 * }
 * ```
 */
export class VideoReader implements AsyncDisposable {
  /** The input path. */
  readonly file: string;
  /** The whole probe of the input. */
  readonly info: ProbeResult;
  /** The stream being read. */
  readonly stream: VideoStreamInfo;
  /** Packets the decoder rejected as corrupt so far (skipped, as FFmpeg's CLI does). */
  decodeErrors = 0;

  readonly #av: NodeAv;
  readonly #ctx: FormatContext;
  readonly #dec: CodecContext;
  readonly #timeBase: Rational;
  #index: number[] | undefined;
  #keyframes: number[] | undefined;
  #scaler: SoftwareScaleContext | undefined;
  #converted: AvFrame | undefined;
  #busy = false;
  #lastPacketTs = -Infinity;
  /** End time in seconds of the latest packet of any other stream (watched only for Matroska-like files). */
  #lastAnyEnd = -Infinity;
  /** Bumped whenever the decode frame moves on to another picture (views of the old one go stale). */
  #generation = 0;
  /** Per FFmpeg pixel format: the Framecraft format and whether it is a full-range "J" alias. */
  readonly #formats = new Map<number, { native: PixelFormat | undefined; fullRange: boolean }>();
  /** Color metadata per frame range tag, built once. */
  readonly #colors = new Map<number, VideoStreamInfo['color']>();
  #closed = false;

  private constructor(
    file: string,
    info: ProbeResult,
    stream: VideoStreamInfo,
    av: NodeAv,
    ctx: FormatContext,
    dec: CodecContext,
  ) {
    this.file = file;
    this.info = info;
    this.stream = stream;
    this.#av = av;
    this.#ctx = ctx;
    this.#dec = dec;
    this.#timeBase = stream.timeBase;
  }

  /**
   * Open a video file for reading.
   *
   * @param file - Path of the input.
   * @param options - Stream choice and decoder threads.
   * @returns A reader; dispose it (or call `close`) when done.
   * @throws {UnsupportedInputError} `ERR_FILE_NOT_FOUND`, `ERR_EMPTY_FILE`, `ERR_NOT_MEDIA`,
   *   `ERR_TRUNCATED_MEDIA`, `ERR_NO_VIDEO_STREAM` or `ERR_UNSUPPORTED_CODEC`.
   */
  static async open(file: string, options: VideoReaderOptions = {}): Promise<VideoReader> {
    const av = await loadNodeAv();
    const ctx = await openInput(file);
    let info: ProbeResult;
    try {
      info = await describeInput(ctx, file);
    } catch (err) {
      await ctx.closeInput();
      throw err;
    }
    const videos = info.streams.filter((s): s is VideoStreamInfo => s.type === 'video' && !s.attachedPicture);
    const stream =
      options.streamIndex === undefined ? videos[0] : videos.find((s) => s.index === options.streamIndex);
    try {
      if (stream === undefined) {
        const what =
          options.streamIndex === undefined
            ? 'has no video stream'
            : `has no video stream #${options.streamIndex}`;
        throw new UnsupportedInputError('ERR_NO_VIDEO_STREAM', file, `${what}; it cannot be stylized.`);
      }
      const avStream = ctx.streams[stream.index]!;
      const codec = av.Codec.findDecoder(avStream.codecpar.codecId);
      if (codec === null) {
        throw new UnsupportedInputError(
          'ERR_UNSUPPORTED_CODEC',
          file,
          `video codec "${stream.codec}" is not supported by this FFmpeg build. Convert the file to H.264, HEVC, VP9 or AV1 first.`,
        );
      }
      // Only the chosen stream is demuxed; the rest are skipped inside FFmpeg.
      // Only the chosen stream is demuxed, unless the video has no duration of its own (Matroska):
      // then every stream's packets are watched so a truncated file can be told from one whose
      // audio simply runs longer than its video.
      if (stream.duration > 0) {
        for (const s of ctx.streams) if (s.index !== stream.index) s.discard = av.AVDISCARD_ALL;
      }
      const dec = new av.CodecContext();
      dec.allocContext3(codec);
      check(dec.parametersToContext(avStream.codecpar), file, 'configure decoder');
      dec.pktTimebase = avStream.timeBase;
      dec.threadCount = options.threads ?? 0;
      const ret = await dec.open2(codec, null);
      if (ret < 0) {
        dec.freeContext();
        throw new UnsupportedInputError(
          'ERR_UNSUPPORTED_CODEC',
          file,
          `cannot open a ${stream.codec} decoder for this stream (${reasonOf(ret)}).`,
        );
      }
      return new VideoReader(file, info, stream, av, ctx, dec);
    } catch (err) {
      await ctx.closeInput();
      throw err;
    }
  }

  /** Average frame rate of the stream. */
  get frameRate(): Rational {
    return this.stream.avgFrameRate;
  }

  /**
   * List the presentation timestamps of every frame in display order (stream time base units).
   *
   * Scans packets without decoding; the result is cached (with the keyframes, from the same scan).
   *
   * @returns Sorted timestamps; frame N has timestamp `result[N]`.
   */
  async frameTimestamps(): Promise<readonly number[]> {
    await this.#scan();
    return this.#index!;
  }

  /**
   * List the timestamps of the keyframes (stream time base units), sorted; from the same cached
   * packet scan as {@link VideoReader.frameTimestamps}.
   *
   * @returns Sorted keyframe timestamps.
   */
  async keyframeTimestamps(): Promise<readonly number[]> {
    await this.#scan();
    return this.#keyframes!;
  }

  async #scan(): Promise<void> {
    if (this.#index !== undefined) return;
    const ctx = await openInput(this.file);
    try {
      const scan = await scanPackets(ctx, this.file, this.stream.index, Infinity);
      this.#index = scan.ptsList.sort((a, b) => a - b);
      this.#keyframes = scan.keyframes.sort((a, b) => a - b);
    } finally {
      await ctx.closeInput();
    }
  }

  async #toTimestamp(pos: Position, param: string): Promise<number> {
    if ('frame' in pos) {
      if (!Number.isInteger(pos.frame) || pos.frame < 0) {
        throw invalidRangeError('a frame number >= 0', `${param}.frame`, pos.frame);
      }
      const index = await this.frameTimestamps();
      return pos.frame < index.length ? index[pos.frame]! : Infinity;
    }
    if (!Number.isFinite(pos.time))
      throw invalidRangeError('a finite number of seconds', `${param}.time`, pos.time);
    // A frame whose timestamp rounds to the requested time counts as at that time.
    return Math.round((pos.time * this.#timeBase.den) / this.#timeBase.num);
  }

  /**
   * Decode frames in display order, optionally only a range, in the format asked for.
   *
   * One iteration at a time per reader; starting one seeks.
   *
   * @param options - Format, range [start, end), copy and abort signal.
   * @returns The frames, each with its true timestamp.
   * @throws {UnsupportedInputError} `ERR_TRUNCATED_MEDIA` when the data ends or breaks mid-stream.
   */
  async *frames(options: ReadOptions = {}): AsyncGenerator<Frame, void, undefined> {
    if (this.#closed) throw new Error(`VideoReader for ${this.file} is closed`);
    if (this.#busy)
      throw new Error(`VideoReader for ${this.file} is already iterating; open a second reader`);
    this.#busy = true;
    const av = this.#av;
    const startTs =
      options.start === undefined ? -Infinity : await this.#toTimestamp(options.start, 'options.start');
    const endTs = options.end === undefined ? Infinity : await this.#toTimestamp(options.end, 'options.end');
    const format = options.format ?? 'native';
    const pkt = new av.Packet();
    pkt.alloc();
    const frame = new av.Frame();
    frame.alloc();
    const breather = new Breather();
    try {
      await this.#seek(startTs);
      this.#lastPacketTs = -Infinity;
      this.#lastAnyEnd = -Infinity;
      if (startTs >= endTs) return;
      let draining = false;
      while (true) {
        options.signal?.throwIfAborted();
        if (!draining) {
          const got = this.#sendNext(pkt);
          if (!got) {
            draining = true;
            this.#dec.sendPacketSync(null);
          }
        }
        while (true) {
          const ret = this.#dec.receiveFrameSync(frame);
          if (isAgain(ret)) break;
          if (isEof(ret)) {
            this.#checkComplete();
            return;
          }
          if (isInvalidData(ret)) {
            // A damaged picture: skip it, as FFmpeg's CLI does, and count it.
            this.decodeErrors++;
            continue;
          }
          check(ret, this.file, 'decode video');
          const best = frame.bestEffortTimestamp;
          const ts = best === av.AV_NOPTS_VALUE ? Number(frame.pts) : Number(best);
          if (ts < startTs) {
            frame.unref();
            continue;
          }
          if (ts >= endTs) return;
          const out = this.#deliver(frame, format, ts);
          await breather.breathe();
          yield options.copy ? cloneFrame(out) : out;
          this.#generation++;
          frame.unref();
        }
      }
    } finally {
      this.#generation++;
      frame.free();
      pkt.free();
      this.#busy = false;
    }
  }

  /** Read one packet of our stream into the decoder; false at end of file. */
  #sendNext(pkt: Packet): boolean {
    while (true) {
      const ret = this.#ctx.readFrameSync(pkt);
      if (isEof(ret)) return false;
      if (isInvalidData(ret)) {
        throw new UnsupportedInputError(
          'ERR_TRUNCATED_MEDIA',
          this.file,
          'the file is truncated or damaged: its data ends before the container says it should.',
        );
      }
      if (ret < 0) throw toError(ret, this.file, 'read packet');
      const ts = pkt.pts !== this.#av.AV_NOPTS_VALUE ? pkt.pts : pkt.dts;
      if (pkt.streamIndex !== this.stream.index) {
        if (ts !== this.#av.AV_NOPTS_VALUE) {
          const tb = this.#ctx.streams[pkt.streamIndex]?.timeBase;
          if (tb)
            this.#lastAnyEnd = Math.max(this.#lastAnyEnd, (Number(ts + pkt.duration) * tb.num) / tb.den);
        }
        pkt.unref();
        continue;
      }
      if (ts !== this.#av.AV_NOPTS_VALUE && Number(ts) > this.#lastPacketTs) this.#lastPacketTs = Number(ts);
      if (pkt.hasFlags(this.#av.AV_PKT_FLAG_CORRUPT)) {
        const at =
          ts === this.#av.AV_NOPTS_VALUE
            ? ''
            : ` at ${((Number(ts) * this.#timeBase.num) / this.#timeBase.den).toFixed(2)} s`;
        pkt.unref();
        throw new UnsupportedInputError(
          'ERR_TRUNCATED_MEDIA',
          this.file,
          `the file is truncated or damaged${at}: its data ends before the container says it should. Re-copy or re-download it.`,
        );
      }
      const sent = this.#dec.sendPacketSync(pkt);
      pkt.unref();
      if (isInvalidData(sent)) {
        this.decodeErrors++;
        return true;
      }
      if (!isAgain(sent)) check(sent, this.file, 'decode video');
      return true;
    }
  }

  /** At end of file: did the data reach the end the container header promises? */
  #checkComplete(): void {
    const { duration, startTime, avgFrameRate } = this.stream;
    if (this.#lastPacketTs === -Infinity) return;
    const frameDur = avgFrameRate.num > 0 ? avgFrameRate.den / avgFrameRate.num : 0.1;
    const videoEnd = (this.#lastPacketTs * this.#timeBase.num) / this.#timeBase.den;
    let last = videoEnd;
    let expectedEnd = startTime + duration;
    if (duration <= 0) {
      // No per-stream duration (Matroska): the container's, against the latest packet of any stream.
      if (this.info.duration <= 0) return;
      expectedEnd = this.info.startTime + this.info.duration;
      last = Math.max(videoEnd, this.#lastAnyEnd - frameDur);
    }
    if (last + frameDur < expectedEnd - Math.max(0.5, 3 * frameDur)) {
      throw new UnsupportedInputError(
        'ERR_TRUNCATED_MEDIA',
        this.file,
        `the file is truncated: data ends at ${last.toFixed(2)} s but the container says ${expectedEnd.toFixed(2)} s. Re-copy or re-download it.`,
      );
    }
  }

  async #seek(startTs: number): Promise<void> {
    let ret = -1;
    if (Number.isFinite(startTs))
      ret = await this.#ctx.seekFrame(this.stream.index, BigInt(startTs), this.#av.AVSEEK_FLAG_BACKWARD);
    // No target, or a target before the first keyframe: rewind to the start of the file.
    if (ret < 0) {
      const start = this.#ctx.startTime === this.#av.AV_NOPTS_VALUE ? 0n : this.#ctx.startTime;
      ret = await this.#ctx.seekFile(-1, INT64_MIN, start, start);
    }
    if (ret < 0) throw toError(ret, this.file, 'seek');
    this.#dec.flushBuffers();
  }

  #deliver(frame: AvFrame, format: ReadFormat, pts: number): Frame {
    const avFormat = frame.format;
    let known = this.#formats.get(avFormat);
    if (known === undefined) {
      const name = avPixelFormatName(avFormat);
      known = { native: pixelFormatFromAv(avFormat), fullRange: name.startsWith('yuvj') };
      this.#formats.set(avFormat, known);
    }
    const { native } = known;
    const color = this.#frameColor(frame, known.fullRange);
    if (native !== undefined && (format === 'native' || format === native)) {
      const isCurrent = this.#currentCheck();
      return wrapAvFrame(frame, { format: native, timeBase: this.#timeBase, color, pts, isCurrent });
    }
    // Luma straight from the Y plane: no conversion at all.
    if (format === 'gray8' && (native === 'yuv420p' || native === 'yuv422p' || native === 'yuv444p')) {
      return wrapAvFrame(frame, { format: 'gray8', timeBase: this.#timeBase, color, pts });
    }
    const target: PixelFormat =
      format === 'native' ? (this.stream.bitDepth > 8 ? 'yuv420p10' : 'yuv420p') : (format as PixelFormat);
    return this.#convert(frame, target, color, pts);
  }

  #currentCheck(): () => boolean {
    const generation = this.#generation;
    return () => this.#generation === generation && !this.#closed;
  }

  #frameColor(frame: AvFrame, fullRangeFormat: boolean): VideoStreamInfo['color'] {
    const tag = fullRangeFormat ? 2 : frame.colorRange;
    let color = this.#colors.get(tag);
    if (color === undefined) {
      const s = this.stream.color;
      color = { ...s, range: tag === 1 ? 'limited' : tag === 2 ? 'full' : s.range };
      this.#colors.set(tag, color);
    }
    return color;
  }

  #convert(frame: AvFrame, target: PixelFormat, color: VideoStreamInfo['color'], pts: number): Frame {
    const av = this.#av;
    // Untagged sources: assume what players assume (BT.709 for HD, BT.601 for SD, limited range).
    if (frame.colorSpace === av.AVCOL_SPC_UNSPECIFIED) {
      frame.colorSpace = frame.height >= 720 ? av.AVCOL_SPC_BT709 : av.AVCOL_SPC_SMPTE170M;
    }
    if (frame.colorRange === av.AVCOL_RANGE_UNSPECIFIED) frame.colorRange = av.AVCOL_RANGE_MPEG;
    const targetAv = pixelFormatToAv(target);
    const out = reusableAvFrame(this.#converted, frame.width, frame.height, targetAv, this.file);
    this.#converted = out;
    const isRgb = target === 'rgb24' || target === 'rgba' || target === 'rgbf32';
    const tags = colorToAv(color);
    out.colorRange = isRgb || target === 'gray8' ? av.AVCOL_RANGE_JPEG : frame.colorRange;
    out.colorSpace = isRgb ? av.AVCOL_SPC_RGB : frame.colorSpace;
    out.colorPrimaries = tags.primaries;
    out.colorTrc = tags.transfer;
    if (this.#scaler === undefined) {
      this.#scaler = new av.SoftwareScaleContext();
      this.#scaler.allocContext();
      this.#scaler.setOption('sws_flags', 'bilinear');
    }
    check(this.#scaler.scaleFrameSync(out, frame), this.file, 'convert pixel format');
    out.duration = frame.duration;
    out.sampleAspectRatio = frame.sampleAspectRatio;
    const outColor = {
      ...color,
      range: isRgb || target === 'gray8' ? ('full' as const) : color.range,
      matrix: isRgb ? 'rgb' : color.matrix,
    };
    return wrapAvFrame(out, { format: target, timeBase: this.#timeBase, color: outColor, pts });
  }

  /**
   * Read one frame, by time or frame number, into memory it owns.
   *
   * @param position - Where.
   * @param format - Pixel format wanted.
   * @returns The first frame at or after `position`.
   * @throws {RangeError} When the position is past the end.
   */
  async frameAt(position: Position, format: ReadFormat = 'native'): Promise<Frame> {
    for await (const f of this.frames({ format, start: position, copy: true })) return f;
    throw invalidRangeError('a position inside the video', 'position', position);
  }

  /** Close the input and free the decoder. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#converted?.free();
    this.#scaler?.freeContext();
    this.#dec.freeContext();
    await this.#ctx.closeInput();
  }

  /** Close the reader (`await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

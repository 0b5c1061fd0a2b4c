import {
  type ColorInfo,
  type ColorMatrix,
  createFrame,
  type Frame,
  invalidRangeError,
  invalidTypeError,
  type PixelFormat,
  padFrame,
  pixelFormatInfo,
  type Rational,
} from '@framecraft/core';
import type {
  Frame as AvFrame,
  CodecContext,
  FormatContext,
  Packet,
  SoftwareScaleContext,
  Stream,
} from 'node-av';
import { AudioTrack, type AudioTrackOptions } from './audio-track.ts';
import { loadNodeAv, type NodeAv } from './binding.ts';
import {
  colorToAv,
  copyIntoAvFrame,
  originOf,
  pixelFormatToAv,
  reusableAvFrame,
  setAvColor,
} from './convert.ts';
import {
  type EncodedSize,
  type EncoderChoice,
  encodedSize,
  encoderSetup,
  isNvenc,
  SOFTWARE_TWIN,
} from './encoders.ts';
import { MediaFileError } from './errors.ts';
import { Breather } from './event-loop.ts';
import { check, isAgain, isEof } from './ffmpeg-error.ts';
import { muxerForPath, PartialFile } from './output-file.ts';
import { openVideoEncoder, probeEncode, type VideoEncoderSettings } from './video-encoder.ts';

/** A timestamp or duration from one time base to another, rounded to the nearest unit. */
function rescale(value: number, from: Rational, to: Rational): number {
  if (from.num === to.num && from.den === to.den) return value;
  return Math.round((value * from.num * to.den) / (from.den * to.num));
}

/** Options of {@link VideoWriter.create}: the encoder's settings and the container's. */
export interface VideoWriterOptions extends VideoEncoderSettings {
  /**
   * Encoder name: `libx264` (default), `libx265`, `h264_nvenc`, `hevc_nvenc`, `libsvtav1`,
   * `libvpx-vp9`, `ffv1`, or `auto` (NVENC when it really works here, else libx264).
   * An NVENC encoder that fails to open falls back to its software twin and reports it.
   */
  readonly codec?: EncoderChoice;
  /** Encoded pixel format; `yuv420p` by default, `yuv420p10` for 10-bit. */
  readonly pixelFormat?: PixelFormat;
  /**
   * Display rotation in degrees, counter-clockwise as FFmpeg counts it (ffprobe's `rotation`; a
   * phone's portrait video reads 270), stored as a display matrix (keeps phone videos upright).
   */
  readonly rotation?: number;
  /** Muxer name; guessed from the extension by default. */
  readonly container?: string;
  readonly audio?: AudioTrackOptions;
  /** Container-level metadata. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Receives warnings and the encoder fallback; `console.warn` by default. */
  readonly onWarning?: (message: string) => void;
  /** Called when the asked-for encoder was replaced by a fallback. */
  readonly onFallback?: (event: EncoderFallback) => void;
}

/** What happened when an asked-for encoder could not be used. */
export interface EncoderFallback {
  readonly requested: string;
  readonly used: string;
  readonly reason: string;
}

/** The result of {@link VideoWriter.close}. */
export interface WriteResult {
  readonly path: string;
  readonly encoder: string;
  readonly frames: number;
  readonly fallback: EncoderFallback | null;
  /** The encoded size (odd sizes padded). */
  readonly size: EncodedSize;
}

/** Encoder formats gray8 frames are converted to by hand (see `#grayToYuv`). */
const GRAY_TARGETS: ReadonlySet<PixelFormat> = new Set<PixelFormat>(['yuv420p', 'yuv422p', 'yuv444p']);

/** Full-range code value → limited range (16–235), rounded. */
function limitedRangeTable(): Uint8Array {
  const t = new Uint8Array(256);
  for (let v = 0; v < 256; v++) t[v] = Math.round(16 + (v * 219) / 255);
  return t;
}

function checkOptions(o: VideoWriterOptions): void {
  for (const key of ['width', 'height'] as const) {
    const v = o[key];
    if (!Number.isInteger(v) || v < 1 || v > 65536)
      throw invalidRangeError('an integer in [1, 65536]', `options.${key}`, v);
  }
  if (!(o.timeBase?.num > 0 && o.timeBase.den > 0)) {
    throw invalidTypeError('a positive rational {num, den}', 'options.timeBase', o.timeBase);
  }
  if (o.crf !== undefined && !(o.crf >= 0 && o.crf <= 63))
    throw invalidRangeError('a number in [0, 63]', 'options.crf', o.crf);
}

/** The matrix that goes with each set of primaries, for YUV made from RGB. */
const MATRIX_OF_PRIMARIES: Readonly<Record<string, ColorMatrix>> = {
  bt709: 'bt709',
  bt2020: 'bt2020nc',
  smpte170m: 'smpte170m',
  bt470bg: 'bt470bg',
};

/**
 * The colour tags a YUV encode carries: the given ones, except that an `rgb` or unknown matrix
 * (frames from an RGB style, or untagged ones) becomes the matrix the frames are converted with —
 * the primaries' own (BT.709, BT.2020, BT.601), else BT.709 from 720 lines up and BT.601 below, as
 * players assume. Tagged `rgb` (GBR), YUV is shown with wrong colours: renders of the RGB styles
 * were, before this.
 *
 * @param color - The tags asked for or carried by the frames.
 * @param format - The encoded pixel format.
 * @param height - The encoded height.
 * @returns The tags to write.
 */
export function encodedColor(color: ColorInfo, format: PixelFormat, height: number): ColorInfo {
  if (!pixelFormatInfo(format).yuv || (color.matrix !== 'rgb' && color.matrix !== 'unknown')) return color;
  const matrix = MATRIX_OF_PRIMARIES[color.primaries] ?? (height >= 720 ? 'bt709' : 'smpte170m');
  return { ...color, matrix };
}

/**
 * Encode frames into a video file, with optional audio, written under a temporary name and
 * moved into place by `close()`.
 *
 * Timestamps come from the frames (variable frame rate is kept). NVENC is detected by really
 * opening the encoder and encoding a frame; when that fails the writer falls back to the
 * software encoder and reports it through `onFallback` and `onWarning`.
 *
 * @example
 * ```ts
 * await using reader = await VideoReader.open('in.mp4')
 * const s = reader.stream
 * const writer = await VideoWriter.create('out.mp4', { width: s.width, height: s.height, timeBase: s.timeBase, color: s.color })
 * for await (const frame of reader.frames()) await writer.write(frame)
 * await writer.close()
 * ```
 */
export class VideoWriter implements AsyncDisposable {
  /** The encoder actually used. */
  readonly encoder: string;
  /** Set when the asked-for encoder was replaced. */
  readonly fallback: EncoderFallback | null;
  /** Frames written so far. */
  frames = 0;
  /** The size the video is encoded at (frames of an odd size are padded, see {@link encodedSize}). */
  readonly size: EncodedSize;

  readonly #av: NodeAv;
  readonly #file: PartialFile;
  readonly #fmt: FormatContext;
  readonly #enc: CodecContext;
  readonly #stream: Stream;
  /** The options at the encoded size. */
  readonly #options: VideoWriterOptions;
  /** The size of the frames written. */
  readonly #frameSize: { readonly width: number; readonly height: number };
  /** The padded copy of each frame, when the encoded size is larger. */
  #padded: Frame | undefined;
  readonly #encFormat: PixelFormat;
  readonly #pkt: Packet;
  readonly #audio: AudioTrack | undefined;
  #input: AvFrame | undefined;
  #encFrame: AvFrame | undefined;
  #scaler: SoftwareScaleContext | undefined;
  #limitedTable: Uint8Array | undefined;
  #lastPts = -Infinity;
  /** Frame durations by timestamp: encoders drop them on delayed packets, and MP4 needs the last one. */
  readonly #durations = new Map<bigint, bigint>();
  #done = false;
  readonly #breather = new Breather();

  private constructor(init: {
    av: NodeAv;
    file: PartialFile;
    fmt: FormatContext;
    enc: CodecContext;
    stream: Stream;
    options: VideoWriterOptions;
    frameSize: { readonly width: number; readonly height: number };
    encFormat: PixelFormat;
    encoder: string;
    fallback: EncoderFallback | null;
    audio: AudioTrack | undefined;
  }) {
    this.#av = init.av;
    this.#file = init.file;
    this.#fmt = init.fmt;
    this.#enc = init.enc;
    this.#stream = init.stream;
    this.#options = init.options;
    this.#frameSize = init.frameSize;
    this.size = {
      width: init.options.width,
      height: init.options.height,
      padded: init.options.width !== init.frameSize.width || init.options.height !== init.frameSize.height,
    };
    this.#encFormat = init.encFormat;
    this.encoder = init.encoder;
    this.fallback = init.fallback;
    this.#audio = init.audio;
    this.#pkt = new init.av.Packet();
    this.#pkt.alloc();
  }

  /**
   * Open an encoder (falling back from NVENC when needed) and the output container.
   *
   * @param path - Final output path; written as a temporary sibling until `close()`.
   * @param options - Size, timing, encoder and color settings.
   * @returns A writer; call `close()` to finish or `abort()` to discard.
   * @throws {TypeError | RangeError} For invalid options.
   * @throws {EncoderUnavailableError} When neither the encoder nor a fallback can be opened.
   * @throws {MediaFileError} When the output cannot be created.
   */
  static async create(path: string, options: VideoWriterOptions): Promise<VideoWriter> {
    checkOptions(options);
    const av = await loadNodeAv();
    const warn = options.onWarning ?? ((m: string) => console.warn(m));
    const encFormat = options.pixelFormat ?? 'yuv420p';
    pixelFormatInfo(encFormat);
    const requested = options.codec ?? 'libx264';
    const file = new PartialFile(path);
    const container = options.container ?? muxerForPath(path);

    const fmt = new av.FormatContext();
    const ret = fmt.allocOutputContext2(null, container, file.tempPath);
    if (ret < 0 || fmt.oformat === null) {
      fmt.freeContext();
      throw new MediaFileError(
        'ERR_OUTPUT_FORMAT',
        path,
        `no muxer for container "${container}". Use .mp4, .mkv or .mov.`,
      );
    }
    const globalHeader = fmt.oformat.hasFlags(av.AVFMT_GLOBALHEADER);

    let enc: CodecContext | undefined;
    let used = requested === 'auto' ? 'h264_nvenc' : requested;
    let fallback: EncoderFallback | null = null;
    // The encoder's options at the size it is given (odd sizes padded, see encodedSize).
    let coded: VideoWriterOptions = options;
    const codedFor = (name: string): VideoWriterOptions => {
      const size = encodedSize(name, encFormat, options.width, options.height, path);
      const color =
        options.color === undefined ? {} : { color: encodedColor(options.color, encFormat, size.height) };
      return { ...options, width: size.width, height: size.height, ...color };
    };
    try {
      try {
        coded = codedFor(used);
        if (isNvenc(used)) await probeEncode(av, used, coded, encFormat);
        enc = await openVideoEncoder(av, encoderSetup(used, coded), coded, encFormat, globalHeader);
      } catch (err) {
        const twin = SOFTWARE_TWIN.get(used);
        if (twin === undefined) throw err;
        enc?.freeContext();
        const reason = err instanceof Error ? err.message : String(err);
        fallback = { requested, used: twin, reason };
        used = twin;
        coded = codedFor(used);
        enc = await openVideoEncoder(av, encoderSetup(used, coded), coded, encFormat, globalHeader);
        warn(`framecraft: ${requested} is not usable here (${reason}); encoding with ${twin} instead.`);
        options.onFallback?.(fallback);
      }
      const stream = fmt.newStream(null);
      check(stream.codecpar.fromContext(enc), path, 'configure output stream');
      stream.timeBase = enc.timeBase;
      if (options.sampleAspect)
        stream.sampleAspectRatio = new av.Rational(options.sampleAspect.num, options.sampleAspect.den);
      if (options.rotation) {
        check(
          stream.codecpar.addCodedSideData(av.AV_PKT_DATA_DISPLAYMATRIX, displayMatrix(options.rotation)),
          path,
          'set display rotation',
        );
      }
      const audio = options.audio
        ? await AudioTrack.open(av, fmt, options.audio, globalHeader, path)
        : undefined;
      if (options.metadata) {
        for (const [k, v] of Object.entries(options.metadata)) {
          const dict = fmt.metadata ?? new av.Dictionary();
          dict.set(k, v);
          fmt.metadata = dict;
        }
      }
      if (!fmt.oformat.hasFlags(av.AVFMT_NOFILE)) check(await fmt.openOutput(), path, 'create output file');
      const opts =
        container === 'mp4' || container === 'mov'
          ? av.Dictionary.fromObject({ movflags: '+faststart' })
          : null;
      check(await fmt.writeHeader(opts), path, 'write container header');
      return new VideoWriter({
        av,
        file,
        fmt,
        enc,
        stream,
        options: coded,
        frameSize: { width: options.width, height: options.height },
        encFormat,
        encoder: used,
        fallback,
        audio,
      });
    } catch (err) {
      enc?.freeContext();
      await fmt.closeOutput().catch(() => {});
      fmt.freeContext();
      await file.discard();
      throw err;
    }
  }

  /**
   * Encode one frame. Its timestamp must be greater than the previous frame's.
   *
   * @param frame - A frame of the writer's size, in any supported pixel format.
   * @throws {RangeError} For a frame of another size or a non-increasing timestamp.
   */
  async write(input: Frame): Promise<void> {
    const o = this.#options;
    if (this.#done) throw new Error(`VideoWriter for ${this.#file.finalPath} is closed`);
    const { width, height } = this.#frameSize;
    if (input.width !== width || input.height !== height) {
      throw invalidRangeError(`a ${width}x${height} frame`, 'frame', `${input.width}x${input.height}`);
    }
    let frame = input;
    if (this.size.padded) {
      if (this.#padded?.format !== input.format)
        this.#padded = createFrame({ width: o.width, height: o.height, format: input.format });
      frame = padFrame(input, this.#padded);
    }
    const pts = rescale(frame.pts, frame.timeBase, o.timeBase);
    if (pts <= this.#lastPts) {
      throw invalidRangeError("a timestamp later than the previous frame's", 'frame.pts', frame.pts);
    }
    this.#lastPts = pts;
    // A frame straight from a VideoReader in the encoder's format goes in without a copy.
    const origin = frame.format === this.#encFormat ? originOf(frame) : undefined;
    let toEncode: AvFrame;
    if (origin !== undefined) toEncode = origin;
    else if (frame.format === 'gray8' && GRAY_TARGETS.has(this.#encFormat)) toEncode = this.#grayToYuv(frame);
    else {
      const input = this.#frameFor('input', frame.format);
      copyIntoAvFrame(frame, input);
      toEncode = input;
      if (frame.format !== this.#encFormat) toEncode = this.#convert(frame, input);
    }
    toEncode.pts = BigInt(pts);
    // The last frame's duration gives the container its true end time: without one (a frame from a
    // filter graph, a generated one) MP4's edit list ended before the last frame, which players
    // then dropped. A frame without a duration lasts one frame period.
    const given = rescale(frame.duration, frame.timeBase, o.timeBase);
    toEncode.duration = BigInt(given > 0 ? given : this.#framePeriod());
    toEncode.timeBase = this.#enc.timeBase;
    if (toEncode.duration > 0n) this.#durations.set(toEncode.pts, toEncode.duration);
    setAvColor(toEncode, this.#tags(frame));
    this.#send(toEncode);
    this.frames++;
    await this.#breather.breathe();
  }

  /** One frame's duration in the writer's time base, from the nominal frame rate (0 when unknown). */
  #framePeriod(): number {
    const o = this.#options;
    const rate = o.frameRate;
    if (rate === undefined || rate.num <= 0 || rate.den <= 0) return 0;
    return Math.max(1, Math.round((rate.den * o.timeBase.den) / (rate.num * o.timeBase.num)));
  }

  #convert(frame: Frame, input: AvFrame): AvFrame {
    const av = this.#av;
    const tags = colorToAv(frame.color);
    const rgb = frame.format === 'rgb24' || frame.format === 'rgba' || frame.format === 'rgbf32';
    input.colorRange =
      rgb || frame.format === 'gray8' ? av.AVCOL_RANGE_JPEG : tags.range || av.AVCOL_RANGE_MPEG;
    // The conversion uses the matrix the output is tagged with (encodedColor).
    const target = colorToAv(this.#tags(frame));
    input.colorSpace = rgb ? av.AVCOL_SPC_RGB : target.matrix;
    const out = this.#frameFor('encoder', this.#encFormat);
    out.colorRange = target.range || av.AVCOL_RANGE_MPEG;
    out.colorSpace = target.matrix;
    if (this.#scaler === undefined) {
      this.#scaler = new av.SoftwareScaleContext();
      this.#scaler.allocContext();
      this.#scaler.setOption('sws_flags', 'bilinear');
    }
    check(this.#scaler.scaleFrameSync(out, input), this.#file.finalPath, 'convert pixel format');
    return out;
  }

  /**
   * gray8 (full range) into 8-bit YUV: luma copied (through a full → limited table when the target
   * is limited range), chroma exactly neutral. Done here rather than by swscale, which leaves
   * full-range chroma at 127 in places and made repeated encodes of the same frames differ.
   */
  #grayToYuv(frame: Frame): AvFrame {
    const av = this.#av;
    const target = colorToAv(this.#options.color ?? frame.color);
    const full = target.range === av.AVCOL_RANGE_JPEG;
    if (!full && this.#limitedTable === undefined) this.#limitedTable = limitedRangeTable();
    const table = full ? null : this.#limitedTable!;
    // Straight into the encoder's input frame: luma copied (or mapped), chroma exactly neutral.
    const out = this.#frameFor('input', this.#encFormat);
    const planes = out.data!;
    const ls = out.linesize;
    const src = frame.planes[0]!;
    const s = src.data as Uint8Array;
    const y = planes[0]!;
    for (let row = 0; row < frame.height; row++) {
      const si = row * src.stride;
      const di = row * ls[0]!;
      if (table === null) y.set(s.subarray(si, si + frame.width), di);
      else for (let x = 0; x < frame.width; x++) y[di + x] = table[s[si + x]!]!;
    }
    const ch = -(-frame.height >> pixelFormatInfo(this.#encFormat).chromaShiftY);
    for (let p = 1; p < 3; p++) planes[p]!.fill(128, 0, ls[p]! * ch);
    return out;
  }

  /** The colour tags of what is encoded: the writer's, else the frame's, as YUV takes them. */
  #tags(frame: Frame): ColorInfo {
    return encodedColor(this.#options.color ?? frame.color, this.#encFormat, this.#options.height);
  }

  #frameFor(which: 'input' | 'encoder', format: PixelFormat): AvFrame {
    const current = which === 'input' ? this.#input : this.#encFrame;
    const { width, height } = this.#options;
    const f = reusableAvFrame(current, width, height, pixelFormatToAv(format), this.#file.finalPath);
    if (which === 'input') this.#input = f;
    else this.#encFrame = f;
    return f;
  }

  #send(frame: AvFrame | null): void {
    const ret = this.#enc.sendFrameSync(frame);
    check(ret, this.#file.finalPath, `encode with ${this.encoder}`);
    this.#drain();
  }

  #drain(): void {
    const pkt = this.#pkt;
    while (true) {
      const ret = this.#enc.receivePacketSync(pkt);
      if (isAgain(ret) || isEof(ret)) return;
      check(ret, this.#file.finalPath, `encode with ${this.encoder}`);
      pkt.streamIndex = this.#stream.index;
      const known = this.#durations.get(pkt.pts);
      if (known !== undefined) {
        if (pkt.duration <= 0n) pkt.duration = known;
        this.#durations.delete(pkt.pts);
      }
      pkt.rescaleTs(this.#enc.timeBase, this.#stream.timeBase);
      check(this.#fmt.interleavedWriteFrameSync(pkt), this.#file.finalPath, 'write video packet');
    }
  }

  /**
   * Encode audio samples for the audio track given at creation.
   *
   * @param channels - One Float32Array per channel, in [-1, 1], all the same length.
   * @throws {Error} When the writer has no audio track.
   */
  async writeAudio(channels: readonly Float32Array[]): Promise<void> {
    if (this.#audio === undefined) throw new Error('VideoWriter was created without options.audio');
    await this.#audio.write(channels, this.#fmt, this.#file.finalPath);
  }

  /**
   * Flush the encoders, finish the container and move the file to its final path.
   *
   * @returns What was written.
   */
  async close(): Promise<WriteResult> {
    if (this.#done) throw new Error(`VideoWriter for ${this.#file.finalPath} is already closed`);
    try {
      this.#send(null);
      await this.#audio?.finish(this.#fmt, this.#file.finalPath);
      check(await this.#fmt.writeTrailer(), this.#file.finalPath, 'finish container');
      await this.#release();
      await this.#file.commit();
    } catch (err) {
      await this.abort();
      throw err;
    }
    return {
      path: this.#file.finalPath,
      encoder: this.encoder,
      frames: this.frames,
      fallback: this.fallback,
      size: this.size,
    };
  }

  /** Stop writing and delete the temporary file; nothing appears at the final path. */
  async abort(): Promise<void> {
    await this.#release();
    await this.#file.discard();
  }

  async #release(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    this.#input?.free();
    this.#encFrame?.free();
    this.#scaler?.freeContext();
    this.#pkt.free();
    this.#audio?.free();
    this.#enc.freeContext();
    await this.#fmt.closeOutput();
    this.#fmt.freeContext();
  }

  /** Abort unless closed (`await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#done) await this.abort();
  }
}

/**
 * Build FFmpeg's display matrix (3×3 int32, 16.16 fixed point, last entry 2.30) for a display
 * rotation, as `av_display_rotation_set` does (counter-clockwise degrees, what ffprobe reports).
 *
 * @param degrees - Rotation a player applies when showing the picture.
 * @returns 36 bytes of side data.
 */
export function displayMatrix(degrees: number): Buffer {
  const radians = (degrees * Math.PI) / 180;
  const c = Math.cos(radians);
  const s = Math.sin(radians);
  const fixed = (x: number): number => Math.round(x * 65536);
  const m = [fixed(c), fixed(-s), 0, fixed(s), fixed(c), 0, 0, 0, 1 << 30];
  const buf = Buffer.alloc(36);
  for (const [i, v] of m.entries()) buf.writeInt32LE(v, i * 4);
  return buf;
}

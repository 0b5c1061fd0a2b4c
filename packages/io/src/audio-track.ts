import { invalidRangeError } from '@framecraft/core';
import type { Frame as AvFrame, CodecContext, FormatContext, Packet, Stream } from 'node-av';
import type { NodeAv } from './binding.ts';
import { findEncoder } from './convert.ts';
import { EncoderUnavailableError } from './errors.ts';
import { check, isAgain, isEof, reasonOf, toError } from './ffmpeg-error.ts';

/** An audio track written beside the video (generated media, tests, samples). */
export interface AudioTrackOptions {
  readonly sampleRate: number;
  readonly channels: number;
  /** `aac` (default) or `libopus`, `pcm_s16le`, … */
  readonly codec?: string;
  /** Bits per second; 128 000 by default. */
  readonly bitRate?: number;
}

/** How the encoder takes its samples. */
type SampleLayout = 'planar-float' | 'float' | 's16';

/**
 * A view of `length` elements over a frame buffer's bytes, or null when the buffer is not aligned
 * for it (FFmpeg's are; the fallback copies through a scratch array).
 */
function view<T extends Float32Array | Int16Array>(
  kind: { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number },
  buf: Buffer,
  length: number,
): T | null {
  return buf.byteOffset % kind.BYTES_PER_ELEMENT === 0 ? new kind(buf.buffer, buf.byteOffset, length) : null;
}

/**
 * An audio stream beside a writer's video: samples are queued per channel in buffers that grow by
 * doubling (never reallocated per write), encoded a codec frame at a time straight into the
 * frame's memory through typed views, and interleaved into the container.
 */
export class AudioTrack {
  readonly #enc: CodecContext;
  readonly #stream: Stream;
  readonly #frame: AvFrame;
  readonly #pkt: Packet;
  readonly #layout: SampleLayout;
  /** Queued samples per channel; the first `#pendingLength` of each are valid. */
  #pending: Float32Array[];
  #pendingLength = 0;
  #samplesWritten = 0;

  private constructor(av: NodeAv, enc: CodecContext, stream: Stream, channels: number, layout: SampleLayout) {
    this.#enc = enc;
    this.#stream = stream;
    this.#layout = layout;
    this.#frame = new av.Frame();
    this.#frame.alloc();
    this.#pkt = new av.Packet();
    this.#pkt.alloc();
    this.#pending = Array.from({ length: channels }, () => new Float32Array(4096));
  }

  /**
   * Add an audio stream to a container being set up.
   *
   * @throws {EncoderUnavailableError} When the codec is missing or refuses the settings.
   */
  static async open(
    av: NodeAv,
    fmt: FormatContext,
    o: AudioTrackOptions,
    globalHeader: boolean,
    path: string,
  ): Promise<AudioTrack> {
    const name = o.codec ?? 'aac';
    const codec = findEncoder(av, name);
    if (codec === null) throw new EncoderUnavailableError(name, 'this FFmpeg build has no such encoder');
    const layout: SampleLayout = name === 'aac' ? 'planar-float' : name === 'libopus' ? 'float' : 's16';
    const enc = new av.CodecContext();
    enc.allocContext3(codec);
    enc.sampleRate = o.sampleRate;
    enc.channelLayout = av.avChannelLayoutDefault(o.channels);
    enc.sampleFormat =
      layout === 'planar-float'
        ? av.AV_SAMPLE_FMT_FLTP
        : layout === 'float'
          ? av.AV_SAMPLE_FMT_FLT
          : av.AV_SAMPLE_FMT_S16;
    enc.bitRate = BigInt(o.bitRate ?? 128_000);
    enc.timeBase = new av.Rational(1, o.sampleRate);
    if (globalHeader) enc.setFlags(av.AV_CODEC_FLAG_GLOBAL_HEADER);
    const ret = await enc.open2(codec, null);
    if (ret < 0) {
      enc.freeContext();
      throw new EncoderUnavailableError(name, reasonOf(ret));
    }
    const stream = fmt.newStream(null);
    check(stream.codecpar.fromContext(enc), path, 'configure audio stream');
    stream.timeBase = enc.timeBase;
    return new AudioTrack(av, enc, stream, o.channels, layout);
  }

  /** Queue samples and encode every whole codec frame they complete. */
  async write(channels: readonly Float32Array[], fmt: FormatContext, path: string): Promise<void> {
    if (channels.length !== this.#pending.length) {
      throw invalidRangeError(`${this.#pending.length} channels`, 'channels', channels);
    }
    const added = channels[0]?.length ?? 0;
    const needed = this.#pendingLength + added;
    if (needed > this.#pending[0]!.length) {
      const capacity = Math.max(needed, 2 * this.#pending[0]!.length);
      this.#pending = this.#pending.map((old) => {
        const grown = new Float32Array(capacity);
        grown.set(old.subarray(0, this.#pendingLength));
        return grown;
      });
    }
    for (let c = 0; c < channels.length; c++) this.#pending[c]!.set(channels[c]!, this.#pendingLength);
    this.#pendingLength = needed;
    const size = this.#enc.frameSize > 0 ? this.#enc.frameSize : 1024;
    let start = 0;
    while (this.#pendingLength - start >= size) {
      await this.#encode(start, size, size, fmt, path);
      start += size;
    }
    // What is left moves to the front once per write, not once per codec frame.
    if (start > 0) {
      for (const p of this.#pending) p.copyWithin(0, start, this.#pendingLength);
      this.#pendingLength -= start;
    }
  }

  /** Encode `count` queued samples from `start` as one frame of `size` samples (the rest silence). */
  async #encode(start: number, count: number, size: number, fmt: FormatContext, path: string): Promise<void> {
    const f = this.#frame;
    f.unref();
    f.nbSamples = size;
    f.format = this.#enc.sampleFormat;
    f.sampleRate = this.#enc.sampleRate;
    f.channelLayout = this.#enc.channelLayout;
    check(f.getBuffer(0), path, 'allocate audio frame');
    this.#fill(f.data!, start, count, size);
    f.pts = BigInt(this.#samplesWritten);
    this.#samplesWritten += size;
    check(await this.#enc.sendFrame(f), path, 'encode audio');
    await this.#drain(fmt, path);
  }

  /** Copy queued samples into a frame's planes in the encoder's layout, silence after `count`. */
  #fill(data: Buffer[], start: number, count: number, size: number): void {
    const n = this.#pending.length;
    if (this.#layout === 'planar-float') {
      for (let c = 0; c < n; c++) {
        const samples = this.#pending[c]!.subarray(start, start + count);
        const out = view(Float32Array, data[c]!, size);
        if (out !== null) {
          out.set(samples);
          out.fill(0, count);
        } else {
          const scratch = new Float32Array(size);
          scratch.set(samples);
          data[c]!.set(new Uint8Array(scratch.buffer));
        }
      }
      return;
    }
    // Interleaved: straight into the frame's memory when it is aligned (FFmpeg's is), else
    // through a scratch array copied in afterwards.
    const float = this.#layout === 'float';
    const direct = float ? view(Float32Array, data[0]!, size * n) : view(Int16Array, data[0]!, size * n);
    const out = direct ?? (float ? new Float32Array(size * n) : new Int16Array(size * n));
    for (let c = 0; c < n; c++) {
      const src = this.#pending[c]!;
      if (float) for (let i = 0; i < count; i++) out[i * n + c] = src[start + i]!;
      else
        for (let i = 0; i < count; i++)
          out[i * n + c] = Math.max(-32768, Math.min(32767, Math.round(src[start + i]! * 32767)));
    }
    out.fill(0, count * n);
    if (direct === null) data[0]!.set(new Uint8Array(out.buffer));
  }

  async #drain(fmt: FormatContext, path: string): Promise<void> {
    while (true) {
      const ret = await this.#enc.receivePacket(this.#pkt);
      if (isAgain(ret) || isEof(ret)) return;
      check(ret, path, 'encode audio');
      this.#pkt.streamIndex = this.#stream.index;
      this.#pkt.rescaleTs(this.#enc.timeBase, this.#stream.timeBase);
      check(await fmt.interleavedWriteFrame(this.#pkt), path, 'write audio packet');
    }
  }

  /** Encode what is queued (padded with silence to a frame) and flush the encoder. */
  async finish(fmt: FormatContext, path: string): Promise<void> {
    if (this.#pendingLength > 0) {
      await this.#encode(0, this.#pendingLength, this.#pendingLength, fmt, path);
      this.#pendingLength = 0;
    }
    const ret = await this.#enc.sendFrame(null);
    if (ret < 0 && !isEof(ret)) throw toError(ret, path, 'flush audio encoder');
    await this.#drain(fmt, path);
  }

  free(): void {
    this.#frame.free();
    this.#pkt.free();
    this.#enc.freeContext();
  }
}

import type {
  AudioFifo,
  Frame as AvFrame,
  CodecContext,
  FormatContext,
  Packet,
  SoftwareResampleContext,
  Stream,
} from 'node-av';
import type { NodeAv } from './binding.ts';
import { findEncoder } from './convert.ts';
import { EncoderUnavailableError, UnsupportedInputError } from './errors.ts';
import { check, isAgain, isEof, reasonOf, toError } from './ffmpeg-error.ts';

/** Opus codes at 48 kHz whatever the source's rate; this is the rate its samples are resampled to. */
const OPUS_RATE = 48000;

/**
 * One audio stream decoded and encoded again as Opus, for a container that cannot take its codec
 * (WebM takes Opus and Vorbis, a phone's or camera's AAC is neither). Samples are resampled to
 * 48 kHz and cut into the encoder's frames; timestamps continue from the source's first sample, so
 * A/V sync holds. Written here on node-av's low-level API, like the rest of io, to keep the
 * timestamps ours (see the README).
 */
export class AudioReencoder {
  /** The output stream, in the output's format context. */
  readonly out: Stream;
  readonly #av: NodeAv;
  readonly #file: string;
  readonly #dec: CodecContext;
  readonly #enc: CodecContext;
  readonly #swr: SoftwareResampleContext;
  readonly #fifo: AudioFifo;
  readonly #decoded: AvFrame;
  readonly #resampled: AvFrame;
  readonly #chunk: AvFrame;
  readonly #pkt: Packet;
  readonly #srcTimeBase: { num: number; den: number };
  /** Timestamp (in 1/48000) of the next sample the encoder gets; set from the first decoded frame. */
  #next: bigint | null = null;
  #flushed = false;

  private constructor(init: {
    av: NodeAv;
    file: string;
    dec: CodecContext;
    enc: CodecContext;
    swr: SoftwareResampleContext;
    fifo: AudioFifo;
    out: Stream;
    src: Stream;
  }) {
    const av = init.av;
    this.#av = av;
    this.#file = init.file;
    this.#dec = init.dec;
    this.#enc = init.enc;
    this.#swr = init.swr;
    this.#fifo = init.fifo;
    this.out = init.out;
    this.#srcTimeBase = { num: init.src.timeBase.num, den: init.src.timeBase.den };
    this.#decoded = new av.Frame();
    this.#decoded.alloc();
    this.#resampled = new av.Frame();
    this.#resampled.alloc();
    this.#chunk = new av.Frame();
    this.#chunk.alloc();
    this.#pkt = new av.Packet();
    this.#pkt.alloc();
  }

  /**
   * Open a decoder for `src` and an Opus encoder whose stream is added to `fmt`.
   *
   * @param av - node-av.
   * @param fmt - The output's format context (before its header is written).
   * @param src - The source audio stream.
   * @param file - The source file, for errors.
   * @param globalHeader - Whether the muxer wants global headers.
   * @returns The re-encoder.
   * @throws {UnsupportedInputError} `ERR_UNSUPPORTED_CODEC` when the source audio cannot be decoded.
   * @throws {EncoderUnavailableError} When this FFmpeg build cannot encode Opus.
   */
  static async open(
    av: NodeAv,
    fmt: FormatContext,
    src: Stream,
    file: string,
    globalHeader: boolean,
  ): Promise<AudioReencoder> {
    const decoder = av.Codec.findDecoder(src.codecpar.codecId);
    if (decoder === null)
      throw new UnsupportedInputError(
        'ERR_UNSUPPORTED_CODEC',
        file,
        `audio stream #${src.index} cannot be decoded.`,
      );
    const encoder = findEncoder(av, 'libopus');
    if (encoder === null)
      throw new EncoderUnavailableError('libopus', 'this FFmpeg build has no such encoder');
    const dec = new av.CodecContext();
    dec.allocContext3(decoder);
    check(dec.parametersToContext(src.codecpar), file, 'configure audio decoder');
    dec.pktTimebase = src.timeBase;
    check(await dec.open2(decoder, null), file, 'open audio decoder');
    const channels = Math.max(1, dec.channelLayout.nbChannels || src.codecpar.channels || 2);
    const enc = new av.CodecContext();
    enc.allocContext3(encoder);
    enc.sampleRate = OPUS_RATE;
    // Opus takes 1–2 channels without a mapping family; more are folded down to stereo.
    enc.channelLayout = av.avChannelLayoutDefault(Math.min(channels, 2));
    enc.sampleFormat = av.AV_SAMPLE_FMT_FLT;
    enc.bitRate = BigInt(channels === 1 ? 64_000 : 128_000);
    enc.timeBase = new av.Rational(1, OPUS_RATE);
    if (globalHeader) enc.setFlags(av.AV_CODEC_FLAG_GLOBAL_HEADER);
    const ret = await enc.open2(encoder, null);
    if (ret < 0) {
      enc.freeContext();
      dec.freeContext();
      throw new EncoderUnavailableError('libopus', reasonOf(ret));
    }
    const swr = new av.SoftwareResampleContext();
    check(
      swr.allocSetOpts2(
        enc.channelLayout,
        enc.sampleFormat,
        OPUS_RATE,
        dec.channelLayout.nbChannels > 0 ? dec.channelLayout : av.avChannelLayoutDefault(channels),
        dec.sampleFormat,
        dec.sampleRate,
      ),
      file,
      'set up audio resampling',
    );
    check(swr.init(), file, 'set up audio resampling');
    const fifo = new av.AudioFifo();
    fifo.alloc(enc.sampleFormat, enc.channelLayout.nbChannels, Math.max(enc.frameSize, 960) * 4);
    const out = fmt.newStream(null);
    check(out.codecpar.fromContext(enc), file, 'configure the Opus stream');
    out.timeBase = enc.timeBase;
    out.disposition = src.disposition;
    if (src.metadata) out.metadata = av.Dictionary.fromObject(src.metadata.getAll());
    return new AudioReencoder({ av, file, dec, enc, swr, fifo, out, src });
  }

  /** The encoder's time base, the unit of the packets' timestamps. */
  get timeBase(): { num: number; den: number } {
    return { num: 1, den: OPUS_RATE };
  }

  /**
   * Decode one source packet (null at the end, to flush) and yield the Opus packets that are
   * ready. A yielded packet is valid until the next one is asked for.
   *
   * @param pkt - A packet of the source stream, or null.
   */
  async *push(pkt: Packet | null): AsyncGenerator<Packet> {
    const av = this.#av;
    if (this.#flushed) return;
    const sent = this.#dec.sendPacketSync(pkt);
    if (sent < 0 && !isEof(sent) && !isAgain(sent)) throw toError(sent, this.#file, 'decode audio');
    while (true) {
      const ret = this.#dec.receiveFrameSync(this.#decoded);
      if (isAgain(ret) || isEof(ret)) break;
      check(ret, this.#file, 'decode audio');
      if (this.#next === null) {
        const ts = this.#decoded.bestEffortTimestamp;
        const at =
          ts === av.AV_NOPTS_VALUE ? 0 : (Number(ts) * this.#srcTimeBase.num) / this.#srcTimeBase.den;
        this.#next = BigInt(Math.round(at * OPUS_RATE));
      }
      this.#resample(this.#decoded);
      this.#decoded.unref();
      yield* this.#encodeWhole();
    }
    if (pkt === null) {
      // What the resampler holds back, the last partial frame, then the encoder's own delay.
      this.#resample(null);
      yield* this.#encodeWhole();
      if (this.#fifo.size > 0) yield* this.#encodeChunk(this.#fifo.size);
      yield* this.#drain(null);
      this.#flushed = true;
    }
  }

  #resample(frame: AvFrame | null): void {
    const out = this.#resampled;
    out.unref();
    out.format = this.#enc.sampleFormat;
    out.sampleRate = OPUS_RATE;
    out.channelLayout = this.#enc.channelLayout;
    out.nbSamples = this.#swr.getOutSamples(frame?.nbSamples ?? 0) + 64;
    check(out.getBuffer(0), this.#file, 'allocate audio frame');
    check(this.#swr.convertFrame(out, frame), this.#file, 'resample audio');
    if (out.nbSamples > 0) this.#fifo.writeSync(out.data!, out.nbSamples);
  }

  async *#encodeWhole(): AsyncGenerator<Packet> {
    const size = this.#enc.frameSize > 0 ? this.#enc.frameSize : 960;
    while (this.#fifo.size >= size) yield* this.#encodeChunk(size);
  }

  async *#encodeChunk(samples: number): AsyncGenerator<Packet> {
    const f = this.#chunk;
    f.unref();
    f.format = this.#enc.sampleFormat;
    f.sampleRate = OPUS_RATE;
    f.channelLayout = this.#enc.channelLayout;
    f.nbSamples = samples;
    check(f.getBuffer(0), this.#file, 'allocate audio frame');
    this.#fifo.readSync(f.data!, samples);
    f.pts = this.#next ?? 0n;
    this.#next = f.pts + BigInt(samples);
    yield* this.#drain(f);
  }

  async *#drain(frame: AvFrame | null): AsyncGenerator<Packet> {
    const sent = this.#enc.sendFrameSync(frame);
    if (sent < 0 && !isEof(sent)) throw toError(sent, this.#file, 'encode Opus audio');
    while (true) {
      const ret = this.#enc.receivePacketSync(this.#pkt);
      if (isAgain(ret) || isEof(ret)) return;
      check(ret, this.#file, 'encode Opus audio');
      yield this.#pkt;
      this.#pkt.unref();
    }
  }

  /** Free the codecs and buffers. */
  free(): void {
    this.#decoded.free();
    this.#resampled.free();
    this.#chunk.free();
    this.#pkt.free();
    this.#fifo.free();
    this.#swr.free();
    this.#enc.freeContext();
    this.#dec.freeContext();
  }
}

import type { Frame as AvFrame } from 'node-av';
import { loadNodeAv } from './binding.ts';
import { UnsupportedInputError } from './errors.ts';
import { check, isAgain, isEof, toError } from './ffmpeg-error.ts';
import { openInput } from './input.ts';

/** Decoded audio: one Float32Array per channel. */
export interface DecodedAudio {
  readonly sampleRate: number;
  readonly channels: readonly Float32Array[];
  /** Time of the first sample, in seconds on the file's timeline. */
  readonly startTime: number;
}

/**
 * Decode a file's audio stream completely into float samples (for analysis and tests, not for
 * long files: the whole track is held in memory).
 *
 * @param file - A media file with audio.
 * @param streamIndex - The audio stream; the best one by default.
 * @returns Planar float samples in [-1, 1] and the start time.
 * @throws {UnsupportedInputError} `ERR_NO_AUDIO_STREAM` when there is no audio.
 */
export async function readAudio(file: string, streamIndex?: number): Promise<DecodedAudio> {
  const av = await loadNodeAv();
  const ctx = await openInput(file);
  const pkt = new av.Packet();
  pkt.alloc();
  const frame = new av.Frame();
  frame.alloc();
  try {
    const index = streamIndex ?? ctx.findBestStream(av.AVMEDIA_TYPE_AUDIO);
    const stream = index >= 0 ? ctx.streams[index] : undefined;
    if (stream === undefined || stream.codecpar.codecType !== av.AVMEDIA_TYPE_AUDIO) {
      throw new UnsupportedInputError('ERR_NO_AUDIO_STREAM', file, 'has no audio stream.');
    }
    const codec = av.Codec.findDecoder(stream.codecpar.codecId);
    if (codec === null)
      throw new UnsupportedInputError('ERR_UNSUPPORTED_CODEC', file, 'audio codec not supported.');
    const dec = new av.CodecContext();
    dec.allocContext3(codec);
    check(dec.parametersToContext(stream.codecpar), file, 'configure audio decoder');
    dec.pktTimebase = stream.timeBase;
    check(await dec.open2(codec, null), file, 'open audio decoder');
    const chunks: Float32Array[][] = [];
    let startTime: number | undefined;
    const collect = (f: AvFrame): void => {
      if (startTime === undefined) {
        const ts = f.bestEffortTimestamp;
        startTime = ts === av.AV_NOPTS_VALUE ? 0 : (Number(ts) * stream.timeBase.num) / stream.timeBase.den;
      }
      const n = f.nbSamples;
      const ch = f.channels;
      const data = f.data!;
      const fmt = f.format;
      const out = Array.from({ length: ch }, () => new Float32Array(n));
      for (let c = 0; c < ch; c++) {
        for (let i = 0; i < n; i++) {
          let v: number;
          if (fmt === av.AV_SAMPLE_FMT_FLTP) v = data[c]!.readFloatLE(i * 4);
          else if (fmt === av.AV_SAMPLE_FMT_FLT) v = data[0]!.readFloatLE((i * ch + c) * 4);
          else if (fmt === av.AV_SAMPLE_FMT_S16P) v = data[c]!.readInt16LE(i * 2) / 32768;
          else if (fmt === av.AV_SAMPLE_FMT_S16) v = data[0]!.readInt16LE((i * ch + c) * 2) / 32768;
          else if (fmt === av.AV_SAMPLE_FMT_S32P) v = data[c]!.readInt32LE(i * 4) / 2147483648;
          else if (fmt === av.AV_SAMPLE_FMT_S32) v = data[0]!.readInt32LE((i * ch + c) * 4) / 2147483648;
          else
            throw new UnsupportedInputError(
              'ERR_UNSUPPORTED_CODEC',
              file,
              `audio sample format ${fmt} not handled.`,
            );
          out[c]![i] = v;
        }
      }
      chunks.push(out);
    };
    const drain = async (): Promise<void> => {
      while (true) {
        const ret = await dec.receiveFrame(frame);
        if (isAgain(ret) || isEof(ret)) return;
        check(ret, file, 'decode audio');
        collect(frame);
        frame.unref();
      }
    };
    while (true) {
      const ret = await ctx.readFrame(pkt);
      if (isEof(ret)) break;
      if (ret < 0) throw toError(ret, file, 'read audio');
      if (pkt.streamIndex === index) {
        check(await dec.sendPacket(pkt), file, 'decode audio');
        await drain();
      }
      pkt.unref();
    }
    await dec.sendPacket(null);
    await drain();
    const channels = dec.channelLayout?.nbChannels || stream.codecpar.channels;
    dec.freeContext();
    const total = chunks.reduce((s, c) => s + (c[0]?.length ?? 0), 0);
    const merged = Array.from({ length: channels }, () => new Float32Array(total));
    let off = 0;
    for (const c of chunks) {
      for (let ch = 0; ch < channels; ch++) merged[ch]!.set(c[ch]!, off);
      off += c[0]?.length ?? 0;
    }
    return { sampleRate: stream.codecpar.sampleRate, channels: merged, startTime: startTime ?? 0 };
  } finally {
    frame.free();
    pkt.free();
    await ctx.closeInput();
  }
}

import { type ColorInfo, type PixelFormat, type Rational, UNKNOWN_COLOR } from '@framecraft/core';
import type { CodecContext } from 'node-av';
import { loadNodeAv, type NodeAv } from './binding.ts';
import { findEncoder, pixelFormatToAv, setAvColor } from './convert.ts';
import { type EncoderSettings, type EncoderSetup, encoderSetup } from './encoders.ts';
import { EncoderUnavailableError } from './errors.ts';
import { check, reasonOf } from './ffmpeg-error.ts';

/** What a video encoder is opened for. */
export interface VideoEncoderSettings extends EncoderSettings {
  readonly width: number;
  readonly height: number;
  /** Unit of the timestamps of the frames you will write (usually the source stream's). */
  readonly timeBase: Rational;
  /** Nominal frame rate, for rate control and the container header. */
  readonly frameRate?: Rational;
  readonly sampleAspect?: Rational;
  /** Color tags written to the stream (take them from the source to keep its look). */
  readonly color?: ColorInfo;
  /** Encoder threads; 0 (default) lets the encoder choose. */
  readonly threads?: number;
}

/**
 * Open a video encoder for frames of one size and format.
 *
 * @throws {EncoderUnavailableError} When this FFmpeg has no such encoder or it refuses the settings.
 */
export async function openVideoEncoder(
  av: NodeAv,
  setup: EncoderSetup,
  o: VideoEncoderSettings,
  format: PixelFormat,
  globalHeader: boolean,
): Promise<CodecContext> {
  const codec = findEncoder(av, setup.name);
  if (codec === null) throw new EncoderUnavailableError(setup.name, 'this FFmpeg build has no such encoder');
  const enc = new av.CodecContext();
  enc.allocContext3(codec);
  enc.width = o.width;
  enc.height = o.height;
  enc.pixelFormat = pixelFormatToAv(format);
  enc.timeBase = new av.Rational(o.timeBase.num, o.timeBase.den);
  if (o.frameRate && o.frameRate.num > 0) enc.framerate = new av.Rational(o.frameRate.num, o.frameRate.den);
  if (o.sampleAspect) enc.sampleAspectRatio = new av.Rational(o.sampleAspect.num, o.sampleAspect.den);
  setAvColor(enc, o.color ?? UNKNOWN_COLOR);
  enc.threadCount = o.threads ?? 0;
  if (globalHeader) enc.setFlags(av.AV_CODEC_FLAG_GLOBAL_HEADER);
  const ret = await enc.open2(codec, av.Dictionary.fromObject(setup.options));
  if (ret < 0) {
    enc.freeContext();
    throw new EncoderUnavailableError(
      setup.name,
      `${reasonOf(ret)} (opening it for ${o.width}x${o.height} ${format} frames)`,
    );
  }
  return enc;
}

/** Verdicts of hardware encoders by name and format, once per process: a probe costs an encoder open. */
const hardwareVerdicts = new Map<string, Promise<void>>();

/**
 * Prove that a hardware encoder really works here by encoding one black frame with a throw-away
 * instance (opening alone can succeed without a usable GPU). The verdict is cached per process.
 */
export function probeEncode(
  av: NodeAv,
  name: string,
  o: VideoEncoderSettings,
  format: PixelFormat,
): Promise<void> {
  const key = `${name}/${format}`;
  let verdict = hardwareVerdicts.get(key);
  if (verdict === undefined) {
    verdict = (async () => {
      const w = 256;
      const h = 256;
      const probeOptions: VideoEncoderSettings = {
        ...o,
        width: w,
        height: h,
        frameRate: { num: 25, den: 1 },
      };
      const enc = await openVideoEncoder(av, encoderSetup(name, probeOptions), probeOptions, format, false);
      const frame = new av.Frame();
      const pkt = new av.Packet();
      try {
        frame.alloc();
        frame.width = w;
        frame.height = h;
        frame.format = pixelFormatToAv(format);
        check(frame.getBuffer(32), name, 'allocate probe frame');
        for (const plane of frame.data ?? []) plane.fill(plane === frame.data?.[0] ? 16 : 128);
        frame.pts = 0n;
        check(await enc.sendFrame(frame), name, 'encode probe frame');
        check(await enc.sendFrame(null), name, 'flush probe frame');
        pkt.alloc();
        const ret = await enc.receivePacket(pkt);
        if (ret < 0)
          throw new EncoderUnavailableError(name, `no packet from the probe frame (${reasonOf(ret)})`);
      } finally {
        pkt.free();
        frame.free();
        enc.freeContext();
      }
    })();
    hardwareVerdicts.set(key, verdict);
  }
  return verdict;
}

/** Whether an encoder can really be used here, and why not. */
export interface EncoderCheck {
  readonly encoder: string;
  readonly usable: boolean;
  readonly reason: string | null;
}

/**
 * Tell whether an encoder really works on this machine by opening it and encoding one frame.
 *
 * @param encoder - Encoder name, for example `h264_nvenc`.
 * @param pixelFormat - Pixel format to try; `yuv420p` by default.
 * @returns The verdict with FFmpeg's reason when unusable.
 */
export async function checkEncoder(
  encoder: string,
  pixelFormat: PixelFormat = 'yuv420p',
): Promise<EncoderCheck> {
  const av = await loadNodeAv();
  try {
    await probeEncode(av, encoder, { width: 256, height: 256, timeBase: { num: 1, den: 25 } }, pixelFormat);
    return { encoder, usable: true, reason: null };
  } catch (err) {
    return { encoder, usable: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Frame, pixelFormatInfo, planeGeometry } from '@framecraft/core';
import { loadNodeAv, type ReadFormat, VideoReader } from '@framecraft/io';

/** A fresh temporary folder and a function that removes it. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'framecraft-io-test-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Decode every frame of a file as tight copies. */
export async function decodeAll(file: string, format: ReadFormat = 'native'): Promise<Frame[]> {
  await using reader = await VideoReader.open(file);
  const out: Frame[] = [];
  for await (const f of reader.frames({ format, copy: true })) out.push(f);
  return out;
}

/** Peak signal-to-noise ratio over all planes of two frames of the same size and format, in dB (peak from the bit depth). */
export function psnr(a: Frame, b: Frame): number {
  let se = 0;
  let n = 0;
  const geometry = planeGeometry(a.format, a.width, a.height);
  geometry.forEach((g, p) => {
    const pa = a.planes[p]!;
    const pb = b.planes[p]!;
    for (let y = 0; y < g.height; y++) {
      for (let x = 0; x < g.rowSamples; x++) {
        const d = pa.data[y * pa.stride + x]! - pb.data[y * pb.stride + x]!;
        se += d * d;
        n++;
      }
    }
  });
  const mse = se / n;
  const info = pixelFormatInfo(a.format);
  const peak = info.sampleType === 'float32' ? 255 : 2 ** info.bitDepth - 1;
  return mse === 0 ? Infinity : 10 * Math.log10((peak * peak) / mse);
}

/** True when two frames have identical samples in every plane. */
export function samePixels(a: Frame, b: Frame): boolean {
  return psnr(a, b) === Infinity;
}

/** Mean of plane 0 (luma for gray8 and YUV). */
export function meanLuma(f: Frame): number {
  const p = f.planes[0]!;
  let s = 0;
  for (let y = 0; y < f.height; y++) for (let x = 0; x < f.width; x++) s += p.data[y * p.stride + x]!;
  return s / (f.width * f.height);
}

/** SHA-256 over the payloads and timestamps of every packet of the first stream of a type. */
export async function streamDigest(
  file: string,
  type: 'audio' | 'video',
): Promise<{ digest: string; packets: number }> {
  const av = await loadNodeAv();
  const ctx = new av.FormatContext();
  ctx.allocContext();
  if ((await ctx.openInput(file, null, null)) < 0) throw new Error(`cannot open ${file}`);
  await ctx.findStreamInfo(null);
  const index = ctx.findBestStream(type === 'audio' ? av.AVMEDIA_TYPE_AUDIO : av.AVMEDIA_TYPE_VIDEO);
  const hash = createHash('sha256');
  const pkt = new av.Packet();
  pkt.alloc();
  let packets = 0;
  while ((await ctx.readFrame(pkt)) >= 0) {
    if (pkt.streamIndex === index && pkt.data) {
      hash.update(pkt.data);
      packets++;
    }
    pkt.unref();
  }
  pkt.free();
  await ctx.closeInput();
  return { digest: hash.digest('hex'), packets };
}

/** Write a real 16-bit PCM WAV file (audio only) by hand. */
export async function writeWav(path: string, seconds = 0.5, sampleRate = 8000): Promise<void> {
  const n = Math.round(seconds * sampleRate);
  const buf = Buffer.alloc(44 + n * 2);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + n * 2, 4);
  buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++)
    buf.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / sampleRate)), 44 + i * 2);
  await writeFile(path, buf);
}

/**
 * Write an MP4 whose video track cannot be decoded: by default MPEG-5 EVC, a codec this FFmpeg
 * build can mux but not decode; with `codec: 'h264'` an H.264 track whose packets are garbage (a
 * decoder opens, no frame comes out). The payload is placeholder bytes: what matters is the codec.
 */
export async function writeUndecodableVideo(path: string, codec: 'evc' | 'h264' = 'evc'): Promise<void> {
  const av = await loadNodeAv();
  const fmt = new av.FormatContext();
  fmt.allocOutputContext2(null, 'mp4', path);
  const s = fmt.newStream(null);
  s.codecpar.codecType = av.AVMEDIA_TYPE_VIDEO;
  s.codecpar.codecId = codec === 'evc' ? av.AV_CODEC_ID_EVC : av.AV_CODEC_ID_H264;
  s.codecpar.width = 64;
  s.codecpar.height = 64;
  s.timeBase = new av.Rational(1, 25);
  if ((await fmt.openOutput()) < 0 || (await fmt.writeHeader(null)) < 0)
    throw new Error(`cannot write ${path}`);
  const pkt = new av.Packet();
  pkt.alloc();
  for (let i = 0; i < 5; i++) {
    pkt.data = Buffer.alloc(200, i + 1);
    pkt.pts = BigInt(i);
    pkt.dts = BigInt(i);
    pkt.duration = 1n;
    pkt.streamIndex = s.index;
    pkt.isKeyframe = true;
    pkt.rescaleTs({ num: 1, den: 25 }, s.timeBase);
    await fmt.interleavedWriteFrame(pkt);
    pkt.unref();
  }
  pkt.free();
  await fmt.writeTrailer();
  await fmt.closeOutput();
  fmt.freeContext();
}

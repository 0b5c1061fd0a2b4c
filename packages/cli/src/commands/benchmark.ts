import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame } from '@framecraft/core';
import { VideoReader, VideoWriter } from '@framecraft/io';
import { styleFromFlags } from '../style-flags.ts';

/** Options of `framecraft benchmark`. */
export interface BenchmarkCommandOptions {
  readonly style: string;
  readonly stylePreset?: string;
  readonly option?: readonly string[];
  /** `--model`: a registered model name or an .onnx file (neural style). */
  readonly model?: string;
  /** Frames measured (from the start of the video). */
  readonly frames?: number;
  readonly codec?: string;
  readonly encoderPreset?: string;
  readonly crf?: number;
  readonly json?: boolean;
}

/** One stage's measurement. */
export interface StageTiming {
  readonly frames: number;
  readonly seconds: number;
  readonly fps: number;
}

const timing = (frames: number, ms: number): StageTiming => ({
  frames,
  seconds: Number((ms / 1000).toFixed(3)),
  fps: Number((frames / (ms / 1000)).toFixed(1)),
});

/**
 * Measure decode, stylize and encode separately on the first frames of a video (frames held in
 * memory between stages, so each number is that stage alone), plus peak memory — like Video2X's
 * `--benchmark`.
 *
 * @param input - Source video.
 * @param options - Style, frame count, encoder settings.
 */
export async function benchmarkCommand(input: string, options: BenchmarkCommandOptions): Promise<void> {
  const { style, options: styleOptions } = await styleFromFlags(options);

  const limit = options.frames ?? 120;
  const log = (m: string): void => {
    if (!options.json) process.stderr.write(`${m}\n`);
  };

  // Decode: frames in the style's input format, copied out so later stages can use them.
  let t0 = performance.now();
  const inputs: Frame[] = [];
  let width = 0;
  let height = 0;
  let stream: VideoReader['stream'];
  {
    await using reader = await VideoReader.open(input);
    stream = reader.stream;
    ({ width, height } = reader.stream);
    for await (const f of reader.frames({ format: style.inputFormat, copy: true, end: { frame: limit } }))
      inputs.push(f);
  }
  const decode = timing(inputs.length, performance.now() - t0);
  log(`decode (${style.inputFormat}): ${decode.fps} fps`);

  // Stylize: every frame in memory through one instance.
  const instance = await style.create(styleOptions, { width, height, seed: 1 });
  const outputs: Frame[] = [];
  t0 = performance.now();
  for (const f of inputs) outputs.push(await instance.process(f));
  const stylize = timing(outputs.length, performance.now() - t0);
  instance.dispose();
  log(`stylize (${options.style}): ${stylize.fps} fps`);

  // Encode: the stylized frames, to a scratch file.
  const dir = await mkdtemp(join(tmpdir(), 'framecraft-benchmark-'));
  let encoder = '';
  t0 = performance.now();
  try {
    const writer = await VideoWriter.create(join(dir, 'out.mp4'), {
      width,
      height,
      timeBase: stream.timeBase,
      frameRate: stream.avgFrameRate,
      codec: options.codec ?? 'libx264',
      preset: options.encoderPreset ?? 'veryfast',
      crf: options.crf ?? 23,
      ...(outputs[0] !== undefined && { color: outputs[0].color }),
      onWarning: (m) => log(`warning: ${m}`),
    });
    for (const f of outputs) await writer.write(f);
    encoder = (await writer.close()).encoder;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const encode = timing(outputs.length, performance.now() - t0);
  log(`encode (${encoder}): ${encode.fps} fps`);
  // End to end, one frame at a time through all three, is bounded by the slowest stage.
  const serialFps = 1 / (1 / decode.fps + 1 / stylize.fps + 1 / encode.fps);
  const result = {
    input,
    style: options.style,
    width,
    height,
    decode,
    stylize,
    encode,
    encoder,
    serialFps: Number(serialFps.toFixed(1)),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  if (options.json) process.stdout.write(`${JSON.stringify({ event: 'done', ...result })}\n`);
  else {
    process.stdout.write(
      `${options.style} on ${width}x${height}, ${inputs.length} frames: decode ${decode.fps} fps, stylize ${stylize.fps} fps, ` +
        `encode ${encode.fps} fps (${encoder}); all three in series ${result.serialFps} fps; peak memory ${result.peakRssMiB} MiB.\n`,
    );
  }
}

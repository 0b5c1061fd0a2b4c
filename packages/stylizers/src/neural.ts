// @framecraft/stylizers/neural — the ONNX style: importing this subpath (not the package root)
// loads @framecraft/ml and registers the `neural` style.
import { existsSync } from 'node:fs';
import { createFrame, type Frame, FramecraftError, invalidRangeError, withTimingOf } from '@framecraft/core';
import {
  cudaSupport,
  downscaleArea,
  guidedUpsample,
  OnnxSession,
  parseModelRef,
  runTiled,
  scaledSize,
  type TensorLayout,
  ZOO_LAYOUT,
} from '@framecraft/ml';
import { mosaic } from '@framecraft/model-mosaic';
import * as v from 'valibot';
import type { StylizersErrorCode } from './errors.ts';
import { registerStylizer } from './registry.ts';
import type { ReducedPainting, Stylizer, StylizerDevice, StylizerInstance } from './stylizer.ts';

/** Options of the neural style, with defaults filled in. */
export interface NeuralOptions {
  /** Path of the .onnx model. */
  readonly model: string;
  readonly tile: number;
  readonly overlap: number;
  /** Style scale: the model runs on the frame reduced to this fraction of each side. */
  readonly scale: number;
  readonly provider: 'auto' | 'cpu' | 'cuda';
  readonly layout: TensorLayout['layout'];
  readonly channels: TensorLayout['channels'];
  readonly range: TensorLayout['range'];
}

/** Options as given. */
export type NeuralOptionsInput = { readonly [K in keyof NeuralOptions]?: NeuralOptions[K] | undefined };

const options: v.GenericSchema<NeuralOptionsInput, NeuralOptions> = v.object({
  /**
   * The ONNX model: a file (an image-to-image style model, same size out as in), or the name of a
   * registered model, which the pipeline, the CLI and the studio resolve; `mosaic`, the built-in
   * model, by default (a name this style also finds itself).
   */
  model: v.optional(v.pipe(v.string('a model path or name'), v.minLength(1)), mosaic.name),
  /** Tile side for inference; 512 by default. */
  tile: v.optional(v.pipe(v.number(), v.integer(), v.minValue(64), v.maxValue(4096)), 512),
  /** Overlap between tiles, feathered; 32 by default. */
  overlap: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(256)), 32),
  /**
   * Style scale in [0.125, 1], 1 by default: below 1 the model paints the frame reduced to this
   * fraction of each side and the result is upsampled guided by the full-size frame (joint
   * bilateral correction of a cubic upsample), so strokes keep their size relative to the frame
   * at any resolution and a 1080p frame at 0.5 costs what 540p costs. Tiles are in pixels of the
   * reduced frame.
   */
  scale: v.optional(v.pipe(v.number(), v.minValue(0.125), v.maxValue(1)), 1),
  /** Execution provider: `auto` (CUDA when it loads, else CPU), `cpu`, `cuda`. */
  provider: v.optional(v.picklist(['auto', 'cpu', 'cuda']), 'auto'),
  /** The model's tensor layout, channel order and range (the zoo's NCHW RGB 0–255 by default). */
  layout: v.optional(v.picklist(['nchw', 'nhwc']), ZOO_LAYOUT.layout),
  channels: v.optional(v.picklist(['rgb', 'bgr']), ZOO_LAYOUT.channels),
  range: v.optional(v.union([v.literal(255), v.literal(1)]), ZOO_LAYOUT.range),
});

/** Raised when the model file does not exist. */
export class ModelNotFoundError extends FramecraftError<StylizersErrorCode> {
  /** @param path - The missing model. */
  constructor(path: string) {
    super('ERR_MODEL_NOT_FOUND', `Model ${path} not found`);
    this.name = 'ModelNotFoundError';
  }
}

/** The model file an option names: a file as it is, a built-in model's name as its file, else null. */
function modelFile(model: string): string | null {
  if (existsSync(model)) return model;
  return model === mosaic.name ? mosaic.path : null;
}

/**
 * Fast neural style transfer with an ONNX model (Johnson et al. TransformerNet and the like),
 * run through @framecraft/ml in tiles with feathered overlap; CUDA when it loads, else CPU.
 */
export const neural: Stylizer<typeof options> = {
  name: 'neural',
  description: 'Neural style transfer with an ONNX model, tiled with feathered overlap.',
  options,
  inputFormat: 'rgb24',
  // Per-frame neural output flickers: on flower at 320x180 (mosaic), EMA 0.85 with motion
  // threshold 128 plus deflicker halves the frame-difference score (0.45x) at SSIM 0.96 to the
  // unsmoothed frames; the classic defaults (0.5 / 24) only reach 0.87x (bench/neural.ts).
  temporal: { mode: 'flow', strength: 0.85, motionThreshold: 128, deflicker: true },
  presets: {
    speed: { tile: 256, overlap: 16 },
    balanced: {},
    quality: { tile: 1024, overlap: 64 },
  },
  prefersGpu: (o): boolean => o.provider !== 'cpu',
  resources: {
    // A file of that name wins over a registered model of the same name.
    model: (o) => (existsSync(o.model) ? null : parseModelRef(o.model)),
    withModel: (o, { manifest: m, path }) => ({
      ...o,
      model: path,
      layout: m.layout,
      channels: m.channels,
      range: m.range,
    }),
    files: (o) => (existsSync(o.model) ? [o.model] : []),
  },
  async device(o): Promise<StylizerDevice> {
    if (o.provider === 'cpu') return { device: 'cpu', reason: 'asked for CPU' };
    const cuda = cudaSupport();
    if (!cuda.available) return { device: 'cpu', reason: `no CUDA: ${cuda.reason}` };
    const file = modelFile(o.model);
    if (file === null) return { device: 'cpu', reason: `no model at ${o.model}` };
    // The same choice create() makes: CUDA when it loads with this model, else the CPU.
    const session = await OnnxSession.create(file, { provider: o.provider });
    const answer: StylizerDevice = {
      device: session.provider === 'cuda' ? 'gpu' : 'cpu',
      reason: session.providerReason,
    };
    await session.close();
    return answer;
  },
  async create(o, context): Promise<StylizerInstance> {
    const { width, height } = context;
    const file = modelFile(o.model);
    if (file === null) throw new ModelNotFoundError(o.model);
    // Where CUDA may run the model, it runs on a thread of its own and calls overlap (`concurrent`
    // below): onnxruntime-node computes on the calling thread, which the pipeline needs meanwhile
    // for decoding and encoding while the GPU works. On the CPU the model already keeps every core
    // it is given busy, so overlapping only moved work around: 720p at scale 0.5 (int8, 603
    // frames) rendered at 3.1 fps with one chunk worker either way, and 3.9 instead of 4.1 fps
    // with two.
    const session = await OnnxSession.create(file, {
      provider: o.provider,
      thread: o.provider !== 'cpu' && cudaSupport().available,
      ...(context.threads !== undefined && { threads: context.threads }),
    });
    const layout: TensorLayout = { layout: o.layout, channels: o.channels, range: o.range };
    const tiles = { tile: o.tile, overlap: Math.min(o.overlap, (o.tile >> 1) - 1), layout };
    const small = scaledSize(width, height, o.scale);
    const scaled = small.width < width || small.height < height;
    let disposed = false;
    const check = (frame: Frame): void => {
      if (disposed) throw new Error('neural stylizer used after dispose()');
      if (frame.width !== width || frame.height !== height || frame.format !== 'rgb24') {
        throw invalidRangeError(
          `a ${width}x${height} frame in rgb24`,
          'frame',
          `${frame.format} ${frame.width}x${frame.height}`,
        );
      }
    };
    // The style's output is full-range RGB whatever the input's tags.
    const tagged = (out: Frame, frame: Frame): Frame =>
      withTimingOf({ ...out, color: { ...frame.color, range: 'full', matrix: 'rgb' } }, frame);
    const reduced: ReducedPainting = {
      ...small,
      async paint(frame, into, styled) {
        check(frame);
        downscaleArea(frame, small.width, small.height, into);
        await runTiled(session, into, tiles, styled);
      },
      upsample: (styled, from, frame, out) => tagged(guidedUpsample(styled, from, frame, {}, out), frame),
    };
    // runTiled's own scale does what paint then upsample do (the same reduction, tiles, upsample).
    const processInto = async (frame: Frame, out: Frame): Promise<Frame> => {
      check(frame);
      return tagged(await runTiled(session, frame, { ...tiles, scale: o.scale }, out), frame);
    };
    return {
      outputFormat: 'rgb24',
      stateful: false,
      concurrent: session.threaded,
      ...(scaled && { reduced }),
      process: (frame) => processInto(frame, createFrame({ width, height, format: 'rgb24' })),
      processInto,
      dispose() {
        if (disposed) return;
        disposed = true;
        void session.close();
      },
    };
  },
};

registerStylizer(neural);

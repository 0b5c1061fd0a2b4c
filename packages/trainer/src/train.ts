import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { createFrame, type Frame } from '@framecraft/core';
import { lumaOf, ssim, temporalConsistency } from '@framecraft/metrics';
import {
  checkModelName,
  type ModelManifest,
  type ModelRegistry,
  OnnxSession,
  runTiled,
} from '@framecraft/ml';
import { issueText } from '@framecraft/stylizers';
import * as v from 'valibot';
import { prepareDataset, splitByShot, type TrainingPair } from './dataset.ts';
import { TrainerError } from './errors.ts';
import { type ScriptEvent, type TrainConfig, TrainConfigSchema } from './protocol.ts';
import { findTorch, runScript, type TorchInfo } from './python.ts';
import { quantizeRegistered } from './quantize.ts';

/** An RGB student's shape: channel widths at full, ½ and ¼ resolution, residual blocks, first/last kernel, normalisation. */
export interface RgbStudentArch {
  readonly kind?: 'rgb';
  readonly widths: readonly [number, number, number];
  readonly blocks: number;
  readonly edge: number;
  /** `none` (students: absolute colours kept) or `instance` (TransformerNet). */
  readonly norm?: 'none' | 'instance';
}

/**
 * A flat-ink student's shape (for styles drawn in a few flat colours with ink lines): channel
 * widths of its palette network at ½, ¼ and ⅛ resolution, residual blocks, palette entries, and
 * its full-resolution ink branch (first kernel, then the widths of its 3×3 layers).
 */
export interface FlatInkStudentArch {
  readonly kind: 'flat-ink';
  readonly widths: readonly [number, number, number];
  readonly blocks: number;
  readonly colors: number;
  readonly fine: readonly [number, readonly number[]];
}

/** A student network's shape. */
export type StudentArch = RgbStudentArch | FlatInkStudentArch;

/** Options of {@link trainModel}. */
export interface TrainOptions {
  /** Input/target pairs (see `pairsFromFolder`, `FeedbackLog.approvedPairs`, `pairsFromStyle`). */
  readonly pairs: readonly TrainingPair[];
  /** `finetune` a TransformerNet-style ONNX model (`base`), or train a small `student` from scratch. */
  readonly mode: 'finetune' | 'student';
  /** The ONNX model to fine-tune. */
  readonly base?: string;
  /** The run folder: dataset, checkpoints, exported model. A rerun with the same settings resumes. */
  readonly workDir: string;
  /** Optimiser steps; 300 for fine-tuning, 3000 for a student (under 4 minutes on two cores at 128² crops) by default. */
  readonly steps?: number;
  /** Pairs per step; 4 by default. */
  readonly batch?: number;
  /** Side of the random training crops (a multiple of 4, at most the smallest image); 128 by default. */
  readonly crop?: number;
  /** Adam learning rate; 1e-4 for fine-tuning, 2e-3 for a student by default. */
  readonly lr?: number;
  /**
   * Loss: `mse` (fine-tuning's default), `l1`, or `ssim` (students' default) — 0.84 × (1 − SSIM
   * of luma) + 0.16 × L1 (Zhao et al. 2017), which trades a little colour accuracy for the
   * structure SSIM scores.
   */
  readonly loss?: 'mse' | 'l1' | 'ssim';
  /** Learning rate over the run: `cosine` decay to 2 % (students' default) or `constant` (fine-tuning's). */
  readonly lrSchedule?: 'constant' | 'cosine';
  /** Weight of the temporal frame-difference term on consecutive pairs of one shot; 0 (off) by default. */
  readonly temporalWeight?: number;
  /** Validate every N steps (25 by default); stop after `patience` validations without a relative gain of `minDelta`. */
  readonly validateEvery?: number;
  readonly patience?: number;
  readonly minDelta?: number;
  readonly checkpointEvery?: number;
  readonly logEvery?: number;
  /** Random scale range applied before cropping; [0.8, 1.2] by default. */
  readonly scaleJitter?: readonly [number, number];
  readonly flips?: boolean;
  readonly seed?: number;
  /** Share of pairs (whole shots) held out for validation; 0.2 by default. */
  readonly validationShare?: number;
  /**
   * Longest image side kept in the dataset: 512 for fine-tuning, 1920 for students by default (a
   * student learns a style at the scale it renders: a cartoon's one-pixel outlines do not survive
   * scaling).
   */
  readonly maxSide?: number;
  /**
   * A student's network. By default the script looks at the targets: drawn in a few flat colours
   * (in three targets of four, 33 colours cover 99.5 % of the pixels and half the pixels off the
   * commonest colour lie inside a region of their colour) they get the flat-ink student, anything
   * else the RGB one (`widths` 8/16/48, 2 blocks, 5×5 edges).
   */
  readonly arch?: StudentArch;
  /** PyTorch CPU threads; the machine's parallelism by default. */
  readonly threads?: number;
  readonly device?: 'auto' | 'cpu' | 'cuda';
  /** A Python with PyTorch (default: FRAMECRAFT_PYTHON, python3, /usr/bin/python3). */
  readonly python?: string;
  /** Register the result: in this registry under this name; promote per `promote`. */
  readonly register?: {
    readonly registry: ModelRegistry;
    readonly name: string;
    readonly description?: string;
    /** `auto` (default): only when it does not regress against the promoted model on the held-out pairs; `always`; `never`. */
    readonly promote?: 'auto' | 'always' | 'never';
    /**
     * Also make an int8 version of the registered model, calibrated on these clips (see
     * `quantizeRegistered`); it is promoted when the float version was and it holds the bounds.
     */
    readonly quantize?: { readonly clips: readonly string[] };
  };
  readonly signal?: AbortSignal;
}

/** Quality of a model on the held-out pairs (ONNX Runtime, whole frames). */
export interface HeldOutMetrics {
  /** Mean squared error to the targets, RGB on the 0–255 scale. */
  readonly mse: number;
  /** Mean SSIM (luma, Gaussian) to the targets. */
  readonly ssim: number;
  /** Mean temporal consistency over consecutive held-out pairs of one shot (lower is steadier); null without such pairs. */
  readonly temporal: number | null;
  readonly pairs: number;
}

/** Progress of {@link trainModel}, in order. */
export type TrainEvent =
  | { readonly type: 'environment'; readonly torch: TorchInfo }
  | {
      readonly type: 'dataset';
      readonly train: number;
      readonly validation: number;
      readonly warning: string | null;
    }
  /** The script's progress while training, as it reports it. */
  | Extract<
      ScriptEvent,
      { type: 'resumed' | 'step' | 'validation' | 'checkpoint' | 'early-stop' | 'palette' }
    >
  | {
      readonly type: 'trained';
      readonly steps: number;
      readonly bestLoss: number | null;
      readonly bestStep: number | null;
      readonly stoppedEarly: boolean;
      readonly device: string;
      /** The network trained (for a student, the one chosen from the targets unless `arch` was given). */
      readonly arch: StudentArch | Readonly<Record<string, unknown>>;
    }
  | {
      readonly type: 'exported';
      readonly model: string;
      /** Largest |ONNX Runtime − PyTorch float64| on a held-out input, 0–255 scale. */
      readonly maxAbsError: number;
      /** The same for PyTorch's own float32 result. */
      readonly torchFloat32Error: number;
      readonly tolerance: number;
    }
  | {
      readonly type: 'evaluated';
      readonly candidate: HeldOutMetrics | null;
      readonly current: HeldOutMetrics | null;
      readonly currentVersion: string | null;
    }
  | { readonly type: 'registered'; readonly manifest: ModelManifest }
  | {
      readonly type: 'promoted' | 'kept';
      readonly name: string;
      readonly version: string;
      readonly reason: string;
    }
  | {
      readonly type: 'quantized';
      readonly manifest: ModelManifest;
      readonly promoted: boolean;
      readonly reason: string;
    }
  /** No int8 version: the model's graph cannot be rewritten, or none keeps the quality bounds. */
  | { readonly type: 'quantize-skipped'; readonly reason: string };

/**
 * Largest difference allowed between ONNX Runtime's output and PyTorch's float64 reference, 0–255
 * scale (raised to {@link PARITY_FLOAT32_FACTOR} × PyTorch's own float32 error where that is larger).
 */
export const PARITY_TOLERANCE = 1e-3;

/** How many times PyTorch's own float32 error ONNX Runtime may show (see {@link trainModel}). */
export const PARITY_FLOAT32_FACTOR = 4;

/**
 * Train a style model and hand it over: prepare the dataset (split by shot), run the PyTorch script
 * (resuming a run folder written with the same settings), export ONNX, check it in ONNX Runtime
 * against PyTorch's output, score it on the held-out pairs next to the promoted model, register it
 * and promote it unless it regresses. Yields progress as it goes.
 *
 * @param options - Pairs, mode, hyper-parameters, registry.
 * @throws {TrainerEnvironmentError} Without Python or PyTorch.
 * @throws {FramecraftError} `ERR_DATASET`, `ERR_BASE_MODEL`, `ERR_RESUME_MISMATCH`,
 *   `ERR_EXPORT_PARITY`, `ERR_TRAINER_SCRIPT`.
 */
export async function* trainModel(options: TrainOptions): AsyncGenerator<TrainEvent> {
  // A name the registry would refuse fails now, not after the training it would have wasted.
  if (options.register !== undefined) checkModelName(options.register.name);
  const torch = await findTorch(options.python);
  yield { type: 'environment', torch };
  if (options.mode === 'finetune' && (options.base === undefined || !existsSync(options.base)))
    throw new TrainerError(
      'ERR_BASE_MODEL',
      `fine-tuning needs a base model file; ${options.base ?? 'none'} was given`,
    );
  if (options.pairs.length === 0) throw new TrainerError('ERR_DATASET', 'no training pairs');
  const work = resolve(options.workDir);
  await mkdir(work, { recursive: true });
  const student = options.mode === 'student';
  const split = splitByShot(options.pairs, {
    ...(options.validationShare !== undefined && { share: options.validationShare }),
    seed: options.seed ?? 1,
  });
  const datasetDir = join(work, 'dataset');
  await prepareDataset(split, datasetDir, { maxSide: options.maxSide ?? (student ? 1920 : 512) });
  yield {
    type: 'dataset',
    train: split.train.length,
    validation: split.validation.length,
    warning: split.warning,
  };

  const config: TrainConfig = {
    mode: options.mode,
    base: options.base === undefined ? null : resolve(options.base),
    arch: options.arch === undefined ? null : { ...options.arch },
    dataset: datasetDir,
    out: work,
    steps: options.steps ?? (student ? 3000 : 300),
    batch: options.batch ?? 4,
    crop: options.crop ?? 128,
    lr: options.lr ?? (student ? 2e-3 : 1e-4),
    loss: options.loss ?? (student ? 'ssim' : 'mse'),
    lrSchedule: options.lrSchedule ?? (student ? 'cosine' : 'constant'),
    temporalWeight: options.temporalWeight ?? 0,
    validateEvery: options.validateEvery ?? 25,
    patience: options.patience ?? 5,
    minDelta: options.minDelta ?? 0.002,
    checkpointEvery: options.checkpointEvery ?? 25,
    logEvery: options.logEvery ?? 5,
    scaleJitter: options.scaleJitter === undefined ? [0.8, 1.2] : [...options.scaleJitter],
    flips: options.flips ?? true,
    seed: options.seed ?? 1,
    threads: options.threads ?? availableParallelism(),
    device: options.device ?? 'auto',
    resume: true,
    // What the dataset holds, so a changed dataset is a changed run.
    pairs: options.pairs.map((p) => [p.id, p.shot]),
  };
  const checked = v.safeParse(TrainConfigSchema, config);
  if (!checked.success)
    throw new TrainerError(
      'ERR_TRAINER_CONFIG',
      checked.issues.map((i) => issueText(i, '(config)')).join('; '),
    );
  const configFile = join(work, 'config.json');
  await writeFile(configFile, `${JSON.stringify(config, null, 2)}\n`);
  const run = { python: torch.python, threads: config.threads, signal: options.signal };
  for await (const e of runScript(['train', '--config', configFile], run)) {
    switch (e.type) {
      case 'done': {
        const { type: _done, ...result } = e;
        yield { type: 'trained', ...result };
        break;
      }
      case 'resumed':
      case 'palette':
      case 'step':
      case 'validation':
      case 'checkpoint':
      case 'early-stop':
        yield e;
        break;
      default:
        // probe, init and export belong to other commands; error ends the run in runScript.
        break;
    }
  }

  const model = join(work, 'model.onnx');
  const exported: Extract<ScriptEvent, { type: 'export' }>['reference'][] = [];
  for await (const e of runScript(['export', '--run', work, '--out', model, '--dataset', datasetDir], run))
    if (e.type === 'export') exported.push(e.reference);
  const reference = exported[0];
  if (reference === undefined)
    throw new TrainerError('ERR_TRAINER_SCRIPT', 'the export reported no reference pair');
  const maxAbsError = await parity(
    model,
    join(work, reference.input),
    join(work, reference.output),
    reference.shape,
  );
  // 1e-3 on the 0–255 scale, or four times PyTorch's own float32 error where that is larger: two
  // float32 implementations summing in different orders both miss the exact (float64) result.
  // Measured: a student with instance norm, ONNX Runtime 1.05e-3 against PyTorch's 2.9e-4 (3.7x);
  // TransformerNet 3.9e-3 against 7.8e-3; today's students (no norm) 7e-5 to 1.2e-4. An export bug
  // shows up as errors of whole code values.
  const tolerance = Math.max(PARITY_TOLERANCE, PARITY_FLOAT32_FACTOR * reference.torchFloat32Error);
  if (!(maxAbsError <= tolerance))
    throw new TrainerError(
      'ERR_EXPORT_PARITY',
      `${model}: ONNX Runtime's output is up to ${maxAbsError.toExponential(2)} from PyTorch's float64 reference (tolerance ${tolerance.toExponential(2)} on 0-255; PyTorch's own float32 error ${reference.torchFloat32Error.toExponential(2)}); not registered`,
    );
  yield { type: 'exported', model, maxAbsError, torchFloat32Error: reference.torchFloat32Error, tolerance };

  const reg = options.register;
  if (reg === undefined) return;
  const current = await reg.registry.resolve(reg.name).catch(() => null);
  const held = await readHeldOut(datasetDir);
  const candidateMetrics = held.length > 0 ? await evaluate(model, held) : null;
  const currentMetrics = held.length > 0 && current !== null ? await evaluate(current.path, held) : null;
  yield {
    type: 'evaluated',
    candidate: candidateMetrics,
    current: currentMetrics,
    currentVersion: current?.manifest.version ?? null,
  };
  const manifest = await reg.registry.add(model, {
    name: reg.name,
    description: reg.description ?? `${options.mode === 'student' ? 'student' : 'fine-tuned'} model`,
    source: model,
    ...(candidateMetrics !== null && {
      metrics: {
        heldOutMse: candidateMetrics.mse,
        heldOutSsim: candidateMetrics.ssim,
        temporal: candidateMetrics.temporal,
      },
    }),
    training: {
      mode: options.mode,
      base: config.base,
      steps: config.steps,
      pairs: options.pairs.length,
      validation: split.validation.length,
      maxAbsError,
      torchFloat32Error: reference.torchFloat32Error,
    },
  });
  yield { type: 'registered', manifest };
  const policy = reg.promote ?? 'auto';
  let promote: boolean;
  let reason: string;
  if (policy === 'never') [promote, reason] = [false, 'promotion turned off'];
  else if (policy === 'always') [promote, reason] = [true, 'promotion forced'];
  else if (current === null) [promote, reason] = [true, `first model named ${reg.name}`];
  else if (candidateMetrics === null || currentMetrics === null)
    [promote, reason] = [false, 'no held-out pairs to compare on (all pairs are from one shot)'];
  else if (candidateMetrics.mse <= currentMetrics.mse)
    [promote, reason] = [
      true,
      `held-out MSE ${candidateMetrics.mse.toFixed(2)} vs ${currentMetrics.mse.toFixed(2)} (${current.manifest.version})`,
    ];
  else
    [promote, reason] = [
      false,
      `regresses: held-out MSE ${candidateMetrics.mse.toFixed(2)} vs ${currentMetrics.mse.toFixed(2)} (${current.manifest.version})`,
    ];
  if (promote) await reg.registry.promote(reg.name, manifest.version, reason);
  else if (current !== null && (await reg.registry.promoted(reg.name)) === null)
    // Keep renders on the model they had: without a promotion record, the new version would win as the newest.
    await reg.registry.promote(
      reg.name,
      current.manifest.version,
      `kept over ${manifest.version}: ${reason}`,
    );
  yield { type: promote ? 'promoted' : 'kept', name: reg.name, version: manifest.version, reason };
  if (reg.quantize === undefined) return;
  try {
    const q = await quantizeRegistered({
      registry: reg.registry,
      model: `${reg.name}@${manifest.version}`,
      clips: reg.quantize.clips,
      promote: promote ? 'auto' : 'never',
    });
    yield { type: 'quantized', ...q };
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'ERR_QUANTIZE_QUALITY' && code !== 'ERR_MODEL_REWRITE') throw err;
    yield { type: 'quantize-skipped', reason: (err as Error).message };
  }
}

/** Largest |ONNX Runtime − PyTorch float64| over the reference pair the export wrote. */
async function parity(
  model: string,
  inputFile: string,
  outputFile: string,
  shape: readonly number[],
): Promise<number> {
  const bytes = async (file: string): Promise<ArrayBuffer> => {
    const b = await readFile(file);
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  };
  const session = await OnnxSession.create(model, { provider: 'cpu' });
  try {
    const { data } = await session.run(new Float32Array(await bytes(inputFile)), shape);
    const expected = new Float64Array(await bytes(outputFile));
    if (data.length !== expected.length) return Number.POSITIVE_INFINITY;
    let max = 0;
    for (let i = 0; i < data.length; i++) max = Math.max(max, Math.abs(data[i]! - expected[i]!));
    return max;
  } finally {
    await session.close();
  }
}

interface HeldOutPair {
  readonly id: string;
  readonly prev: string | null;
  readonly input: Frame;
  readonly target: Frame;
}

async function readHeldOut(datasetDir: string): Promise<HeldOutPair[]> {
  const index = JSON.parse(await readFile(join(datasetDir, 'index.json'), 'utf8')) as {
    pairs: {
      id: string;
      split: string;
      width: number;
      height: number;
      input: string;
      target: string;
      prev: string | null;
    }[];
  };
  const out: HeldOutPair[] = [];
  for (const p of index.pairs.filter((q) => q.split === 'validation')) {
    const frame = async (file: string): Promise<Frame> => {
      const f = createFrame({ width: p.width, height: p.height, format: 'rgb24' });
      (f.planes[0]!.data as Uint8Array).set(await readFile(join(datasetDir, file)));
      return f;
    };
    out.push({ id: p.id, prev: p.prev, input: await frame(p.input), target: await frame(p.target) });
  }
  return out;
}

/**
 * Score an ONNX style model on held-out pairs through ONNX Runtime (whole frames, tiled as renders
 * are): MSE and SSIM to the targets, temporal consistency over consecutive pairs.
 */
async function evaluate(model: string, pairs: readonly HeldOutPair[]): Promise<HeldOutMetrics> {
  const session = await OnnxSession.create(model, { provider: 'cpu' });
  try {
    let se = 0;
    let n = 0;
    let sim = 0;
    let temporal = 0;
    let steps = 0;
    const outputs = new Map<string, Frame>();
    for (const p of pairs) {
      const out = await runTiled(session, p.input);
      outputs.set(p.id, out);
      const a = out.planes[0]!.data as Uint8Array;
      const b = p.target.planes[0]!.data as Uint8Array;
      for (let i = 0; i < a.length; i++) se += (a[i]! - b[i]!) ** 2;
      n += a.length;
      sim += ssim(lumaOf(p.target), lumaOf(out));
      const prev = p.prev === null ? undefined : pairs.find((q) => q.id === p.prev);
      const prevOut = p.prev === null ? undefined : outputs.get(p.prev);
      if (prev !== undefined && prevOut !== undefined) {
        temporal += temporalConsistency(lumaOf(prevOut), lumaOf(out), lumaOf(prev.input), lumaOf(p.input));
        steps++;
      }
    }
    return {
      mse: se / n,
      ssim: sim / pairs.length,
      temporal: steps > 0 ? temporal / steps : null,
      pairs: pairs.length,
    };
  } finally {
    await session.close();
  }
}

/** Options of {@link initModel}. */
export interface InitModelOptions {
  /** `transformer` (TransformerNet, instance norm) or `student` (small, no normalisation). */
  readonly arch: 'transformer' | 'student';
  readonly out: string;
  /** Channel widths at full, ½ and ¼ resolution (defaults: 32,64,128 / 8,16,48). */
  readonly widths?: readonly [number, number, number];
  readonly blocks?: number;
  readonly seed?: number;
  readonly python?: string;
}

/**
 * Write a freshly initialised network as ONNX (the zoo layout: NCHW RGB 0–255): a starting point
 * to fine-tune, or a model to try the pipeline with.
 *
 * @returns The architecture and its parameter count.
 */
export async function initModel(
  o: InitModelOptions,
): Promise<{ arch: Record<string, unknown>; parameters: number }> {
  const torch = await findTorch(o.python);
  const args = ['init', '--arch', o.arch, '--out', resolve(o.out), '--seed', String(o.seed ?? 1)];
  if (o.widths !== undefined) args.push('--widths', o.widths.join(','));
  if (o.blocks !== undefined) args.push('--blocks', String(o.blocks));
  for await (const e of runScript(args, { python: torch.python, threads: 1 }))
    if (e.type === 'init') return { arch: e.arch, parameters: e.parameters };
  throw new TrainerError('ERR_TRAINER_SCRIPT', 'init reported nothing');
}

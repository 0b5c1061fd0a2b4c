/**
 * The protocol between Framecraft and its PyTorch script (`python/framecraft_train.py`): the
 * training config Framecraft writes and the script reads (`train --config <file>`), and the JSON
 * lines the script writes on stdout, one event each. Both are valibot schemas, the one source of
 * truth: Framecraft checks the config before writing it and every event line as it arrives; the
 * script checks the config against `python/train-config.schema.json`, the JSON Schema generated
 * from {@link TrainConfigSchema} (a test keeps the two equal).
 */
import { issueText } from '@framecraft/stylizers';
import * as v from 'valibot';

const Count = v.pipe(v.number(), v.integer(), v.minValue(1));
const Int = v.pipe(v.number(), v.integer());
const Rgb = v.tuple([v.number(), v.number(), v.number()]);
/** A network's architecture as the script describes it (kind, widths, blocks, …). */
const ArchSchema = v.record(v.string(), v.unknown());

/** The training config (`train --config`); the fields are described in {@link TrainOptions}. */
export interface TrainConfig {
  readonly mode: 'finetune' | 'student';
  /** The ONNX model to fine-tune (absolute path), or null for a student. */
  readonly base: string | null;
  /** The student's architecture, or null to let the script choose. */
  readonly arch: Readonly<Record<string, unknown>> | null;
  /** The prepared dataset folder. */
  readonly dataset: string;
  /** The run folder. */
  readonly out: string;
  readonly steps: number;
  readonly batch: number;
  readonly crop: number;
  readonly lr: number;
  readonly loss: 'mse' | 'l1' | 'ssim';
  readonly lrSchedule: 'constant' | 'cosine';
  readonly temporalWeight: number;
  readonly validateEvery: number;
  readonly patience: number;
  readonly minDelta: number;
  readonly checkpointEvery: number;
  readonly logEvery: number;
  readonly scaleJitter: readonly [number, number];
  readonly flips: boolean;
  readonly seed: number;
  readonly threads: number;
  readonly device: 'auto' | 'cpu' | 'cuda';
  /** Continue from the run folder's checkpoint when it was written with the same settings. */
  readonly resume: boolean;
  /** What the dataset holds, [id, shot] per pair, so a changed dataset is a changed run. */
  readonly pairs: readonly (readonly [string, string])[];
}

/** The training config's schema (`train --config`). */
export const TrainConfigSchema: v.GenericSchema<TrainConfig> = v.strictObject({
  mode: v.picklist(['finetune', 'student']),
  /** The ONNX model to fine-tune (absolute path), or null for a student. */
  base: v.nullable(v.string()),
  /** The student's architecture, or null to let the script choose. */
  arch: v.nullable(ArchSchema),
  /** The prepared dataset folder and the run folder. */
  dataset: v.string(),
  out: v.string(),
  steps: Count,
  batch: Count,
  crop: v.pipe(v.number(), v.integer(), v.minValue(8)),
  lr: v.pipe(v.number(), v.minValue(0)),
  loss: v.picklist(['mse', 'l1', 'ssim']),
  lrSchedule: v.picklist(['constant', 'cosine']),
  temporalWeight: v.pipe(v.number(), v.minValue(0)),
  validateEvery: Count,
  patience: Count,
  minDelta: v.pipe(v.number(), v.minValue(0)),
  checkpointEvery: Count,
  logEvery: Count,
  scaleJitter: v.tuple([v.pipe(v.number(), v.gtValue(0)), v.pipe(v.number(), v.gtValue(0))]),
  flips: v.boolean(),
  seed: Int,
  threads: Count,
  device: v.picklist(['auto', 'cpu', 'cuda']),
  /** Continue from the run folder's checkpoint when it was written with the same settings. */
  resume: v.boolean(),
  /** What the dataset holds, [id, shot] per pair, so a changed dataset is a changed run. */
  pairs: v.array(v.tuple([v.string(), v.string()])),
});

/** Codes the script reports in an `error` event. */
export const SCRIPT_ERROR_CODES = [
  'ERR_TORCH_MISSING',
  'ERR_ONNX_MISSING',
  'ERR_BASE_MODEL',
  'ERR_DATASET',
  'ERR_NO_CUDA',
  'ERR_RESUME_MISMATCH',
  'ERR_TRAINER_CONFIG',
  'ERR_TRAINER_SCRIPT',
] as const;

/** A code the script reports (each one of the trainer's own: `runScript` raises it as such). */
export type ScriptErrorCode = (typeof SCRIPT_ERROR_CODES)[number];

type Arch = Readonly<Record<string, unknown>>;

/** One line the script writes: an event of one of its commands. */
export type ScriptEvent =
  /** `probe`: the interpreter and its PyTorch. */
  | {
      readonly type: 'probe';
      readonly python: string;
      readonly pythonVersion: string;
      readonly torch: string;
      readonly cuda: boolean;
      readonly onnx: string | null;
    }
  /** `init`: a fresh student written as ONNX. */
  | { readonly type: 'init'; readonly out: string; readonly arch: Arch; readonly parameters: number }
  /** `train`: progress, then `done`. */
  | { readonly type: 'resumed'; readonly step: number }
  | {
      /** A flat-ink student's starting palette, fitted to the targets' colours (0–255), and its ink colour. */
      readonly type: 'palette';
      readonly colors: readonly (readonly [number, number, number])[];
      readonly ink: readonly [number, number, number] | null;
    }
  | {
      readonly type: 'step';
      readonly step: number;
      readonly steps: number;
      readonly loss: number;
      readonly seconds: number;
    }
  | {
      readonly type: 'validation';
      readonly step: number;
      readonly loss: number | null;
      readonly best: boolean;
    }
  | { readonly type: 'checkpoint'; readonly step: number }
  | {
      readonly type: 'early-stop';
      readonly step: number;
      readonly bestStep: number;
      readonly patience: number;
    }
  | {
      readonly type: 'done';
      readonly steps: number;
      readonly bestLoss: number | null;
      readonly bestStep: number | null;
      readonly stoppedEarly: boolean;
      readonly device: string;
      readonly arch: Arch;
    }
  /** `export`: the ONNX file and a reference pair for the parity check. */
  | {
      readonly type: 'export';
      readonly out: string;
      readonly step: number;
      readonly loss: number | null;
      readonly arch: Arch;
      readonly reference: {
        readonly input: string;
        readonly output: string;
        readonly shape: readonly number[];
        readonly torchFloat32Error: number;
      };
    }
  /** Any command: what failed; the script then exits non-zero. */
  | {
      readonly type: 'error';
      readonly code: ScriptErrorCode;
      readonly message: string;
      readonly traceback?: string | undefined;
    };

const event = <T extends string, E extends v.ObjectEntries>(type: T, entries: E) =>
  v.object({ type: v.literal(type), ...entries });

/** The schema of one line the script writes. */
export const ScriptEventSchema: v.GenericSchema<ScriptEvent> = v.variant('type', [
  event('probe', {
    python: v.string(),
    pythonVersion: v.string(),
    torch: v.string(),
    cuda: v.boolean(),
    onnx: v.nullable(v.string()),
  }),
  event('init', { out: v.string(), arch: ArchSchema, parameters: Int }),
  event('resumed', { step: Int }),
  event('palette', { colors: v.array(Rgb), ink: v.nullable(Rgb) }),
  event('step', { step: Int, steps: Int, loss: v.number(), seconds: v.number() }),
  event('validation', { step: Int, loss: v.nullable(v.number()), best: v.boolean() }),
  event('checkpoint', { step: Int }),
  event('early-stop', { step: Int, bestStep: Int, patience: Int }),
  event('done', {
    steps: Int,
    bestLoss: v.nullable(v.number()),
    bestStep: v.nullable(Int),
    stoppedEarly: v.boolean(),
    device: v.string(),
    arch: ArchSchema,
  }),
  event('export', {
    out: v.string(),
    step: Int,
    loss: v.nullable(v.number()),
    arch: ArchSchema,
    reference: v.object({
      input: v.string(),
      output: v.string(),
      shape: v.array(Int),
      torchFloat32Error: v.number(),
    }),
  }),
  event('error', {
    code: v.picklist(SCRIPT_ERROR_CODES),
    message: v.string(),
    traceback: v.optional(v.string()),
  }),
]);

/**
 * Read one line the script wrote: an event, or the problems that make it not one.
 *
 * @param line - A JSON line.
 * @returns The event, or the problems in words.
 */
export function readScriptEvent(line: string): { event: ScriptEvent } | { problems: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return { problems: `not JSON (${(err as Error).message})` };
  }
  const parsed = v.safeParse(ScriptEventSchema, value);
  if (parsed.success) return { event: parsed.output };
  return {
    problems: parsed.issues.map((i) => issueText(i, '(event)')).join('; '),
  };
}

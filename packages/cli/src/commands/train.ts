import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { dataHome, modelRegistry } from '@framecraft/pipeline';
import {
  FeedbackLog,
  pairsFromFolder,
  pairsFromStyle,
  type TrainEvent,
  type TrainingPair,
  trainModel,
} from '@framecraft/trainer';
import { UsageError } from '../errors.ts';
import { parseStyleOptions } from '../style-flags.ts';

/** Options of `framecraft train`. */
export interface TrainCommandOptions {
  readonly pairs?: string;
  readonly fromFeedback?: boolean;
  readonly teacher?: string;
  readonly clip?: string;
  readonly keyframes?: number;
  readonly option?: readonly string[];
  readonly base?: string;
  readonly student?: boolean;
  readonly name: string;
  readonly steps?: number;
  readonly lr?: number;
  readonly batch?: number;
  readonly crop?: number;
  readonly loss?: 'mse' | 'l1' | 'ssim';
  readonly temporalWeight?: number;
  readonly validateEvery?: number;
  readonly patience?: number;
  readonly promote?: 'auto' | 'always' | 'never';
  readonly quantize?: readonly string[];
  readonly work?: string;
  readonly json?: boolean;
}

/** The feedback log in the data folder. */
export function feedbackLog(): FeedbackLog {
  return new FeedbackLog(join(dataHome(), 'feedback'));
}

async function pairsFor(o: TrainCommandOptions, work: string): Promise<TrainingPair[]> {
  const sources = [o.pairs !== undefined, o.fromFeedback === true, o.teacher !== undefined].filter(
    Boolean,
  ).length;
  if (sources !== 1)
    throw new UsageError(
      'ERR_USAGE',
      'give exactly one of --pairs <dir>, --from-feedback, --teacher <style>',
    );
  if (o.pairs !== undefined) return pairsFromFolder(resolve(o.pairs));
  if (o.fromFeedback === true) {
    const pairs = await feedbackLog().approvedPairs();
    if (pairs.length === 0)
      throw new UsageError(
        'ERR_USAGE',
        `no approved judgements in ${feedbackLog().file}; approve some in the style lab or with framecraft feedback approve`,
      );
    return pairs;
  }
  if (o.clip === undefined) throw new UsageError('ERR_USAGE', '--teacher needs --clip <video>');
  return pairsFromStyle({
    clip: resolve(o.clip),
    style: o.teacher!,
    options: parseStyleOptions(o.option ?? []),
    frames: o.keyframes ?? 8,
    dir: join(work, 'teacher-pairs'),
  });
}

function describe(e: TrainEvent): string | null {
  switch (e.type) {
    case 'environment':
      return `PyTorch ${e.torch.torch} (${e.torch.python}), ${e.torch.cuda ? 'CUDA' : 'CPU'}`;
    case 'dataset':
      return `pairs: ${e.train} training, ${e.validation} held out${e.warning ? ` (warning: ${e.warning})` : ''}`;
    case 'resumed':
      return `resuming at step ${e.step}`;
    case 'step':
      return `step ${e.step}/${e.steps}  loss ${e.loss.toFixed(5)}  ${e.seconds.toFixed(1)} s`;
    case 'validation':
      return `  validation loss ${e.loss?.toFixed(5)}${e.best ? '  (best)' : ''}`;
    case 'early-stop':
      return `stopped early at step ${e.step}: no gain in ${e.patience} validations (best at step ${e.bestStep})`;
    case 'palette':
      return `flat-ink student: ${e.colors.length} palette colours${e.ink ? `, ink rgb(${e.ink.join(', ')})` : ', no ink lines found'}`;
    case 'trained':
      return `trained ${e.steps} steps on ${e.device}${e.bestLoss !== null ? `, best validation loss ${e.bestLoss.toFixed(5)} at step ${e.bestStep}` : ''}`;
    case 'exported':
      return `exported ${e.model}: ONNX Runtime within ${e.maxAbsError.toExponential(2)} of PyTorch (float64 reference; tolerance ${e.tolerance.toExponential(2)})`;
    case 'evaluated':
      return e.candidate === null
        ? 'no held-out pairs to score on'
        : `held out: MSE ${e.candidate.mse.toFixed(2)}, SSIM ${e.candidate.ssim.toFixed(4)}${e.current ? `; current ${e.currentVersion}: MSE ${e.current.mse.toFixed(2)}, SSIM ${e.current.ssim.toFixed(4)}` : ''}`;
    case 'registered':
      return `registered ${e.manifest.name}@${e.manifest.version}`;
    case 'promoted':
      return `promoted ${e.name}@${e.version}: ${e.reason}`;
    case 'kept':
      return `not promoted ${e.name}@${e.version}: ${e.reason}`;
    case 'quantized':
      return `int8 ${e.manifest.name}@${e.manifest.version} ${e.promoted ? 'promoted' : 'not promoted'}: ${e.reason}`;
    case 'quantize-skipped':
      return `no int8 version: ${e.reason}`;
    default:
      return null;
  }
}

/** `framecraft train`: fine-tune or teach a student, export, check, register, promote. */
export async function trainCommand(o: TrainCommandOptions): Promise<void> {
  const work = resolve(o.work ?? join(dataHome(), 'training', o.name));
  const registry = modelRegistry();
  let base: string | undefined;
  if (o.student !== true) {
    if (o.base === undefined)
      throw new UsageError(
        'ERR_USAGE',
        'fine-tuning needs --base <model> (a registered name or an .onnx file), or use --student',
      );
    base = existsSync(o.base) ? resolve(o.base) : (await registry.resolveRef(o.base)).path;
  }
  const pairs = await pairsFor(o, work);
  for await (const e of trainModel({
    pairs,
    mode: o.student === true ? 'student' : 'finetune',
    ...(base !== undefined && { base }),
    workDir: work,
    ...(o.steps !== undefined && { steps: o.steps }),
    ...(o.lr !== undefined && { lr: o.lr }),
    ...(o.batch !== undefined && { batch: o.batch }),
    ...(o.crop !== undefined && { crop: o.crop }),
    ...(o.loss !== undefined && { loss: o.loss }),
    ...(o.temporalWeight !== undefined && { temporalWeight: o.temporalWeight }),
    ...(o.validateEvery !== undefined && { validateEvery: o.validateEvery }),
    ...(o.patience !== undefined && { patience: o.patience }),
    register: {
      registry,
      name: o.name,
      promote: o.promote ?? 'auto',
      ...(o.quantize !== undefined && { quantize: { clips: o.quantize } }),
    },
  })) {
    if (o.json === true) process.stdout.write(`${JSON.stringify(e)}\n`);
    else {
      const line = describe(e);
      if (line !== null) process.stdout.write(`${line}\n`);
    }
  }
}

/** `framecraft feedback approve`: record an approved input/target pair in the feedback log. */
export async function feedbackApproveCommand(
  input: string,
  target: string,
  o: { style?: string; clip?: string; frame?: number; shot?: string; note?: string; json?: boolean },
): Promise<void> {
  const record = await feedbackLog().append({
    input: resolve(input),
    a: { image: resolve(target), style: o.style ?? 'unknown' },
    choice: 'a',
    approved: true,
    ...(o.clip !== undefined && { clip: o.clip }),
    ...(o.frame !== undefined && { frameIndex: o.frame }),
    ...(o.shot !== undefined && { shot: o.shot }),
    ...(o.note !== undefined && { note: o.note }),
  });
  process.stdout.write(
    o.json === true ? `${JSON.stringify(record)}\n` : `recorded ${record.id} in ${feedbackLog().file}\n`,
  );
}

/** `framecraft feedback list`. */
export async function feedbackListCommand(o: { json?: boolean }): Promise<void> {
  const records = await feedbackLog().read();
  if (o.json === true) {
    process.stdout.write(`${JSON.stringify(records)}\n`);
    return;
  }
  for (const r of records)
    process.stdout.write(
      `${r.id}  ${r.time}  ${r.kind}  choice ${r.choice}${r.approved ? '  approved' : ''}  ${r.a.style}${r.b ? ` vs ${r.b.style}` : ''}\n`,
    );
  process.stdout.write(`${records.length} judgement(s) in ${feedbackLog().file}\n`);
}

import { autotune, type TuneConstraint, type TuneMetric } from '@framecraft/pipeline';
import { UsageError } from '../errors.ts';
import { parseStyleOptions } from '../style-flags.ts';

const METRICS: readonly TuneMetric[] = [
  'ssim',
  'edge_coherence',
  'sharpness',
  'psnr',
  'temporal_consistency',
  'warping_error',
];

/** Options of `framecraft autotune`. */
export interface AutotuneCommandOptions {
  readonly style: string;
  /** `name=v1,v2,…`, repeatable. */
  readonly param?: readonly string[];
  readonly option?: readonly string[];
  /** `metric:max` or `metric:min`. */
  readonly objective?: string;
  /** `metric<=x` or `metric>=x`, repeatable. */
  readonly constraint?: readonly string[];
  readonly samples?: number;
  readonly save?: string;
  readonly json?: boolean;
}

const value = (v: string): unknown => {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
};

function metric(name: string, flag: string): TuneMetric {
  if (!METRICS.includes(name as TuneMetric))
    throw new UsageError('ERR_USAGE', `${flag}: unknown metric "${name}" (use ${METRICS.join(', ')})`);
  return name as TuneMetric;
}

/**
 * Grid-search a style's parameters on sampled frames and print the ranking; `--save` writes the
 * winner as a preset.
 *
 * @param input - Source video.
 * @param options - Style, grid, objective, constraints.
 */
export async function autotuneCommand(input: string, options: AutotuneCommandOptions): Promise<void> {
  const grid: Record<string, unknown[]> = {};
  for (const p of options.param ?? []) {
    const eq = p.indexOf('=');
    if (eq <= 0)
      throw new UsageError('ERR_USAGE', `--param ${p}: expected name=v1,v2,… (for example sigma=6,10,14)`);
    grid[p.slice(0, eq)] = p
      .slice(eq + 1)
      .split(',')
      .map((v) => value(v.trim()));
  }
  if (Object.keys(grid).length === 0)
    throw new UsageError('ERR_USAGE', 'autotune needs at least one --param name=v1,v2,…');
  const [objName = 'ssim', goal = 'max'] = (options.objective ?? 'ssim:max').split(':');
  if (goal !== 'max' && goal !== 'min')
    throw new UsageError('ERR_USAGE', `--objective ${options.objective}: expected metric:max or metric:min`);
  const constraints: TuneConstraint[] = (options.constraint ?? []).map((c) => {
    const m = /^([a-z_]+)\s*(<=|>=)\s*(-?[\d.]+)$/.exec(c);
    if (m === null)
      throw new UsageError('ERR_USAGE', `--constraint ${c}: expected metric<=number or metric>=number`);
    const name = metric(m[1]!, '--constraint');
    return m[2] === '<=' ? { metric: name, max: Number(m[3]) } : { metric: name, min: Number(m[3]) };
  });
  const objective = { metric: metric(objName, '--objective'), goal } as const;
  const result = await autotune({
    input,
    style: options.style,
    baseOptions: parseStyleOptions(options.option ?? []),
    grid,
    objective,
    constraints,
    ...(options.samples !== undefined && { samples: options.samples }),
    ...(options.save !== undefined && { savePresetAs: options.save }),
    onProgress: (done, total) => {
      if (!options.json) process.stderr.write(`autotune: ${done}/${total} combinations\n`);
    },
  });
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ event: 'done', ...result })}\n`);
    return;
  }
  for (const t of result.trials.slice(0, 10)) {
    const scores = METRICS.map((m) => `${m} ${t.scores[m].toFixed(3)}`).join(', ');
    process.stdout.write(`${t.feasible ? ' ' : 'x'} ${JSON.stringify(t.options)}: ${scores}\n`);
  }
  if (result.best === null) process.stdout.write('No combination met the constraints.\n');
  else
    process.stdout.write(
      `Best ${objective.metric} (${objective.goal}): ${JSON.stringify(result.best.options)}` +
        `${result.preset !== null ? `; saved as preset ${options.save} (${result.preset})` : ''}.\n`,
    );
}

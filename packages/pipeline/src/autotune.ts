import { cloneFrame, type Frame } from '@framecraft/core';
import { VideoReader } from '@framecraft/io';
import {
  edgeCoherence,
  InputMotion,
  lumaOf,
  mse,
  psnr,
  sharpness,
  ssim,
  temporalConsistency,
} from '@framecraft/metrics';
import type { ModelRegistry } from '@framecraft/ml';
import { loadStylizer, parseStylizerOptions } from '@framecraft/stylizers';
import { PipelineError } from './errors.ts';
import { modelRegistry, resolveStyleModel } from './models.ts';
import { savePreset } from './presets.ts';

/** Metrics autotune can score with. */
export type TuneMetric =
  | 'ssim'
  | 'edge_coherence'
  | 'sharpness'
  | 'psnr'
  | 'temporal_consistency'
  | 'warping_error';

/** A bound a candidate must respect to count. */
export interface TuneConstraint {
  readonly metric: TuneMetric;
  readonly min?: number;
  readonly max?: number;
}

/** Options of {@link autotune}. */
export interface AutotuneOptions {
  readonly input: string;
  readonly style: string;
  /** Options every candidate shares (the grid's values override them). */
  readonly baseOptions?: Readonly<Record<string, unknown>>;
  /** Parameter → candidate values; every combination is tried (at most 256). */
  readonly grid: Readonly<Record<string, readonly unknown[]>>;
  /** Points of the video sampled, evenly spaced; at each, two consecutive frames. 6 by default. */
  readonly samples?: number;
  /** What to optimise; highest SSIM to the content by default. */
  readonly objective?: { readonly metric: TuneMetric; readonly goal: 'max' | 'min' };
  /** Bounds, for example temporal consistency at most 6. */
  readonly constraints?: readonly TuneConstraint[];
  readonly seed?: number;
  /** Save the winner as a user preset of this name (style and its options). */
  readonly savePresetAs?: string;
  readonly onProgress?: (done: number, total: number) => void;
  /** Where a registered model the options name is found; the data folder's (`modelRegistry()`) by default. */
  readonly models?: ModelRegistry;
}

/** One tried combination. */
export interface TuneTrial {
  readonly options: Readonly<Record<string, unknown>>;
  /** Mean of each metric over the samples. */
  readonly scores: Readonly<Record<TuneMetric, number>>;
  readonly feasible: boolean;
}

/** What {@link autotune} found. */
export interface AutotuneResult {
  /** The best feasible trial, or null when none met the constraints. */
  readonly best: TuneTrial | null;
  /** Every trial, best first (feasible ones before the rest). */
  readonly trials: readonly TuneTrial[];
  /** The preset file written, when asked for and a best trial exists. */
  readonly preset: string | null;
}

/** Every combination of the grid's values. */
function combinations(grid: Readonly<Record<string, readonly unknown[]>>): Record<string, unknown>[] {
  let out: Record<string, unknown>[] = [{}];
  for (const [key, values] of Object.entries(grid)) {
    if (values.length === 0) throw new PipelineError('ERR_AUTOTUNE', `grid.${key} has no values`);
    out = out.flatMap((o) => values.map((v) => ({ ...o, [key]: v })));
  }
  return out;
}

/**
 * Grid search over a style's parameters on sampled frames: every combination stylizes the same
 * frame pairs, each is scored by the metrics (SSIM and edge coherence to the content, sharpness,
 * PSNR, temporal consistency and warping error between the pair), and the best under the constraints wins — saved as
 * a preset when asked.
 *
 * @param options - Input, style, grid, samples, objective, constraints.
 * @returns Trials ranked, the best one and the preset file.
 * @throws {FramecraftError} `ERR_AUTOTUNE` for an empty or oversized grid; the style's option errors for invalid values.
 */
export async function autotune(options: AutotuneOptions): Promise<AutotuneResult> {
  const style = await loadStylizer(options.style);
  const candidates = combinations(options.grid);
  if (candidates.length > 256)
    throw new PipelineError('ERR_AUTOTUNE', `the grid has ${candidates.length} combinations; at most 256`);
  // Check every candidate's options before any work.
  const checked = candidates.map(
    (c) => parseStylizerOptions(style, { ...options.baseOptions, ...c }) as Record<string, unknown>,
  );
  // A model named in the options (the neural style's) is resolved in the registry to its file.
  const registry = options.models ?? modelRegistry();
  const parsed = await Promise.all(checked.map((o) => resolveStyleModel(style, o, registry)));
  const objective = options.objective ?? { metric: 'ssim', goal: 'max' };
  const samples = options.samples ?? 6;

  // The sample pairs, read once.
  const pairs: [Frame, Frame][] = [];
  {
    await using reader = await VideoReader.open(options.input);
    const times = await reader.frameTimestamps();
    const n = times.length;
    for (let k = 0; k < samples && n >= 2; k++) {
      const at = Math.min(n - 2, Math.floor(((k + 0.5) * n) / samples));
      const pair: Frame[] = [];
      for await (const f of reader.frames({
        format: style.inputFormat,
        start: { frame: at },
        end: { frame: at + 2 },
        copy: true,
      }))
        pair.push(f);
      if (pair.length === 2) pairs.push([pair[0]!, pair[1]!]);
    }
  }
  if (pairs.length === 0)
    throw new PipelineError('ERR_AUTOTUNE', `${options.input} has fewer than two frames`);
  const { width, height } = pairs[0]![0];
  // The motion of each pair, computed once for every candidate's warping error.
  const motions = pairs.map(([a, b]) => InputMotion.between(a, b));

  const trials: TuneTrial[] = [];
  for (const [i, candidate] of candidates.entries()) {
    const instance = await style.create(parsed[i]!, { width, height, seed: options.seed ?? 1 });
    const sums: Record<TuneMetric, number> = {
      ssim: 0,
      edge_coherence: 0,
      sharpness: 0,
      psnr: 0,
      temporal_consistency: 0,
      warping_error: 0,
    };
    try {
      for (const [k, [a, b]] of pairs.entries()) {
        // The pair's first frame warms stateful styles; the second is scored.
        const outA = cloneFrame(await instance.process(a));
        const outB = await instance.process(b);
        const la = lumaOf(a);
        const lb = lumaOf(b);
        const oa = lumaOf(outA);
        const ob = lumaOf(outB);
        sums.ssim += ssim(lb, ob, undefined, { window: 'box' });
        sums.edge_coherence += edgeCoherence(lb, ob);
        sums.sharpness += sharpness(ob);
        sums.psnr += Math.min(100, psnr(mse(lb, ob)));
        sums.temporal_consistency += temporalConsistency(oa, ob, la, lb);
        sums.warping_error += motions[k]!.error(outA, outB);
      }
    } finally {
      instance.dispose();
    }
    const scores = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / pairs.length])) as Record<
      TuneMetric,
      number
    >;
    const feasible = (options.constraints ?? []).every(
      (c) =>
        (c.min === undefined || scores[c.metric] >= c.min) &&
        (c.max === undefined || scores[c.metric] <= c.max),
    );
    trials.push({ options: candidate, scores, feasible });
    options.onProgress?.(i + 1, candidates.length);
  }
  const sign = objective.goal === 'max' ? -1 : 1;
  trials.sort(
    (x, y) =>
      Number(y.feasible) - Number(x.feasible) ||
      sign * (x.scores[objective.metric] - y.scores[objective.metric]),
  );
  const best = trials[0]?.feasible ? trials[0] : null;
  let preset: string | null = null;
  if (best !== null && options.savePresetAs !== undefined) {
    preset = await savePreset(options.savePresetAs, {
      description: `autotune of ${options.style}: best ${objective.metric} (${objective.goal}) = ${best.scores[objective.metric].toFixed(4)}`,
      style: options.style,
      style_options: { ...options.baseOptions, ...best.options },
    });
  }
  return { best, trials, preset };
}

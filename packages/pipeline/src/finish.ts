// Finish a render: stitch the segments with the source's other streams into the output, merge the
// chunks' metrics logs, remove the work folder (see ARCHITECTURE.md, "one render").
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { remux, writeFileAtomic } from '@framecraft/io';
import { globalFlicker, type MetricsSummary, summarize } from '@framecraft/metrics';
import type { Logger } from 'pino';
import type { Chunk } from './chunk-plan.ts';
import type { JournaledRender } from './work-folder.ts';
import { metricsLogName, segmentName } from './work-folder.ts';

/** A finished render's per-frame metrics: the merged log beside the output, and its summary. */
export interface RenderMetrics {
  readonly log: string;
  readonly summary: MetricsSummary;
}

/** Options of {@link finishRender}. */
export interface FinishOptions {
  readonly signal?: AbortSignal;
  readonly onWarning?: (message: string) => void;
  readonly logger?: Logger;
}

/**
 * Finish a render whose chunks are all rendered: stitch the segments with the source's audio,
 * subtitles and metadata into the output (which appears only when complete), merge the chunks'
 * metrics logs, and remove the work folder.
 *
 * @param plan - The plan (its job, work folder, output and chunks).
 * @param options - Abort, warnings, logger.
 * @returns The output and the metrics log and summary when metrics are on.
 */
export async function finishRender(
  plan: Pick<JournaledRender, 'job' | 'workDir' | 'output' | 'chunks' | 'totalFrames'>,
  options: FinishOptions = {},
): Promise<{ output: string; metrics: RenderMetrics | null }> {
  const { job, workDir, output, chunks } = plan;
  options.logger?.info({ segments: chunks.length, output }, 'stitch');
  await mkdir(dirname(output), { recursive: true });
  await removeStalePartials(output);
  await remux({
    output,
    segments: chunks.map((c) => join(workDir, segmentName(c.index))),
    source: job.input,
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
    ...(options.onWarning !== undefined ? { onWarning: options.onWarning } : {}),
  });
  let metrics: RenderMetrics | null = null;
  if (job.metrics.enabled) metrics = await mergeMetrics(chunks, workDir, output, job.style, plan.totalFrames);
  await rm(workDir, { recursive: true, force: true });
  return { output, metrics };
}

/**
 * Delete temporary outputs a killed earlier run left beside the output (`.<name>.partial-<pid>-…`,
 * see io's PartialFile) whose process is gone.
 */
async function removeStalePartials(output: string): Promise<void> {
  const ext = extname(output);
  const stem = basename(output, ext);
  const pattern = new RegExp(`^\\.${escapeRegExp(stem)}\\.partial-(\\d+)-[0-9a-f]{8}${escapeRegExp(ext)}$`);
  for (const name of await readdir(dirname(output))) {
    const m = pattern.exec(name);
    if (m === null) continue;
    const pid = Number(m[1]);
    let alive = pid === process.pid;
    if (!alive) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (err) {
        alive = (err as NodeJS.ErrnoException).code === 'EPERM';
      }
    }
    if (!alive) await rm(join(dirname(output), name), { force: true });
  }
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Join the chunks' metric logs in frame order beside the output, with a summary. */
async function mergeMetrics(
  plan: readonly Chunk[],
  workDir: string,
  output: string,
  style: string,
  totalFrames: number,
): Promise<{ log: string; summary: MetricsSummary }> {
  const stem = join(dirname(output), basename(output, extname(output)));
  const log = `${stem}.metrics.jsonl`;
  const lines: string[] = [];
  const values = new Map<string, number[]>();
  for (const c of plan) {
    const text = await readFile(join(workDir, metricsLogName(c.index)), 'utf8');
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      lines.push(line);
      for (const [k, v] of Object.entries(JSON.parse(line) as Record<string, unknown>)) {
        if (typeof v !== 'number' || k === 'frame_idx') continue;
        const list = values.get(k);
        if (list === undefined) values.set(k, [v]);
        else list.push(v);
      }
    }
  }
  const outMeans = values.get('mean_luma') ?? [];
  const inMeans = values.get('input_mean_luma') ?? [];
  const summary: MetricsSummary = {
    style,
    frames: totalFrames,
    sampled: lines.length,
    metrics: Object.fromEntries(
      [...values]
        .filter(([k]) => k !== 'mean_luma' && k !== 'input_mean_luma')
        .map(([k, v]) => [k, summarize(v)]),
    ),
    global_flicker: globalFlicker(outMeans, inMeans),
  };
  await writeFileAtomic(log, `${lines.join('\n')}\n`);
  await writeFileAtomic(`${stem}.metrics.summary.json`, `${JSON.stringify(summary, null, 2)}\n`);
  return { log, summary };
}

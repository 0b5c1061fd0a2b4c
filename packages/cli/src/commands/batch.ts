import { statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FramecraftError } from '@framecraft/core';
import { type BatchItem, createLogger, planBatch, type RenderProgress } from '@framecraft/pipeline';
import { CliError, checkOutputPath, formatError, UsageError } from '../errors.ts';
import { type Interrupt, listenForInterrupt } from '../interrupt.ts';
import { createProgress, progressMode } from '../progress.ts';
import {
  type RenderCommandOptions,
  renderJobOf,
  renderStyleOf,
  resumeHint,
  runRender,
} from '../render-runner.ts';

/** How one input of a batch ended. */
export interface BatchFileResult {
  readonly input: string;
  readonly output: string;
  readonly result: 'done' | 'skipped' | 'failed' | 'interrupted' | 'not started';
  readonly frames: number | null;
  readonly fps: number | null;
  /** Chunks reused from an earlier, interrupted run. */
  readonly reused?: number;
  /** Why it was skipped or failed (`error [CODE]: …` for a failure). */
  readonly reason?: string;
  readonly code?: string;
}

/** A file seen in a watched folder, rendered once its size and time stop changing. */
interface Seen {
  size: number;
  mtimeMs: number;
  since: number;
}

/**
 * `framecraft render <paths…> --out-dir DIR`: every video of the files, folders and globs given,
 * each as its own resumable render (`<name>-<style>.<ext>` under DIR); existing outputs are
 * skipped unless `--overwrite`; a failure does not stop the batch; a table at the end, exit 1
 * when anything failed. `--watch` keeps looking at the folders and renders each new video once it
 * has stopped growing, until Ctrl-C; a rerun continues where it stopped.
 *
 * @param args - Files, folders and glob patterns.
 * @param options - The render flags, with `outDir`.
 */
export async function batchCommand(args: readonly string[], options: RenderCommandOptions): Promise<void> {
  if (options.outDir === undefined)
    throw new UsageError('ERR_USAGE', '--watch needs --out-dir <folder> for the outputs');
  if (args.length === 0) throw new UsageError('ERR_USAGE', 'render --out-dir needs at least one input');
  const outDir = resolve(options.outDir);
  await mkdir(outDir, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(
      'ERR_OUTPUT_DIR',
      `--out-dir ${options.outDir}: cannot be created (${err.code ?? err.message})`,
    );
  });
  if (!statSync(outDir).isDirectory())
    throw new UsageError('ERR_OUTPUT_DIR', `--out-dir ${options.outDir}: is a file; give a folder.`);
  const style = await renderStyleOf(options);
  const emit = (event: Record<string, unknown>): void => {
    if (options.json) process.stdout.write(`${JSON.stringify(event)}\n`);
  };
  const say = (line: string): void => {
    if (!options.json) process.stderr.write(`${line}\n`);
  };
  using interrupt = listenForInterrupt();
  const log = createLogger(options.verbose ? { console: 'text', consoleLevel: 'info' } : {});
  const results: BatchFileResult[] = [];
  const record = (r: BatchFileResult): void => {
    results.push(r);
    const { result, ...rest } = r;
    emit({ event: `file-${result === 'not started' ? 'not-started' : result}`, ...rest });
  };
  try {
    const plan = await planBatch({ inputs: args, outDir, style, recursive: options.recursive ?? false });
    for (const arg of plan.missing)
      record({
        input: arg,
        output: '',
        result: 'failed',
        frames: null,
        fps: null,
        code: 'ERR_FILE_NOT_FOUND',
        reason: `error [ERR_FILE_NOT_FOUND]: ${arg}: no such file or folder, and no video matches it as a pattern`,
      });
    const render = (item: BatchItem): Promise<BatchFileResult> =>
      renderItem(item, options, interrupt, log.logger, emit);
    if (options.watch !== true) {
      for (const [i, item] of plan.items.entries()) {
        say(`[${i + 1}/${plan.items.length}] ${shown(item.input)} -> ${shown(item.output)}`);
        const r = await render(item);
        record(r);
        if (r.result === 'interrupted') {
          for (const left of plan.items.slice(i + 1))
            record({ ...left, result: 'not started', frames: null, fps: null });
          break;
        }
      }
    } else await watch(args, options, outDir, style, interrupt, render, record, say);
  } finally {
    await log.close();
  }
  printSummary(results, options.json ?? false);
  const stopped = results.find((r) => r.result === 'interrupted');
  if (stopped !== undefined)
    throw interrupt.explain(
      new CliError('ERR_CANCELED', 'stopped'),
      'The batch',
      `${shown(stopped.input)} keeps its finished chunks: run the same command again to continue (finished outputs are skipped)`,
    );
  // Ctrl-C while watching and idle is how a watch ends: nothing was cut short.
  if (interrupt.received() !== null)
    say(`Stopped watching (${interrupt.received()}); run the same command again to watch on.`);
  if (results.some((r) => r.result === 'failed')) process.exitCode = 1;
}

/** Render one input of a batch; failures become results, an interrupt too (the batch then stops). */
async function renderItem(
  item: BatchItem,
  options: RenderCommandOptions,
  interrupt: Interrupt,
  logger: Parameters<typeof runRender>[2]['logger'],
  emit: (event: Record<string, unknown>) => void,
): Promise<BatchFileResult> {
  const base = { input: item.input, output: item.output, frames: null, fps: null };
  if (!options.overwrite && statSafe(item.output) !== null)
    return { ...base, result: 'skipped', reason: `${shown(item.output)} exists (--overwrite replaces it)` };
  emit({ event: 'file-start', input: item.input, output: item.output });
  const progress = createProgress(progressMode(options.json ?? false), shown(item.output), {
    input: item.input,
  });
  let last: RenderProgress | null = null;
  try {
    await mkdir(dirname(item.output), { recursive: true });
    await checkOutputPath(item.input, item.output, options.overwrite ?? false);
    const job = await renderJobOf(item.input, item.output, { ...options, detach: false });
    const summary = await runRender(
      { ...job, output: item.output },
      { ...options, detach: false },
      {
        progress,
        signal: interrupt.signal,
        logger,
        tag: { input: item.input },
        onProgress: (p) => {
          last = p;
        },
      },
    );
    if ('queued' in summary) throw new Error('unreachable: a batch follows each farm render');
    return { ...base, result: 'done', frames: summary.frames, fps: summary.fps, reused: summary.reused };
  } catch (err) {
    if (interrupt.received() !== null)
      return {
        ...base,
        result: 'interrupted',
        reason: resumeHint(last, item.output, options.queue !== undefined),
      };
    return {
      ...base,
      result: 'failed',
      code: FramecraftError.is(err) ? err.code : 'ERR_UNEXPECTED',
      reason: formatError(err),
    };
  } finally {
    progress.stop();
  }
}

/**
 * Watch the inputs until interrupted: every `poll` seconds plan the batch again, and render each
 * video not handled yet once its size and modification time have held for `settle` seconds (a
 * file still being copied keeps changing). A failed file is tried again when it changes.
 */
async function watch(
  args: readonly string[],
  options: RenderCommandOptions,
  outDir: string,
  style: string,
  interrupt: Interrupt,
  render: (item: BatchItem) => Promise<BatchFileResult>,
  record: (r: BatchFileResult) => void,
  say: (line: string) => void,
): Promise<void> {
  const poll = (options.poll ?? 2) * 1000;
  const settle = (options.settle ?? 3) * 1000;
  const seen = new Map<string, Seen>();
  /** Handled inputs and the size/time they had then. */
  const handled = new Map<string, string>();
  say(`Watching ${args.join(', ')} for new videos -> ${shown(outDir)} (Ctrl-C stops; a rerun continues).`);
  while (!interrupt.signal.aborted) {
    const { items } = await planBatch({ inputs: args, outDir, style, recursive: options.recursive ?? false });
    for (const item of items) {
      if (interrupt.signal.aborted) return;
      const st = statSafe(item.input);
      if (st === null) continue;
      const stamp = `${st.size}:${st.mtimeMs}`;
      if (handled.get(item.input) === stamp) continue;
      const before = seen.get(item.input);
      const now = Date.now();
      if (before === undefined || before.size !== st.size || before.mtimeMs !== st.mtimeMs) {
        seen.set(item.input, { size: st.size, mtimeMs: st.mtimeMs, since: now });
        if (settle > 0 || st.size === 0) continue;
      } else if (now - before.since < settle || st.size === 0) continue;
      say(`${shown(item.input)} -> ${shown(item.output)}`);
      const r = await render(item);
      handled.set(item.input, stamp);
      seen.delete(item.input);
      // An output already there is not news in a watched folder: only renders are reported.
      if (r.result !== 'skipped') record(r);
      if (r.result === 'interrupted') return;
      if (r.result === 'done') say(`  done: ${r.frames} frames at ${r.fps} fps`);
      if (r.result === 'failed') say(`  failed: ${r.reason}`);
    }
    await sleep(poll, undefined, { signal: interrupt.signal }).catch(() => undefined);
  }
}

function statSafe(path: string): { size: number; mtimeMs: number } | null {
  try {
    const st = statSync(path);
    return { size: st.size, mtimeMs: st.mtimeMs };
  } catch {
    return null;
  }
}

/** A path as the user would write it: relative to the working folder when inside it. */
function shown(path: string): string {
  if (path === '') return path;
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') ? rel : path;
}

/** The table a batch ends with (plain mode), or its `done` event (JSON). */
function printSummary(results: readonly BatchFileResult[], json: boolean): void {
  const count = (r: BatchFileResult['result']): number => results.filter((x) => x.result === r).length;
  const totals = {
    files: results.length,
    done: count('done'),
    skipped: count('skipped'),
    failed: count('failed'),
    interrupted: count('interrupted'),
    notStarted: count('not started'),
  };
  if (json) {
    process.stdout.write(`${JSON.stringify({ event: 'done', ...totals, results })}\n`);
    return;
  }
  const rows = results.map((r) => [
    shown(r.input),
    r.frames === null ? '-' : String(r.frames),
    r.fps === null ? '-' : r.fps.toFixed(1),
    r.result === 'done'
      ? `done -> ${shown(r.output)}${r.reused ? ` (${r.reused} chunk(s) reused)` : ''}`
      : `${r.result}${r.reason === undefined ? '' : `: ${r.reason}`}`,
  ]);
  const head = ['file', 'frames', 'fps', 'result'];
  const width = (c: number): number => Math.max(head[c]!.length, ...rows.map((r) => r[c]!.length));
  const line = (cells: readonly string[]): string =>
    [cells[0]!.padEnd(width(0)), cells[1]!.padStart(width(1)), cells[2]!.padStart(width(2)), cells[3]!].join(
      '  ',
    );
  const out = [line(head), ...rows.map(line)];
  const parts = [
    `${totals.done} rendered`,
    `${totals.skipped} skipped`,
    `${totals.failed} failed`,
    ...(totals.interrupted > 0 ? [`${totals.interrupted} interrupted`] : []),
    ...(totals.notStarted > 0 ? [`${totals.notStarted} not started`] : []),
  ];
  out.push(`${totals.files} file(s): ${parts.join(', ')}.`);
  process.stdout.write(`${out.join('\n')}\n`);
}

import { SingleBar } from 'cli-progress';

/** One progress update from a long command. */
export interface ProgressUpdate {
  readonly stage: string;
  readonly frames: number;
  readonly totalFrames: number;
  readonly fps: number;
  readonly etaSeconds: number | null;
}

/** How progress is shown. */
export type ProgressMode = 'bar' | 'lines' | 'json';

/** Shows progress as a bar on a terminal, plain lines in logs, or JSON lines for programs. */
export interface ProgressReporter {
  update(p: ProgressUpdate): void;
  /** Print a final event (JSON mode) or message. */
  done(summary: Record<string, unknown>): void;
  stop(): void;
}

function formatEta(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '--:--';
  const m = Math.floor(s / 60);
  const sec = Math.round(s % 60);
  return `${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
}

/**
 * Pick the progress display: JSON when asked, a bar on a terminal, plain lines otherwise.
 *
 * @param json - `--json` was given.
 * @param stream - Where progress goes (stderr by default, so stdout stays clean for results).
 * @returns The mode.
 */
export function progressMode(json: boolean, stream: NodeJS.WriteStream = process.stderr): ProgressMode {
  if (json) return 'json';
  return stream.isTTY ? 'bar' : 'lines';
}

/**
 * Create a progress reporter.
 *
 * @param mode - Bar, plain lines or JSON lines.
 * @param label - What is being done, for example the output file name.
 * @param fields - Added to every JSON event (a batch names the input).
 * @returns The reporter.
 */
export function createProgress(
  mode: ProgressMode,
  label: string,
  fields: Readonly<Record<string, unknown>> = {},
): ProgressReporter {
  if (mode === 'json') {
    return {
      update: (p) => process.stdout.write(`${JSON.stringify({ event: 'progress', ...fields, ...p })}\n`),
      done: (summary) =>
        process.stdout.write(`${JSON.stringify({ event: 'done', ...fields, ...summary })}\n`),
      stop: () => {},
    };
  }
  if (mode === 'lines') {
    let lastPrint = 0;
    let lastStage = '';
    return {
      update: (p) => {
        const now = Date.now();
        if (p.stage === lastStage && now - lastPrint < 1000 && p.frames !== p.totalFrames) return;
        lastPrint = now;
        lastStage = p.stage;
        const total = p.totalFrames > 0 ? `/${p.totalFrames}` : '';
        process.stderr.write(
          `${label}: ${p.stage} ${p.frames}${total} frames, ${p.fps.toFixed(1)} fps, ETA ${formatEta(p.etaSeconds)}\n`,
        );
      },
      done: () => {},
      stop: () => {},
    };
  }
  const bar = new SingleBar({
    format: `${label} [{bar}] {percentage}% | {value}/{total} frames | {fps} fps | ETA {eta_h} | {stage}`,
    barsize: 30,
    hideCursor: true,
    clearOnComplete: false,
    stream: process.stderr,
  });
  let started = false;
  return {
    update: (p) => {
      const payload = { fps: p.fps.toFixed(1), eta_h: formatEta(p.etaSeconds), stage: p.stage };
      if (!started) {
        bar.start(Math.max(p.totalFrames, p.frames, 1), p.frames, payload);
        started = true;
      } else {
        if (p.totalFrames > 0) bar.setTotal(Math.max(p.totalFrames, p.frames));
        bar.update(p.frames, payload);
      }
    },
    done: () => {},
    stop: () => {
      if (started) bar.stop();
    },
  };
}

/**
 * A render's progress event as a progress update.
 *
 * @param p - From the pipeline's `onProgress`.
 * @returns The update for a {@link ProgressReporter}.
 */
export function renderUpdate(p: {
  readonly stage: string;
  readonly framesDone: number;
  readonly totalFrames: number;
  readonly fps: number;
  readonly etaSeconds: number | null;
}): ProgressUpdate {
  return {
    stage: p.stage,
    frames: p.framesDone,
    totalFrames: p.totalFrames,
    fps: p.fps,
    etaSeconds: p.etaSeconds,
  };
}

import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FramecraftError } from '@framecraft/core';
import { TrainerError, type TrainerErrorCode } from './errors.ts';
import { readScriptEvent, type ScriptEvent } from './protocol.ts';

/** What the training script reports about its Python and PyTorch. */
export interface TorchInfo {
  readonly python: string;
  readonly pythonVersion: string;
  readonly torch: string;
  readonly cuda: boolean;
  readonly onnx: string | null;
}

/** The training script shipped with the package. */
export const TRAIN_SCRIPT: string = fileURLToPath(new URL('../python/framecraft_train.py', import.meta.url));

const INSTALL = [
  'Framecraft trains with PyTorch (CPU or CUDA) and reads ONNX weights with the onnx package.',
  'Install them, then run the command again:',
  '  Debian/Ubuntu: sudo apt-get install python3-torch python3-onnx',
  '  any system:    python3 -m pip install torch onnx   (CUDA builds: see pytorch.org)',
  'Or point FRAMECRAFT_PYTHON at a Python that has them.',
  'Everything else in Framecraft works without them.',
].join('\n');

/** Raised when no Python with PyTorch can be found. */
export class TrainerEnvironmentError extends FramecraftError<TrainerErrorCode> {
  /** What was tried, and why each failed. */
  readonly tried: readonly string[];

  /**
   * @param code - `ERR_PYTHON_MISSING` or `ERR_TORCH_MISSING`.
   * @param tried - One line per interpreter tried.
   */
  constructor(code: 'ERR_PYTHON_MISSING' | 'ERR_TORCH_MISSING', tried: readonly string[]) {
    const what =
      code === 'ERR_PYTHON_MISSING' ? 'No Python 3 interpreter was found' : 'PyTorch is not installed';
    super(code, `${what} (tried: ${tried.join('; ')}).\n${INSTALL}`);
    this.name = 'TrainerEnvironmentError';
    this.tried = tried;
  }
}

/** Interpreters to try: FRAMECRAFT_PYTHON alone when set, else python3 on PATH and the system one. */
function candidates(explicit?: string): string[] {
  const env = explicit ?? process.env.FRAMECRAFT_PYTHON;
  if (env !== undefined && env !== '') return [env];
  // A version manager's python3 (pyenv, conda) often lacks the system's PyTorch: try both.
  return [...new Set(['python3', '/usr/bin/python3', '/usr/local/bin/python3'])];
}

/**
 * Find a Python that imports PyTorch and report its versions.
 *
 * @param python - An interpreter to use instead of searching (default: FRAMECRAFT_PYTHON, else
 *   `python3` on PATH, else /usr/bin/python3).
 * @returns Versions and whether CUDA is available.
 * @throws {TrainerEnvironmentError} When no interpreter runs (`ERR_PYTHON_MISSING`) or none imports
 *   PyTorch (`ERR_TORCH_MISSING`), with install instructions.
 */
export async function findTorch(python?: string): Promise<TorchInfo> {
  const tried: string[] = [];
  let anyPython = false;
  for (const exe of candidates(python)) {
    if (exe.includes('/') && !existsSync(exe)) {
      tried.push(`${exe}: not found`);
      continue;
    }
    // Importing torch takes a second or two: run it without blocking the event loop (the studio
    // serves pages meanwhile).
    const r = await new Promise<{ spawnError: string | null; stdout: string; stderr: string }>((done) => {
      execFile(
        exe,
        [TRAIN_SCRIPT, 'probe'],
        { encoding: 'utf8', timeout: 120_000 },
        (error, stdout, stderr) => {
          // A string code (ENOENT, EACCES) means it did not start; a number is its exit status.
          const code = (error as NodeJS.ErrnoException | null)?.code;
          done({ spawnError: typeof code === 'string' ? code : null, stdout, stderr });
        },
      );
    });
    if (r.spawnError !== null) {
      tried.push(`${exe}: ${r.spawnError}`);
      continue;
    }
    anyPython = true;
    const last = r.stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .at(-1);
    const read = last === undefined ? null : readScriptEvent(last);
    const event = read !== null && 'event' in read ? read.event : null;
    if (event?.type === 'probe') {
      const { type: _type, ...info } = event;
      return info;
    }
    tried.push(
      `${exe}: ${event?.type === 'error' ? event.message : r.stderr.trim().split('\n').at(-1) || 'no output'}`,
    );
  }
  throw new TrainerEnvironmentError(anyPython ? 'ERR_TORCH_MISSING' : 'ERR_PYTHON_MISSING', tried);
}

/** Options of {@link runScript}. */
export interface RunScriptOptions {
  readonly python: string;
  /** CPU threads for PyTorch (OMP_NUM_THREADS: Debian's build uses one thread unless told). */
  readonly threads: number;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Run a command of the training script and yield its JSON-line events as they arrive. An `error`
 * event, a crash or a non-zero exit becomes a thrown `FramecraftError` (its code from the script,
 * else `ERR_TRAINER_SCRIPT`, with the end of stderr); aborting kills the script.
 *
 * @param args - Command and arguments.
 * @param options - Interpreter, threads, abort signal.
 */
export async function* runScript(
  args: readonly string[],
  options: RunScriptOptions,
): AsyncGenerator<ScriptEvent> {
  const child = spawn(options.python, [TRAIN_SCRIPT, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, OMP_NUM_THREADS: String(options.threads), PYTHONUNBUFFERED: '1' },
  });
  const onAbort = (): void => {
    child.kill('SIGKILL');
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    stderr = (stderr + d).slice(-8000);
  });
  const exited = new Promise<{ code: number | null; sig: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, sig) => resolve({ code, sig }));
  });
  let error: Extract<ScriptEvent, { type: 'error' }> | null = null;
  let buffered = '';
  try {
    child.stdout.setEncoding('utf8');
    for await (const chunk of child.stdout as AsyncIterable<string>) {
      buffered += chunk;
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf('\n');
        if (!line.startsWith('{')) continue;
        const read = readScriptEvent(line);
        if ('problems' in read)
          throw new TrainerError(
            'ERR_TRAINER_SCRIPT',
            `the training script wrote a line that is not an event (${read.problems}): ${line.slice(0, 200)}`,
          );
        if (read.event.type === 'error') error = read.event;
        else yield read.event;
      }
    }
    const { code, sig } = await exited;
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
    if (error !== null) throw new TrainerError(error.code, error.message, { cause: error.traceback });
    if (code !== 0)
      throw new TrainerError(
        'ERR_TRAINER_SCRIPT',
        `The training script (${args[0]}) ${sig !== null ? `was killed by ${sig}` : `exited with code ${code}`}: ${stderr.trim().split('\n').slice(-5).join(' | ') || 'no output'}`,
      );
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

import { FramecraftError } from '@framecraft/core';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { cudaSupport } from './cuda.ts';
import type { MlErrorCode } from './errors.ts';

/** Options of {@link OnnxSession.create}. */
export interface SessionOptions {
  /**
   * `auto` (default): CUDA when it really loads here, else CPU; `cpu`; `cuda` (still falls back to
   * CPU, with the reason, when CUDA cannot be used).
   */
  readonly provider?: 'auto' | 'cpu' | 'cuda';
  /** Threads inside one operator; ONNX Runtime's default (all cores) when omitted. */
  readonly threads?: number;
  /** Receives the provider decision and its reason. */
  readonly onLog?: (message: string) => void;
  /**
   * Run the model on a thread of its own (a worker thread holding the ONNX Runtime session):
   * onnxruntime-node's `run` computes on the calling thread, so a caller that has other work
   * (decoding the next frame, encoding the last, converting tensors) does it while the model runs
   * only when the model runs elsewhere. Inputs are copied to the thread, outputs moved back.
   */
  readonly thread?: boolean;
}

/** What runs the model: ONNX Runtime in this thread, or a worker thread that holds it. @internal */
export interface SessionBackend {
  run(data: Float32Array, dims: readonly number[]): Promise<{ data: Float32Array; dims: readonly number[] }>;
  release(): Promise<void>;
}

/** What a loaded session is, whichever thread holds it. */
export interface SessionInfo {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly provider: 'cpu' | 'cuda';
  readonly providerReason: string;
}

/** A model input or output, as the model declares it. */
export interface TensorInfo {
  readonly name: string;
  readonly type: string;
  /** Dimensions; symbolic (dynamic) axes are their names, for example `height`. */
  readonly shape: readonly (number | string)[];
}

/** Raised when a model cannot be loaded. */
export class ModelLoadError extends FramecraftError<MlErrorCode> {
  /**
   * @param what - The model (path or "model bytes").
   * @param reason - ONNX Runtime's message.
   * @param cause - The original error.
   */
  constructor(what: string, reason: string, cause?: unknown) {
    super('ERR_MODEL_LOAD', `Could not load the ONNX model ${what}: ${reason}`, { cause });
    this.name = 'ModelLoadError';
  }
}

type Ort = typeof import('onnxruntime-node');
let ortModule: Promise<Ort> | undefined;

const ORT_LOG_LEVELS = ['verbose', 'info', 'warning', 'error', 'fatal'] as const;

/**
 * onnxruntime-node, loaded on first use (importing this package loads nothing native). Its own log
 * goes to stderr in red; every failure it logs also comes back to us as an error we report in one
 * line, so it logs only fatal errors unless `FRAMECRAFT_ORT_LOG_LEVEL` (verbose, info, warning,
 * error, fatal) asks for more. The level is fixed when the first session is created.
 */
export function loadOrt(): Promise<Ort> {
  ortModule ??= import('onnxruntime-node').then((ort) => {
    const asked = process.env.FRAMECRAFT_ORT_LOG_LEVEL;
    ort.env.logLevel = ORT_LOG_LEVELS.find((l) => l === asked) ?? 'fatal';
    return ort;
  });
  return ortModule;
}

function describeMeta(meta: readonly unknown[] | undefined, names: readonly string[]): TensorInfo[] {
  return names.map((name, i) => {
    const m = (meta?.[i] ?? {}) as { type?: string; shape?: (number | string)[] };
    return { name, type: m.type ?? 'unknown', shape: m.shape ?? [] };
  });
}

/**
 * An ONNX Runtime session with the execution provider chosen from what is available and asked for,
 * its inputs and outputs introspected; in this thread or, with `thread: true`, on its own.
 */
export class OnnxSession implements SessionInfo {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  /** The execution provider in use. */
  readonly provider: 'cpu' | 'cuda';
  /** Why this provider: `CUDA loaded`, `asked for CPU`, or `no CUDA: <why>`. */
  readonly providerReason: string;
  /** Whether the model runs on a thread of its own. */
  readonly threaded: boolean;
  readonly #backend: SessionBackend;

  private constructor(info: SessionInfo, backend: SessionBackend, threaded: boolean) {
    this.inputs = info.inputs;
    this.outputs = info.outputs;
    this.provider = info.provider;
    this.providerReason = info.providerReason;
    this.threaded = threaded;
    this.#backend = backend;
  }

  /**
   * Load a model.
   *
   * @param model - A path or the model's bytes.
   * @param options - Provider and threads.
   * @returns The session.
   * @throws {ModelLoadError} `ERR_MODEL_LOAD` naming the model and ONNX Runtime's reason.
   */
  static async create(model: string | Uint8Array, options: SessionOptions = {}): Promise<OnnxSession> {
    if (options.thread === true) {
      const { openThreaded } = await import('./session-thread.ts');
      const { info, backend } = await openThreaded(model, options);
      return new OnnxSession(info, backend, true);
    }
    const { info, session, ort } = await OnnxSession.#open(model, options);
    return new OnnxSession(info, inThread(ort, session, info), false);
  }

  /**
   * Load a model in this thread (what {@link create} does, and what a session thread does for it).
   *
   * @param model - A path or the model's bytes.
   * @param options - Provider and threads.
   * @returns The session's description and a backend that runs it here.
   * @internal
   */
  static async openHere(
    model: string | Uint8Array,
    options: SessionOptions,
  ): Promise<{ info: SessionInfo; backend: SessionBackend }> {
    const { info, session, ort } = await OnnxSession.#open(model, options);
    return { info, backend: inThread(ort, session, info) };
  }

  static async #open(
    model: string | Uint8Array,
    options: SessionOptions,
  ): Promise<{ info: SessionInfo; session: InferenceSession; ort: Ort }> {
    const ort = await loadOrt();
    const what = typeof model === 'string' ? model : `(${model.length} bytes)`;
    const want = options.provider ?? 'auto';
    const base: InferenceSession.SessionOptions = {
      ...(options.threads !== undefined && { intraOpNumThreads: options.threads }),
      graphOptimizationLevel: 'all',
    };
    // Two identical calls because ORT types a path and bytes as separate overloads.
    const open = (providers: string[]): Promise<InferenceSession> =>
      typeof model === 'string'
        ? ort.InferenceSession.create(model, { ...base, executionProviders: providers })
        : ort.InferenceSession.create(model, { ...base, executionProviders: providers });
    let reason = want === 'cpu' ? 'asked for CPU' : '';
    if (want !== 'cpu') {
      // Only where the provider libraries and a driver exist: elsewhere ONNX Runtime would fail
      // anyway, after printing its own errors.
      const cuda = cudaSupport();
      if (!cuda.available) reason = `no CUDA: ${cuda.reason}`;
      else
        try {
          const session = await open(['cuda']);
          options.onLog?.('ONNX Runtime: CUDA execution provider');
          return { info: describe(session, 'cuda', 'CUDA loaded'), session, ort };
        } catch (err) {
          reason = `no CUDA: ONNX Runtime could not start it (${(err as Error).message.split('\n')[0]})`;
        }
      options.onLog?.(`ONNX Runtime: running on CPU (${reason})`);
    }
    try {
      const session = await open(['cpu']);
      return { info: describe(session, 'cpu', reason), session, ort };
    } catch (err) {
      throw new ModelLoadError(what, (err as Error).message.split('\n')[0] ?? String(err), err);
    }
  }

  /**
   * Run the model on one float32 input.
   *
   * @param data - Input values.
   * @param dims - Input shape.
   * @returns The first output's values and shape.
   */
  run(data: Float32Array, dims: readonly number[]): Promise<{ data: Float32Array; dims: readonly number[] }> {
    return this.#backend.run(data, dims);
  }

  /**
   * Run once on a small input, so the first real frame does not pay for lazy initialisation.
   *
   * @param height - Warm-up height (64 by default).
   * @param width - Warm-up width (64 by default).
   */
  async warmUp(height = 64, width = 64): Promise<void> {
    await this.run(new Float32Array(3 * height * width), [1, 3, height, width]);
  }

  /** Release the session. */
  async close(): Promise<void> {
    await this.#backend.release();
  }
}

/** A session's description: provider, inputs and outputs (with their metadata when ORT has it). */
function describe(session: InferenceSession, provider: 'cpu' | 'cuda', reason: string): SessionInfo {
  // Tensor metadata came to ONNX Runtime's session later than its typings; read it when present.
  const meta = (key: 'inputMetadata' | 'outputMetadata'): readonly unknown[] | undefined => {
    const value: unknown = key in session ? Reflect.get(session, key) : undefined;
    return Array.isArray(value) ? value : undefined;
  };
  return {
    inputs: describeMeta(meta('inputMetadata'), session.inputNames),
    outputs: describeMeta(meta('outputMetadata'), session.outputNames),
    provider,
    providerReason: reason,
  };
}

/** Running a session in this thread: the first input in, the first output back. */
function inThread(ort: Ort, session: InferenceSession, info: SessionInfo): SessionBackend {
  const input = info.inputs[0]!.name;
  const output = info.outputs[0]!.name;
  return {
    async run(data, dims) {
      const result = await session.run({ [input]: new ort.Tensor('float32', data, dims as number[]) });
      const out = result[output] as Tensor;
      return { data: out.data as Float32Array, dims: out.dims };
    },
    release: () => session.release(),
  };
}

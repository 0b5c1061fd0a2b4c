// The parent's side of a session on a thread of its own: starts the worker (session-worker),
// forwards runs to it and matches the answers to them.
import { Worker } from 'node:worker_threads';
import { FramecraftError } from '@framecraft/core';
import { ModelLoadError, type SessionBackend, type SessionInfo, type SessionOptions } from './session.ts';

/** An error as it crosses between threads. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly code: string | null;
}

/** Messages from the session thread. */
export type FromSessionThread =
  | { readonly type: 'ready'; readonly info: SessionInfo }
  | { readonly type: 'log'; readonly message: string }
  | { readonly type: 'result'; readonly id: number; readonly data: Float32Array; readonly dims: number[] }
  | { readonly type: 'failed'; readonly id: number | null; readonly error: WireError }
  | { readonly type: 'closed' };

/** Messages to the session thread. */
export type ToSessionThread =
  | { readonly type: 'run'; readonly id: number; readonly data: Float32Array; readonly dims: number[] }
  | { readonly type: 'close' };

/** What the session thread is started with. */
export interface SessionThreadData {
  readonly model: string | Uint8Array;
  readonly provider: SessionOptions['provider'];
  readonly threads: number | undefined;
}

const workerUrl = (): URL =>
  new URL(import.meta.url.endsWith('.ts') ? './session-worker.ts' : './session-worker.js', import.meta.url);

/** An error from the other thread as an Error here, keeping its name and code. */
function revive(e: WireError, what: string): Error {
  if (e.code === 'ERR_MODEL_LOAD') {
    const err = new ModelLoadError(what, e.message.replace(/^Could not load the ONNX model .*?: /, ''));
    return err;
  }
  const err =
    e.code !== null ? new FramecraftError(e.code as `ERR_${string}`, e.message) : new Error(e.message);
  err.name = e.name;
  return err;
}

/**
 * Start a session thread for a model and wait until it has loaded it.
 *
 * @param model - A path or the model's bytes.
 * @param options - Provider, threads, log.
 * @returns The session's description and a backend that runs it on that thread.
 * @throws {ModelLoadError} When the thread cannot load the model.
 */
export function openThreaded(
  model: string | Uint8Array,
  options: SessionOptions,
): Promise<{ info: SessionInfo; backend: SessionBackend }> {
  const what = typeof model === 'string' ? model : `(${model.length} bytes)`;
  const data: SessionThreadData = { model, provider: options.provider, threads: options.threads };
  const worker = new Worker(workerUrl(), { workerData: data });
  // The thread keeps the process alive only while a run or the load is in flight: a session left
  // open does not hold a finished program.
  const settle = (): void => {
    if (pending.size === 0) worker.unref();
  };
  const pending = new Map<
    number,
    { resolve: (v: { data: Float32Array; dims: number[] }) => void; reject: (e: Error) => void }
  >();
  let nextId = 0;
  let closed: (() => void) | null = null;
  let dead: Error | null = null;
  return new Promise((resolve, reject) => {
    let ready = false;
    const fail = (err: Error): void => {
      dead = err;
      for (const p of pending.values()) p.reject(err);
      pending.clear();
      if (!ready) reject(err);
    };
    worker.on('error', (err) => fail(err));
    worker.on('exit', (code) => {
      closed?.();
      if (closed === null) fail(new Error(`the session thread for ${what} stopped (exit code ${code})`));
    });
    worker.on('message', (m: FromSessionThread) => {
      if (m.type === 'log') options.onLog?.(m.message);
      else if (m.type === 'ready') {
        ready = true;
        settle();
        resolve({ info: m.info, backend });
      } else if (m.type === 'result') {
        const p = pending.get(m.id);
        pending.delete(m.id);
        settle();
        p?.resolve({ data: m.data, dims: m.dims });
      } else if (m.type === 'failed') {
        const err = revive(m.error, what);
        if (m.id === null) {
          ready = true;
          closed = () => {};
          void worker.terminate();
          reject(err);
          return;
        }
        const p = pending.get(m.id);
        pending.delete(m.id);
        settle();
        p?.reject(err);
      } else if (m.type === 'closed') void worker.terminate();
    });
    const backend: SessionBackend = {
      run(input, dims) {
        if (dead !== null) return Promise.reject(dead);
        if (closed !== null) return Promise.reject(new Error(`the session for ${what} is closed`));
        const id = nextId++;
        // A copy goes to the thread (the caller keeps its array), moved rather than cloned.
        const copy = input.slice();
        return new Promise((res, rej) => {
          pending.set(id, { resolve: res, reject: rej });
          worker.ref();
          const message: ToSessionThread = { type: 'run', id, data: copy, dims: [...dims] };
          worker.postMessage(message, [copy.buffer as ArrayBuffer]);
        });
      },
      release() {
        if (closed !== null) return Promise.resolve();
        return new Promise((res) => {
          closed = res;
          worker.ref();
          const message: ToSessionThread = { type: 'close' };
          worker.postMessage(message);
        });
      },
    };
  });
}

// Worker-thread entry of a session on a thread of its own (OnnxSession with `thread: true`): loads
// the model here and runs what the parent sends, one run after another, moving outputs back.
import { parentPort, workerData } from 'node:worker_threads';
import { OnnxSession, type SessionBackend } from './session.ts';
import type { FromSessionThread, SessionThreadData, ToSessionThread, WireError } from './session-thread.ts';

const port = parentPort;
const send = (m: FromSessionThread, transfer: ArrayBuffer[] = []): void => port?.postMessage(m, transfer);
const wire = (err: unknown): WireError => {
  const e = err as { name?: string; message?: string; code?: unknown };
  return {
    name: e?.name ?? 'Error',
    message: e?.message ?? String(err),
    code: typeof e?.code === 'string' ? e.code : null,
  };
};

if (port !== null) {
  const data = workerData as SessionThreadData;
  let backend: SessionBackend | null = null;
  try {
    const opened = await OnnxSession.openHere(data.model, {
      ...(data.provider !== undefined && { provider: data.provider }),
      ...(data.threads !== undefined && { threads: data.threads }),
      onLog: (message) => send({ type: 'log', message }),
    });
    backend = opened.backend;
    send({ type: 'ready', info: opened.info });
  } catch (err) {
    send({ type: 'failed', id: null, error: wire(err) });
  }
  // Runs are taken in order: ONNX Runtime computes each on this thread before the next message.
  port.on('message', async (m: ToSessionThread) => {
    if (backend === null) return;
    if (m.type === 'close') {
      await backend.release();
      backend = null;
      send({ type: 'closed' });
      return;
    }
    try {
      const out = await backend.run(m.data, m.dims);
      // ONNX Runtime's output may live in memory it owns: a copy of our own is moved back.
      const copy = out.data.slice();
      send({ type: 'result', id: m.id, data: copy, dims: [...out.dims] }, [copy.buffer as ArrayBuffer]);
    } catch (err) {
      send({ type: 'failed', id: m.id, error: wire(err) });
    }
  });
}

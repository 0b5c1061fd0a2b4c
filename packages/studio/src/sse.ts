import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';

/** One server-sent event. */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
}

/**
 * Relay events to a client as server-sent events, in the order they were pushed, until the client
 * goes away or an event pushed as final has been sent. `start` pushes what is known now, subscribes
 * to what comes, and returns its unsubscribe function.
 */
export function relay(
  c: Context,
  start: (push: (event: SseEvent, final?: boolean) => void) => () => void,
): Response {
  return streamSSE(c, async (stream) => {
    const pending: { event: SseEvent; final: boolean }[] = [];
    let wake: (() => void) | null = null;
    const off = start((event, final = false) => {
      pending.push({ event, final });
      wake?.();
    });
    stream.onAbort(() => wake?.());
    try {
      while (!stream.aborted) {
        const next = pending.shift();
        if (next === undefined) {
          await new Promise<void>((r) => {
            wake = r;
          });
          continue;
        }
        await stream.writeSSE(next.event);
        if (next.final) break;
      }
    } finally {
      off();
    }
  });
}

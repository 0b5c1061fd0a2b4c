import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { modelRegistry } from '@framecraft/pipeline';
import { FeedbackLog } from '@framecraft/trainer';
import { serve } from '@hono/node-server';
import { createApp } from './app.ts';
import { type Renderer, RenderQueue } from './queue.ts';
import { AllowedRoots } from './roots.ts';
import { TrainingRuns } from './training.ts';

/** Options of {@link startStudio}. */
export interface StudioOptions {
  /** Folders the studio may read and write; the data folder's `studio` folder is always added. */
  readonly roots: readonly string[];
  /** The data folder (`~/.framecraft` or FRAMECRAFT_HOME). */
  readonly dataHome: string;
  /** 127.0.0.1 by default; another address only when asked for (see `onWarning`). */
  readonly host?: string;
  /** 0 picks a free port; 7860 by default. */
  readonly port?: number;
  readonly uploadLimit?: number;
  readonly nvidiaSmi?: string;
  readonly onWarning?: (message: string) => void;
  /** How the queue's jobs render (a render farm's `farmRender`); in this process by default. */
  readonly render?: Renderer;
  /** Where they render, in words ("the farm at redis://…"). */
  readonly renderTarget?: string;
  /** Least time between two progress updates the pages hear, ms; 200 by default. */
  readonly progressIntervalMs?: number;
}

/** A running studio. */
export interface RunningStudio {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly queue: RenderQueue;
  /** Stop the server; a running render stays queued in the file and resumes on the next start. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * Start the studio's server (Hono on Node's HTTP server through `@hono/node-server`, which Bun runs
 * too). Binds to 127.0.0.1 unless told otherwise; any other address gets a warning, since the
 * studio reads and writes files in the allowed folders for whoever can reach it.
 *
 * @throws {FramecraftError} `ERR_ROOT` for an allowed folder that does not exist.
 */
export async function startStudio(o: StudioOptions): Promise<RunningStudio> {
  const host = o.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host))
    o.onWarning?.(
      `The studio listens on ${host}: anyone who can reach this address can read and write files in ${o.roots.join(', ')} and start renders. Use 127.0.0.1 unless you mean it.`,
    );
  const studioDir = join(o.dataHome, 'studio');
  await mkdir(join(studioDir, 'uploads'), { recursive: true });
  const roots = await AllowedRoots.create([...o.roots, studioDir]);
  const queue = await RenderQueue.open(join(studioDir, 'queue.json'), {
    ...(o.render !== undefined && { render: o.render }),
    ...(o.renderTarget !== undefined && { target: o.renderTarget }),
    ...(o.progressIntervalMs !== undefined && { progressIntervalMs: o.progressIntervalMs }),
  });
  const feedback = new FeedbackLog(join(o.dataHome, 'feedback'));
  const registry = modelRegistry(o.dataHome);
  const training = new TrainingRuns(feedback, registry, join(studioDir, 'training'));
  const app = createApp({
    defaultsFile: join(studioDir, 'defaults.json'),
    training,
    registry,
    roots,
    queue,
    labDir: join(studioDir, 'lab'),
    feedback,
    uploadDir: join(studioDir, 'uploads'),
    ...(o.uploadLimit !== undefined && { uploadLimit: o.uploadLimit }),
    ...(o.nvidiaSmi !== undefined && { nvidiaSmi: o.nvidiaSmi }),
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port: o.port ?? 7860 }, () => resolve(s));
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}`,
    host,
    port,
    queue,
    close: async () => {
      await queue.close();
      await new Promise<void>((resolve, reject) => {
        // Node's HTTP server (not HTTP/2) can drop idle keep-alive and SSE connections at once.
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      });
    },
  };
}

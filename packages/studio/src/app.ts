import type { ModelRegistry } from '@framecraft/ml';
import type { FeedbackLog } from '@framecraft/trainer';
import { Hono, type MiddlewareHandler } from 'hono';
import { failure, StudioError } from './errors.ts';
import { LabComparisons } from './lab.ts';
import { addPages } from './pages.ts';
import type { RenderQueue } from './queue.ts';
import type { AllowedRoots } from './roots.ts';
import { fileRoutes } from './routes/files.ts';
import { jobRoutes } from './routes/jobs.ts';
import { labRoutes } from './routes/lab.ts';
import { settingsRoutes } from './routes/settings.ts';
import { trainerRoutes } from './routes/trainer.ts';
import type { TrainingRuns } from './training.ts';

/** Options of {@link createApp}. */
export interface StudioAppOptions {
  readonly roots: AllowedRoots;
  /** Where uploads go (inside the data folder, never over a user's file). */
  readonly uploadDir: string;
  /** Largest upload in bytes; 2 GiB by default. */
  readonly uploadLimit?: number;
  /** Origins allowed to change state besides the server's own (for example a dev server). */
  readonly origins?: readonly string[];
  /** nvidia-smi to ask about GPUs (tests point it at a missing program). */
  readonly nvidiaSmi?: string;
  /** The render queue behind `/api/jobs`. */
  readonly queue: RenderQueue;
  /** Where style-lab comparisons are rendered. */
  readonly labDir: string;
  /** Style-lab comparisons kept for judging (the oldest dropped with its images); 32 by default. */
  readonly labCapacity?: number;
  /** The feedback log judgements go to (the trainer reads it). */
  readonly feedback: FeedbackLog;
  /** Training runs of the trainer page. */
  readonly training: TrainingRuns;
  /** The model registry (settings and trainer pages list it). */
  readonly registry: ModelRegistry;
  /** Where the dashboard's defaults are kept (JSON). */
  readonly defaultsFile: string;
}

/**
 * Refuse cross-site requests that change state: a page elsewhere must not start renders or write
 * files through a studio running on this machine. Browsers send Origin with every POST, PUT, PATCH
 * and DELETE; it must be the studio's own (or one configured). hono/csrf is not enough here: it
 * only looks at form content types, and uploads are application/octet-stream.
 */
function sameOrigin(origins: readonly string[]): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'OPTIONS') return next();
    const origin = c.req.header('origin');
    const own = new URL(c.req.url).origin;
    const site = c.req.header('sec-fetch-site');
    const allowed =
      origin === undefined
        ? site === undefined || site === 'same-origin' || site === 'none'
        : origin === own || origins.includes(origin);
    if (!allowed)
      throw new StudioError(
        'ERR_ORIGIN',
        `requests that change state must come from ${own}; this one came from ${origin ?? site}`,
      );
    return next();
  };
}

/**
 * The studio's HTTP application (Hono): the pages, and the JSON API under `/api/` made of one route
 * module per area (`routes/`: files, jobs, lab, trainer, settings). Request bodies are checked
 * against valibot schemas; every failure is thrown and becomes `{ error: { code, message } }` with
 * its status in one place (`errors.ts`). State-changing requests must come from the studio's own
 * origin; paths must lie in the allowed folders; uploads have a size limit and land in the upload
 * folder under a fresh name.
 *
 * @param o - Allowed folders, upload folder and limit, and the queue, feedback log, training runs
 *   and registry the routes work on.
 */
export function createApp(o: StudioAppOptions): Hono {
  const app = new Hono();
  app.use('/api/*', sameOrigin(o.origins ?? []));
  app.onError((err, c) => {
    const { status, body } = failure(err);
    return c.json(body, status);
  });
  addPages(app);
  return app
    .route(
      '/api',
      fileRoutes({ roots: o.roots, uploadDir: o.uploadDir, uploadLimit: o.uploadLimit ?? 2 * 1024 ** 3 }),
    )
    .route('/api', jobRoutes({ roots: o.roots, queue: o.queue }))
    .route(
      '/api',
      labRoutes({
        roots: o.roots,
        labDir: o.labDir,
        comparisons: new LabComparisons(o.labCapacity),
        feedback: o.feedback,
        registry: o.registry,
      }),
    )
    .route('/api', trainerRoutes({ feedback: o.feedback, training: o.training }))
    .route(
      '/api',
      settingsRoutes({
        roots: o.roots,
        registry: o.registry,
        defaultsFile: o.defaultsFile,
        renderTarget: o.queue.target,
        ...(o.nvidiaSmi !== undefined && { nvidiaSmi: o.nvidiaSmi }),
      }),
    );
}

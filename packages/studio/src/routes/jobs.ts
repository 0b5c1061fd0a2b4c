import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { assertJobInput, type JobInput, planBatch, VIDEO_EXTENSIONS } from '@framecraft/pipeline';
import { vValidator } from '@hono/valibot-validator';
import { Hono } from 'hono';
import * as v from 'valibot';
import type { FolderQueued, JobList } from '../api.ts';
import { invalidBody, StudioError } from '../errors.ts';
import type { RenderQueue } from '../queue.ts';
import type { AllowedRoots } from '../roots.ts';
import { relay } from '../sse.ts';

/** What the queue routes work on. */
export interface JobRoutesOptions {
  readonly roots: AllowedRoots;
  readonly queue: RenderQueue;
}

/** A job as the pages send it: the job file's fields; the work folder is the studio's choice. */
const JobBody = v.looseObject({ input: v.string(), output: v.string() });

/** A folder of videos and the job fields each of them gets. */
const FolderBody = v.looseObject({
  folder: v.string(),
  style: v.string(),
  outDir: v.optional(v.string()),
  recursive: v.optional(v.boolean()),
});

/**
 * A job for the queue from a page's fields and the paths the studio checked, checked as the CLI
 * checks a job file (so a bad field is refused now, not when the job starts) and kept as sent.
 * Fields that name paths or the work folder come only from the studio.
 */
function jobOf(fields: Readonly<Record<string, unknown>>, input: string, output: string): JobInput {
  const { workDir: _w, folder: _f, outDir: _o, recursive: _r, ...rest } = fields;
  const job = { ...rest, input, output };
  assertJobInput(job);
  return job;
}

/**
 * The render queue: its jobs, one render (input and output in the allowed folders; the output must
 * not exist — the studio never replaces a file the user already has), every video of a folder
 * (the naming and skipping of `render --out-dir`), cancel and retry, and live updates as
 * server-sent events (`jobs`, a snapshot, then `job` for each change).
 */
export function jobRoutes(o: JobRoutesOptions): Hono {
  return new Hono()
    .get('/jobs', (c) => {
      const list: JobList = { jobs: o.queue.list(), target: o.queue.target };
      return c.json(list);
    })
    .post(
      '/jobs',
      vValidator('json', JobBody, invalidBody('ERR_JOB_CONFIG', 'a JSON job { input, output, style, … }')),
      async (c) => {
        const body = c.req.valid('json');
        const input = await o.roots.check(body.input);
        const output = await o.roots.check(body.output);
        if (existsSync(output))
          throw new StudioError('ERR_OUTPUT_EXISTS', `${output} exists; the studio never replaces a file`);
        return c.json(await o.queue.submit(jobOf(body, input, output)), 201);
      },
    )
    .post(
      '/jobs/folder',
      vValidator(
        'json',
        FolderBody,
        invalidBody('ERR_JOB_CONFIG', '{ folder, style, outDir?, recursive?, …job fields }'),
      ),
      async (c) => {
        const body = c.req.valid('json');
        const folder = await o.roots.check(body.folder);
        const outDir = await o.roots.check(
          body.outDir !== undefined && body.outDir !== '' ? body.outDir : join(folder, 'stylized'),
        );
        const plan = await planBatch({
          inputs: [folder],
          outDir,
          style: body.style,
          recursive: body.recursive === true,
        });
        if (plan.items.length === 0)
          throw new StudioError(
            'ERR_NO_VIDEOS',
            `${folder} has no videos (${[...VIDEO_EXTENSIONS].join(', ')})`,
          );
        const answer: FolderQueued = { folder, outDir, queued: [], skipped: [] };
        for (const item of plan.items) {
          if (existsSync(item.output)) {
            answer.skipped.push(item.output);
            continue;
          }
          await mkdir(dirname(item.output), { recursive: true });
          answer.queued.push(await o.queue.submit(jobOf(body, item.input, item.output)));
        }
        return c.json(answer, 201);
      },
    )
    .post('/jobs/:id/cancel', async (c) => c.json(await o.queue.cancel(c.req.param('id'))))
    .post('/jobs/:id/retry', async (c) => c.json(await o.queue.retry(c.req.param('id'))))
    .get('/events', (c) =>
      relay(c, (push) => {
        push({ event: 'jobs', data: JSON.stringify(o.queue.list()) });
        return o.queue.subscribe((job) => push({ event: 'job', data: JSON.stringify(job) }));
      }),
    );
}

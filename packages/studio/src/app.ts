import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FramecraftError } from '@framecraft/core';
import { hardwareInfo, probe, writeFileAtomic } from '@framecraft/io';
import { checkModelName, type ModelRegistry } from '@framecraft/ml';
import { planBatch, VIDEO_EXTENSIONS } from '@framecraft/pipeline';
import { knownStylizers, loadStylizer } from '@framecraft/stylizers';
import type { FeedbackLog } from '@framecraft/trainer';
import { toJsonSchema } from '@valibot/to-json-schema';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import { compareSettings, type LabComparison } from './lab.ts';
import { addPages } from './pages.ts';
import type { RenderQueue } from './queue.ts';
import { type AllowedRoots, PathNotAllowedError } from './roots.ts';
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
  /** The feedback log judgements go to (the trainer reads it). */
  readonly feedback: FeedbackLog;
  /** Training runs of the trainer page. */
  readonly training: TrainingRuns;
  /** The model registry (settings and trainer pages list it). */
  readonly registry: ModelRegistry;
  /** Where the dashboard's defaults are kept (JSON). */
  readonly defaultsFile: string;
}

/** The dashboard's starting values. */
interface Defaults {
  style: string;
  preset: 'speed' | 'balanced' | 'quality';
  codec: string;
  crf: number;
}

async function readDefaults(file: string): Promise<Defaults> {
  const base: Defaults = { style: 'pencil', preset: 'balanced', codec: 'auto', crf: 20 };
  const text = await readFile(file, 'utf8').catch(() => null);
  return text === null ? base : { ...base, ...(JSON.parse(text) as Partial<Defaults>) };
}

const MIME: Record<string, string> = {
  '.mp4': 'video/mp4',
  '.mkv': 'video/x-matroska',
  '.mov': 'video/quicktime',
  '.webm': 'video/webm',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
};

const UPLOAD_TYPES = new Set([
  '.mp4',
  '.mkv',
  '.mov',
  '.webm',
  '.avi',
  '.png',
  '.jpg',
  '.jpeg',
  '.webp',
  '.cube',
  '.onnx',
]);

/** Errors that mean the request conflicts with the current state (HTTP 409). */
const CONFLICTS = new Set(['ERR_OUTPUT_EXISTS', 'ERR_TRAINING_BUSY', 'ERR_TRAINING_STATE', 'ERR_JOB_STATE']);

/** JSON error body: `{ error: { code, message } }`. */
function failure(err: unknown): {
  status: 400 | 403 | 404 | 409 | 413 | 500;
  body: { error: { code: string; message: string } };
} {
  if (err instanceof PathNotAllowedError)
    return { status: 403, body: { error: { code: err.code, message: err.message } } };
  if (FramecraftError.is(err)) {
    const status = /NOT_FOUND$/.test(err.code) ? 404 : CONFLICTS.has(err.code) ? 409 : 400;
    return { status, body: { error: { code: err.code, message: err.message } } };
  }
  return { status: 500, body: { error: { code: 'ERR_INTERNAL', message: (err as Error).message } } };
}

/** One server-sent event. */
interface SseEvent {
  readonly event: string;
  readonly data: string;
}

/**
 * Relay events to a client as server-sent events, in the order they were pushed, until the client
 * goes away or an event pushed as final has been sent. `start` pushes what is known now, subscribes
 * to what comes, and returns its unsubscribe function.
 */
function relay(
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

/**
 * The studio's HTTP application (Hono): the pages and the JSON API under `/api/`. State-changing
 * requests must come from the studio's own origin (checked below); paths must lie in the allowed
 * folders; uploads have a size limit and land in the upload folder under a fresh name.
 *
 * @param o - Allowed folders, upload folder and limit, and the queue, feedback log, training runs
 *   and registry the routes work on.
 */
export function createApp(o: StudioAppOptions): Hono {
  const app = new Hono();
  const limit = o.uploadLimit ?? 2 * 1024 ** 3;
  // Cross-site requests that change state are refused: a page elsewhere must not start renders or
  // write files through a studio running on this machine. Browsers send Origin with every POST,
  // PUT, PATCH and DELETE; it must be the studio's own (or one configured). hono/csrf is not
  // enough here: it only looks at form content types, and uploads are application/octet-stream.
  app.use('/api/*', async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'OPTIONS') return next();
    const origin = c.req.header('origin');
    const own = new URL(c.req.url).origin;
    const site = c.req.header('sec-fetch-site');
    const allowed =
      origin === undefined
        ? site === undefined || site === 'same-origin' || site === 'none'
        : origin === own || (o.origins ?? []).includes(origin);
    if (!allowed)
      return c.json(
        {
          error: {
            code: 'ERR_ORIGIN',
            message: `requests that change state must come from ${own}; this one came from ${origin ?? site}`,
          },
        },
        403,
      );
    return next();
  });
  app.onError((err, c) => {
    const { status, body } = failure(err);
    return c.json(body, status);
  });

  addPages(app);
  app.get('/api/health', (c) => c.json({ ok: true }));

  app.get('/api/roots', (c) => c.json({ roots: o.roots.list }));

  app.get('/api/files', async (c) => {
    const dir = await o.roots.check(c.req.query('dir') ?? o.roots.list[0]!);
    const entries = await readdir(dir, { withFileTypes: true });
    return c.json({
      dir,
      entries: entries
        .filter((e) => !e.name.startsWith('.'))
        .map((e) => ({ name: e.name, dir: e.isDirectory() }))
        .sort((a, b) => Number(b.dir) - Number(a.dir) || a.name.localeCompare(b.name)),
    });
  });

  app.get('/api/probe', async (c) => {
    const path = await o.roots.check(c.req.query('path') ?? '');
    return c.json(await probe(path));
  });

  // The styles and their schemas do not change while the server runs (loading the neural style
  // imports ONNX Runtime): worked out once.
  let styleList: Promise<unknown[]> | undefined;
  const listStyles = async (): Promise<unknown[]> => {
    const styles = [];
    for (const name of knownStylizers()) {
      const s = await loadStylizer(name);
      // The options as JSON Schema (from the style's valibot schema), so the dashboard's forms are
      // generated from the single source of truth; checks JSON Schema cannot say are left out.
      const schema = toJsonSchema(s.options as never, { errorMode: 'ignore' });
      styles.push({
        name: s.name,
        description: s.description,
        inputFormat: s.inputFormat,
        presets: s.presets,
        schema,
      });
    }
    return styles;
  };
  app.get('/api/styles', async (c) => {
    styleList ??= listStyles().catch((err: unknown) => {
      styleList = undefined;
      throw err;
    });
    return c.json({ styles: await styleList });
  });

  // A file from an allowed folder, for the browser to play or show (range requests for video).
  app.get('/api/file', async (c) => {
    const path = await o.roots.check(c.req.query('path') ?? '');
    const info = await stat(path);
    if (!info.isFile())
      return c.json({ error: { code: 'ERR_NOT_A_FILE', message: `${path} is not a file` } }, 400);
    const type = MIME[extname(path).toLowerCase()] ?? 'application/octet-stream';
    const range = /^bytes=(\d+)-(\d*)$/.exec(c.req.header('range') ?? '');
    if (range !== null) {
      const start = Number(range[1]);
      const end = range[2] === '' ? info.size - 1 : Math.min(Number(range[2]), info.size - 1);
      if (start > end) return c.body(null, 416, { 'content-range': `bytes */${info.size}` });
      return c.body(Readable.toWeb(createReadStream(path, { start, end })) as ReadableStream, 206, {
        'content-type': type,
        'content-range': `bytes ${start}-${end}/${info.size}`,
        'accept-ranges': 'bytes',
        'content-length': String(end - start + 1),
      });
    }
    return c.body(Readable.toWeb(createReadStream(path)) as ReadableStream, 200, {
      'content-type': type,
      'accept-ranges': 'bytes',
      'content-length': String(info.size),
    });
  });

  // A finished render's per-frame metrics (the JSON lines beside its output), for the charts.
  app.get('/api/metrics', async (c) => {
    const output = await o.roots.check(c.req.query('output') ?? '');
    const stem = output.slice(0, output.length - extname(output).length);
    const text = await readFile(`${stem}.metrics.jsonl`, 'utf8').catch(() => null);
    if (text === null)
      return c.json(
        { error: { code: 'ERR_NO_METRICS', message: `${output} was rendered without metrics` } },
        404,
      );
    const frames = text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    return c.json({ frames });
  });

  // Approved judgements (what the trainer would learn from), with their images.
  app.get('/api/feedback', async (c) => {
    const records = (await o.feedback.read()).filter(
      (r) => r.approved && (r.choice === 'a' || r.choice === 'b'),
    );
    return c.json({
      pairs: records.map((r) => ({
        id: r.id,
        time: r.time,
        clip: r.clip ?? null,
        frameIndex: r.frameIndex ?? null,
        style: r.choice === 'b' ? r.b?.style : r.a.style,
        input: `/api/feedback/${r.id}/input`,
        target: `/api/feedback/${r.id}/target`,
      })),
    });
  });
  app.get('/api/feedback/:id/:which{(input|target)}', async (c) => {
    const r = (await o.feedback.read()).find((x) => x.id === c.req.param('id'));
    if (r === undefined)
      return c.json({ error: { code: 'ERR_FEEDBACK_NOT_FOUND', message: 'no such judgement' } }, 404);
    const rel = c.req.param('which') === 'input' ? r.input : r.choice === 'b' ? r.b!.image : r.a.image;
    const file = join(o.feedback.dir, rel);
    return c.body(await readFile(file), 200, {
      'content-type': MIME[extname(file).toLowerCase()] ?? 'image/png',
    });
  });

  // Defaults the dashboard starts from, kept beside the queue.
  app.get('/api/defaults', async (c) => c.json(await readDefaults(o.defaultsFile)));
  app.post('/api/defaults', async (c) => {
    const body = ((await c.req.json().catch(() => null)) ?? {}) as Record<string, unknown>;
    const d = { ...(await readDefaults(o.defaultsFile)) };
    if (typeof body.style === 'string') d.style = body.style;
    if (body.preset === 'speed' || body.preset === 'balanced' || body.preset === 'quality')
      d.preset = body.preset;
    if (typeof body.codec === 'string') d.codec = body.codec;
    if (typeof body.crf === 'number' && body.crf >= 0 && body.crf <= 51) d.crf = body.crf;
    await mkdir(dirname(o.defaultsFile), { recursive: true });
    await writeFileAtomic(o.defaultsFile, `${JSON.stringify(d, null, 2)}\n`);
    return c.json(d);
  });

  app.get('/api/models', async (c) => {
    return c.json({ models: await o.registry.list(), promoted: await o.registry.promotedVersions() });
  });

  app.get('/api/settings', async (c) => {
    const hw = await hardwareInfo(o.nvidiaSmi !== undefined ? { nvidiaSmi: o.nvidiaSmi } : {});
    const hot = hw.gpus.filter((g) => (g.temperatureC ?? 0) > 80);
    return c.json({
      gpus: hw.gpus,
      gpuNote: hw.gpuNote,
      nvenc: hw.nvenc,
      warnings: hot.map((g) => `GPU ${g.index} (${g.name}) is at ${g.temperatureC} °C, above 80 °C`),
      advice: hw.nvenc.usable
        ? 'h264_nvenc is usable: renders encode on the GPU (codec auto).'
        : `No usable NVENC (${hw.nvenc.reason ?? 'no NVIDIA encoder'}): renders encode with libx264 on the CPU.`,
      roots: o.roots.list,
      renderTarget: o.queue.target,
    });
  });

  app.get('/api/jobs', (c) => c.json({ jobs: o.queue.list(), target: o.queue.target }));

  // A render: input and output must be in the allowed folders, and the output must not exist —
  // the studio never replaces a file the user already has.
  app.post('/api/jobs', async (c) => {
    const body = (await c.req.json().catch(() => null)) as Record<string, unknown> | null;
    if (body === null || typeof body !== 'object')
      return c.json({ error: { code: 'ERR_JOB_CONFIG', message: 'expected a JSON job' } }, 400);
    const input = await o.roots.check(String(body.input ?? ''));
    const output = await o.roots.check(String(body.output ?? ''));
    if (existsSync(output))
      throw new FramecraftError('ERR_OUTPUT_EXISTS', `${output} exists; the studio never replaces a file`);
    const { workDir: _ignored, ...rest } = body;
    const job = await o.queue.submit({ ...(rest as object), input, output } as never);
    return c.json(job, 201);
  });

  // A folder: one job per video in it (the same naming and skipping as `render --out-dir`).
  app.post('/api/jobs/folder', async (c) => {
    const body = (await c.req.json().catch(() => null)) as Record<string, unknown> | null;
    if (
      body === null ||
      typeof body !== 'object' ||
      typeof body.folder !== 'string' ||
      typeof body.style !== 'string'
    )
      return c.json(
        {
          error: {
            code: 'ERR_JOB_CONFIG',
            message: 'expected { folder, style, outDir?, recursive?, …job fields }',
          },
        },
        400,
      );
    const folder = await o.roots.check(body.folder);
    const outDir = await o.roots.check(
      typeof body.outDir === 'string' && body.outDir !== '' ? body.outDir : join(folder, 'stylized'),
    );
    const { folder: _f, outDir: _o, recursive, workDir: _w, input: _i, output: _out, ...fields } = body;
    const plan = await planBatch({
      inputs: [folder],
      outDir,
      style: body.style,
      recursive: recursive === true,
    });
    if (plan.items.length === 0)
      throw new FramecraftError(
        'ERR_NO_VIDEOS',
        `${folder} has no videos (${[...VIDEO_EXTENSIONS].join(', ')})`,
      );
    const queued = [];
    const skipped = [];
    for (const item of plan.items) {
      if (existsSync(item.output)) {
        skipped.push(item.output);
        continue;
      }
      await mkdir(dirname(item.output), { recursive: true });
      queued.push(await o.queue.submit({ ...fields, input: item.input, output: item.output } as never));
    }
    return c.json({ folder, outDir, queued, skipped }, 201);
  });

  app.post('/api/jobs/:id/cancel', async (c) => c.json(await o.queue.cancel(c.req.param('id'))));
  app.post('/api/jobs/:id/retry', async (c) => c.json(await o.queue.retry(c.req.param('id'))));

  // Live updates: a snapshot of every job (`jobs`), then each change (`job`).
  app.get('/api/events', (c) =>
    relay(c, (push) => {
      push({ event: 'jobs', data: JSON.stringify(o.queue.list()) });
      return o.queue.subscribe((job) => push({ event: 'job', data: JSON.stringify(job) }));
    }),
  );

  // Style lab: one frame with two settings, then a judgement appended to the feedback log.
  const comparisons = new Map<string, LabComparison>();
  app.post('/api/lab/compare', async (c) => {
    const body = (await c.req.json().catch(() => null)) as {
      input?: string;
      time?: number;
      a?: LabComparison['a'];
      b?: LabComparison['b'];
    } | null;
    if (body?.a?.style === undefined || body.b?.style === undefined)
      return c.json(
        {
          error: {
            code: 'ERR_LAB',
            message: 'expected { input, time, a: { style, options? }, b: { style, options? } }',
          },
        },
        400,
      );
    const input = await o.roots.check(String(body.input ?? ''));
    const cmp = await compareSettings({
      input,
      time: Number(body.time ?? 0),
      a: body.a,
      b: body.b,
      dir: o.labDir,
      registry: o.registry,
    });
    comparisons.set(cmp.id, cmp);
    const url = (which: string) => `/api/lab/${cmp.id}/${which}.png`;
    return c.json({ ...cmp, urls: { original: url('original'), a: url('a'), b: url('b') } }, 201);
  });

  app.get('/api/lab/:id/:image{(original|a|b)\\.png}', async (c) => {
    const cmp = comparisons.get(c.req.param('id'));
    if (cmp === undefined)
      return c.json({ error: { code: 'ERR_LAB_NOT_FOUND', message: 'no such comparison' } }, 404);
    const which = c.req.param('image').replace('.png', '') as keyof LabComparison['images'];
    return c.body(await readFile(cmp.images[which]), 200, { 'content-type': 'image/png' });
  });

  app.post('/api/lab/judge', async (c) => {
    const body = (await c.req.json().catch(() => null)) as {
      id?: string;
      choice?: 'a' | 'b' | 'tie' | 'neither';
      rating?: number;
      approved?: boolean;
      note?: string;
    } | null;
    const cmp = body?.id === undefined ? undefined : comparisons.get(body.id);
    if (cmp === undefined)
      return c.json({ error: { code: 'ERR_LAB_NOT_FOUND', message: 'no such comparison' } }, 404);
    if (!['a', 'b', 'tie', 'neither'].includes(String(body!.choice)))
      return c.json(
        { error: { code: 'ERR_FEEDBACK', message: "choice must be 'a', 'b', 'tie' or 'neither'" } },
        400,
      );
    const record = await o.feedback.append({
      kind: 'ab',
      input: cmp.images.original,
      a: {
        image: cmp.images.a,
        style: cmp.a.style,
        ...(cmp.a.options !== undefined && { options: cmp.a.options }),
      },
      b: {
        image: cmp.images.b,
        style: cmp.b.style,
        ...(cmp.b.options !== undefined && { options: cmp.b.options }),
      },
      choice: body!.choice!,
      ...(body!.rating !== undefined && { rating: body!.rating }),
      approved: body!.approved === true,
      clip: cmp.input,
      frameIndex: cmp.frameIndex,
      ...(body!.note !== undefined && { note: body!.note }),
    });
    return c.json(record, 201);
  });

  // Trainer: start on the approved pairs, follow the loss, then promote or discard the candidate.
  app.get('/api/train', (c) => c.json({ runs: o.training.list() }));
  app.post('/api/train', async (c) => {
    const body = (await c.req.json().catch(() => null)) as Record<string, unknown> | null;
    const name = String(body?.name ?? '');
    const mode = body?.mode === 'student' ? 'student' : 'finetune';
    // Before training starts, not when it registers the result minutes later.
    checkModelName(name);
    const num = (k: string): number | undefined =>
      typeof body?.[k] === 'number' ? (body[k] as number) : undefined;
    const run = await o.training.start({
      name,
      mode,
      ...(Array.isArray(body?.pairs) && { pairs: (body.pairs as unknown[]).map(String) }),
      ...(typeof body?.base === 'string' && { base: body.base }),
      ...(num('steps') !== undefined && { steps: num('steps')! }),
      ...(num('batch') !== undefined && { batch: num('batch')! }),
      ...(num('crop') !== undefined && { crop: num('crop')! }),
      ...(num('lr') !== undefined && { lr: num('lr')! }),
    });
    return c.json(run, 201);
  });
  app.get('/api/train/:id', (c) => c.json(o.training.get(c.req.param('id'))));
  app.post('/api/train/:id/promote', async (c) => c.json(await o.training.promote(c.req.param('id'))));
  app.post('/api/train/:id/discard', async (c) => c.json(await o.training.discard(c.req.param('id'))));
  // A run's events so far and as they come (`train`), then the finished run (`end`).
  app.get('/api/train/:id/events', (c) => {
    const run = o.training.get(c.req.param('id'));
    return relay(c, (push) => {
      for (const e of run.events) push({ event: 'train', data: JSON.stringify(e) });
      const end = (): void => push({ event: 'end', data: JSON.stringify(o.training.get(run.id)) }, true);
      if (run.state !== 'running') {
        end();
        return () => undefined;
      }
      return o.training.subscribe((r, e) => {
        if (r.id !== run.id) return;
        if (e !== null) push({ event: 'train', data: JSON.stringify(e) });
        else if (r.state !== 'running') end();
      });
    });
  });

  // Uploads: the raw body (Content-Type application/octet-stream), name in ?name=. Refused above
  // the limit (413) before and while reading; stored under a fresh name, never over a file.
  app.post(
    '/api/upload',
    bodyLimit({
      maxSize: limit,
      onError: (c) =>
        c.json(
          { error: { code: 'ERR_UPLOAD_TOO_LARGE', message: `uploads are limited to ${limit} bytes` } },
          413,
        ),
    }),
    async (c) => {
      const name = basename(c.req.query('name') ?? '');
      const ext = extname(name).toLowerCase();
      if (name === '' || !UPLOAD_TYPES.has(ext))
        return c.json(
          {
            error: {
              code: 'ERR_UPLOAD_TYPE',
              message: `${name || '(no name)'}: not a video, image, .cube or .onnx file`,
            },
          },
          400,
        );
      await mkdir(o.uploadDir, { recursive: true });
      const stem =
        basename(name, ext)
          .replace(/[^A-Za-z0-9._-]/g, '_')
          .slice(0, 80) || 'upload';
      let target = join(o.uploadDir, `${stem}${ext}`);
      for (let i = 1; existsSync(target); i++) target = join(o.uploadDir, `${stem}-${i}${ext}`);
      const tmp = `${target}.part-${process.pid}`;
      const body = c.req.raw.body;
      if (body === null) return c.json({ error: { code: 'ERR_UPLOAD_EMPTY', message: 'empty upload' } }, 400);
      try {
        await pipeline(Readable.fromWeb(body as never), createWriteStream(tmp, { flags: 'wx' }));
        await rename(tmp, target);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
      return c.json({ path: target, size: (await stat(target)).size }, 201);
    },
  );

  return app;
}

import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { checkModelName } from '@framecraft/ml';
import type { FeedbackLog } from '@framecraft/trainer';
import { vValidator } from '@hono/valibot-validator';
import { Hono } from 'hono';
import * as v from 'valibot';
import type { FeedbackPairs } from '../api.ts';
import { invalidBody, StudioError } from '../errors.ts';
import { relay } from '../sse.ts';
import type { TrainingRuns } from '../training.ts';
import { MIME } from './files.ts';

/** What the trainer routes work on. */
export interface TrainerRoutesOptions {
  readonly feedback: FeedbackLog;
  readonly training: TrainingRuns;
}

const TrainBody = v.object({
  name: v.string(),
  mode: v.optional(v.picklist(['finetune', 'student']), 'finetune'),
  pairs: v.optional(v.array(v.string())),
  base: v.optional(v.string()),
  steps: v.optional(v.number()),
  batch: v.optional(v.number()),
  crop: v.optional(v.number()),
  lr: v.optional(v.number()),
});

/**
 * The trainer: the approved judgements it would learn from (with their images), starting a run
 * on them, following its loss as server-sent events (`train` for each event, `end` with the
 * finished run), then promoting or discarding the candidate.
 */
export function trainerRoutes(o: TrainerRoutesOptions): Hono {
  return new Hono()
    .get('/feedback', async (c) => {
      const records = (await o.feedback.read()).filter(
        (r) => r.approved && (r.choice === 'a' || r.choice === 'b'),
      );
      const answer: FeedbackPairs = {
        pairs: records.map((r) => ({
          id: r.id,
          time: r.time,
          clip: r.clip ?? null,
          frameIndex: r.frameIndex ?? null,
          style: (r.choice === 'b' ? r.b?.style : r.a.style) ?? null,
          input: `/api/feedback/${r.id}/input`,
          target: `/api/feedback/${r.id}/target`,
        })),
      };
      return c.json(answer);
    })
    .get('/feedback/:id/:which{(input|target)}', async (c) => {
      const id = c.req.param('id');
      const r = (await o.feedback.read()).find((x) => x.id === id);
      if (r === undefined) throw new StudioError('ERR_FEEDBACK_NOT_FOUND', `no judgement ${id}`);
      const rel = c.req.param('which') === 'input' ? r.input : r.choice === 'b' ? r.b!.image : r.a.image;
      const file = join(o.feedback.dir, rel);
      return new Response(await readFile(file), {
        headers: { 'content-type': MIME[extname(file).toLowerCase()] ?? 'image/png' },
      });
    })
    .get('/train', (c) => c.json({ runs: o.training.list() }))
    .post(
      '/train',
      vValidator(
        'json',
        TrainBody,
        invalidBody(
          'ERR_TRAIN_REQUEST',
          "{ name, mode?: 'finetune' or 'student', pairs?, base?, steps?, … }",
        ),
      ),
      async (c) => {
        const body = c.req.valid('json');
        // Before training starts, not when it registers the result minutes later.
        checkModelName(body.name);
        return c.json(await o.training.start(body), 201);
      },
    )
    .get('/train/:id', (c) => c.json(o.training.get(c.req.param('id'))))
    .post('/train/:id/promote', async (c) => c.json(await o.training.promote(c.req.param('id'))))
    .post('/train/:id/discard', async (c) => c.json(await o.training.discard(c.req.param('id'))))
    .get('/train/:id/events', (c) => {
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
}

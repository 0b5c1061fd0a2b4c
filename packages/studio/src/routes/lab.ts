import { readFile } from 'node:fs/promises';
import type { ModelRegistry } from '@framecraft/ml';
import type { FeedbackLog, FeedbackOutput } from '@framecraft/trainer';
import { vValidator } from '@hono/valibot-validator';
import { Hono } from 'hono';
import * as v from 'valibot';
import type { LabCompared } from '../api.ts';
import { invalidBody } from '../errors.ts';
import { compareSettings, type LabComparisons, type LabSide } from '../lab.ts';
import type { AllowedRoots } from '../roots.ts';

/** What the style-lab routes work on. */
export interface LabRoutesOptions {
  readonly roots: AllowedRoots;
  /** Where comparisons are rendered. */
  readonly labDir: string;
  /** The comparisons a judgement may refer to. */
  readonly comparisons: LabComparisons;
  /** Where judgements go. */
  readonly feedback: FeedbackLog;
  /** Where models named in a side's options are found. */
  readonly registry: ModelRegistry;
}

const Side = v.object({
  style: v.string(),
  options: v.optional(v.record(v.string(), v.unknown())),
  preset: v.optional(v.picklist(['speed', 'balanced', 'quality'])),
});

const CompareBody = v.object({
  input: v.string(),
  time: v.optional(v.number(), 0),
  a: Side,
  b: Side,
});

const JudgeBody = v.object({
  id: v.string(),
  choice: v.picklist(['a', 'b', 'tie', 'neither']),
  rating: v.optional(v.number()),
  approved: v.optional(v.boolean()),
  note: v.optional(v.string()),
});

/** A side as the feedback log keeps it: the image and the settings that made it. */
function judged(image: string, side: LabSide): FeedbackOutput {
  return { image, style: side.style, ...(side.options !== undefined && { options: side.options }) };
}

/**
 * The style lab: one frame rendered with two settings, its images, and a judgement appended to
 * the feedback log (which the trainer learns from).
 */
export function labRoutes(o: LabRoutesOptions): Hono {
  return new Hono()
    .post(
      '/lab/compare',
      vValidator(
        'json',
        CompareBody,
        invalidBody('ERR_LAB', '{ input, time, a: { style, options? }, b: { style, options? } }'),
      ),
      async (c) => {
        const body = c.req.valid('json');
        const input = await o.roots.check(body.input);
        const cmp = await compareSettings({ ...body, input, dir: o.labDir, registry: o.registry });
        o.comparisons.add(cmp);
        const url = (which: string): string => `/api/lab/${cmp.id}/${which}.png`;
        const answer: LabCompared = { ...cmp, urls: { original: url('original'), a: url('a'), b: url('b') } };
        return c.json(answer, 201);
      },
    )
    .get('/lab/:id/original.png', async (c) => png(o.comparisons.get(c.req.param('id')).images.original))
    .get('/lab/:id/a.png', async (c) => png(o.comparisons.get(c.req.param('id')).images.a))
    .get('/lab/:id/b.png', async (c) => png(o.comparisons.get(c.req.param('id')).images.b))
    .post(
      '/lab/judge',
      vValidator(
        'json',
        JudgeBody,
        invalidBody(
          'ERR_FEEDBACK',
          "{ id, choice: 'a', 'b', 'tie' or 'neither', rating?, approved?, note? }",
        ),
      ),
      async (c) => {
        const body = c.req.valid('json');
        const cmp = o.comparisons.get(body.id);
        const record = await o.feedback.append({
          kind: 'ab',
          input: cmp.images.original,
          a: judged(cmp.images.a, cmp.a),
          b: judged(cmp.images.b, cmp.b),
          choice: body.choice,
          ...(body.rating !== undefined && { rating: body.rating }),
          approved: body.approved === true,
          clip: cmp.input,
          frameIndex: cmp.frameIndex,
          ...(body.note !== undefined && { note: body.note }),
        });
        return c.json(record, 201);
      },
    );
}

async function png(file: string): Promise<Response> {
  return new Response(await readFile(file), { headers: { 'content-type': 'image/png' } });
}

import { afterAll, expect, test } from 'bun:test';
import { join } from 'node:path';
import type { RenderProgress } from '@framecraft/pipeline';
import { tempDir } from '@framecraft/test-utils';
import { type QueuedJob, RenderQueue } from './queue.ts';

const { dir, cleanup } = await tempDir();
afterAll(() => cleanup());

const progress = (framesDone: number, stage: RenderProgress['stage'] = 'render'): RenderProgress => ({
  stage,
  framesDone,
  totalFrames: 90,
  chunksDone: Math.floor(framesDone / 30),
  chunks: 3,
  fps: 30,
  etaSeconds: null,
});

test('listeners hear progress at most once per interval, and the latest held-back update still arrives', async () => {
  // A renderer reporting in a burst (0, 30, 60 within a millisecond), then nothing for a while.
  const queue = await RenderQueue.open(join(dir, 'queue.json'), {
    progressIntervalMs: 50,
    render: async (_job, options) => {
      options.onProgress?.(progress(0));
      options.onProgress?.(progress(30));
      options.onProgress?.(progress(60));
      await Bun.sleep(150);
      options.onProgress?.(progress(90, 'done'));
    },
  });
  const heard: number[] = [];
  queue.subscribe((j: QueuedJob) => {
    if (j.state === 'running' && j.progress !== null) heard.push(j.progress.framesDone);
  });
  const job = await queue.submit({
    input: join(dir, 'in.mp4'),
    output: join(dir, 'out.mp4'),
    style: 'pencil',
  });
  for (let i = 0; i < 100 && queue.get(job.id)?.state !== 'done'; i++) await Bun.sleep(10);
  expect(queue.get(job.id)?.state).toBe('done');
  // 0 at once; 30 superseded by 60, which went out when the interval was up; then done.
  expect(heard).toEqual([0, 60, 90]);
  await queue.close();
});

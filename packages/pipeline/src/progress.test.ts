import { expect, test } from 'bun:test';
import { ProgressTracker, type RenderProgress } from './progress.ts';

test('frames of finished and in-flight chunks add up; reused chunks count as done but not in the rate', async () => {
  const sent: RenderProgress[] = [];
  const progress = new ProgressTracker({ totalFrames: 300, chunks: 3, finished: [{ frames: 100 }] }, (p) =>
    sent.push(p),
  );
  progress.report('render');
  expect(sent[0]).toEqual({
    stage: 'render',
    framesDone: 100,
    totalFrames: 300,
    chunksDone: 1,
    chunks: 3,
    fps: 0,
    etaSeconds: null,
  });
  await Bun.sleep(20);
  progress.chunkFrames(1, 40);
  progress.chunkFrames(2, 10);
  const mid = progress.now('render');
  expect(mid.framesDone).toBe(150);
  expect(mid.chunksDone).toBe(1);
  // 50 frames rendered by this run in about 20 ms: the rate and the time left follow from it.
  expect(mid.fps).toBeGreaterThan(0);
  expect(mid.fps).toBeLessThan(50 / 0.019);
  expect(mid.etaSeconds).toBeCloseTo(150 / mid.fps, 6);
  progress.chunkDone(1, 100);
  progress.chunkStopped(2);
  expect(progress.now('render')).toMatchObject({ framesDone: 200, chunksDone: 2 });
  // A chunk an earlier attempt had finished: done, but no frames rendered now.
  const rate = progress.fps;
  progress.chunkDone(2, 100, true);
  expect(progress.fps).toBeLessThanOrEqual(rate);
  expect(progress.now('stitch')).toMatchObject({ stage: 'stitch', framesDone: 300, chunksDone: 3 });
  expect(progress.now('done')).toMatchObject({ framesDone: 300, chunksDone: 3, etaSeconds: 0 });
});

test('frames written never count past the total; done reports every frame and chunk', () => {
  const progress = new ProgressTracker({ totalFrames: 10, chunks: 2 });
  progress.chunkFrames(0, 8);
  progress.chunkFrames(1, 8);
  expect(progress.now('render').framesDone).toBe(10);
  expect(progress.now('done')).toMatchObject({ framesDone: 10, chunksDone: 2, chunks: 2 });
  // Without a callback, reporting sends nothing and does not fail.
  progress.report('render');
});

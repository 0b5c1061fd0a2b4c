import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type FarmWorker, farmRender, startFarmWorker } from '@framecraft/farm';
import { writeTestClip } from '@framecraft/io/testing';
import { decodeAll, tempDir } from '@framecraft/test-utils';
import { hasRedisServer, startRedis, type TestRedis } from '@framecraft/test-utils/redis';
import type { QueuedJob } from './queue.ts';
import { type RunningStudio, startStudio } from './server.ts';

// The studio's queue rendering on a render farm (a real Redis and a farm worker in this process).
if (!hasRedisServer) console.warn('studio farm test skipped: no redis-server (apt-get install redis-server)');

const { dir, cleanup } = await tempDir();
process.env.FRAMECRAFT_HOME = join(dir, 'home');
const media = join(dir, 'media');
let redis: TestRedis;
let worker: FarmWorker;
let studio: RunningStudio;

beforeAll(async () => {
  if (!hasRedisServer) return;
  await mkdir(media, { recursive: true });
  await writeTestClip(join(media, 'clip.mp4'), { width: 96, height: 64, frames: 90 });
  redis = await startRedis(join(dir, 'redis'));
  worker = await startFarmWorker({ queue: redis.url, concurrency: 1 });
  const url = redis.url;
  studio = await startStudio({
    roots: [media],
    dataHome: join(dir, 'home'),
    port: 0,
    nvidiaSmi: join(dir, 'no-nvidia-smi'),
    render: (job, options) => farmRender(job, { ...options, queue: url }),
    renderTarget: `the farm at ${url}`,
    // Every update reaches the listeners: this tiny render can end within one 200 ms interval.
    progressIntervalMs: 0,
  });
}, 60_000);

afterAll(async () => {
  await studio?.close();
  await worker?.close();
  await redis?.stop();
  await cleanup();
});

describe.skipIf(!hasRedisServer)('studio on a render farm', () => {
  test("the queue's job renders on the farm; the workers' progress reaches the studio's listeners", async () => {
    const seen: QueuedJob[] = [];
    studio.queue.subscribe((j) => seen.push(j));
    const job = await studio.queue.submit({
      input: join(media, 'clip.mp4'),
      output: join(media, 'farmed.mp4'),
      style: 'pencil',
      chunkDuration: 1,
      codec: 'libx264',
    });
    for (let i = 0; i < 600 && !['done', 'failed'].includes(studio.queue.get(job.id)?.state ?? ''); i++)
      await Bun.sleep(50);
    const done = studio.queue.get(job.id)!;
    expect(done.error).toBeNull();
    expect(done.state).toBe('done');
    expect((await decodeAll(join(media, 'farmed.mp4'))).length).toBe(90);
    const frames = seen
      .filter((j) => j.id === job.id && j.progress !== null)
      .map((j) => j.progress!.framesDone);
    expect(frames.some((f) => f > 0 && f < 90)).toBe(true);
    const { jobs, target } = (await (await fetch(`${studio.url}/api/jobs`)).json()) as {
      jobs: QueuedJob[];
      target: string;
    };
    expect(target).toBe(`the farm at ${redis.url}`);
    expect(jobs.find((j) => j.id === job.id)?.state).toBe('done');
    const settings = (await (await fetch(`${studio.url}/api/settings`)).json()) as { renderTarget: string };
    expect(settings.renderTarget).toBe(`the farm at ${redis.url}`);
  }, 60_000);
});

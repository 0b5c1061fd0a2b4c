import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CanceledError, FramecraftError } from '@framecraft/core';
import { writeTestClip } from '@framecraft/io/testing';
import { ModelRegistry } from '@framecraft/ml';
import { parseJob, planRender, type RenderProgress, render } from '@framecraft/pipeline';
import { affineModel, decodeAll, samePixels, streamDigest, tempDir } from '@framecraft/test-utils';
import { hasRedisServer, startRedis, type TestRedis } from '@framecraft/test-utils/redis';
import { FarmClient, farmRender } from './client.ts';
import { checkRedis } from './connection.ts';
import { FarmRenderError, RedisUnreachableError } from './errors.ts';
import { checkJobHere } from './protocol.ts';
import { type FarmWorker, type FarmWorkerEvent, startFarmWorker } from './worker.ts';

// The farm needs a real Redis: Debian's redis-server (.ci/run installs it). Without it these tests
// are skipped with a message, like the trainer's without PyTorch.
if (!hasRedisServer)
  console.warn('render farm tests skipped: no redis-server (apt-get install redis-server)');

const { dir, cleanup } = await tempDir();
process.env.FRAMECRAFT_HOME = join(dir, 'home');
let redis: TestRedis;
let clip: string;
let reference: Awaited<ReturnType<typeof decodeAll>>;
let referenceAudio: string;
const children = new Set<ChildProcess>();

const job = (name: string, extra: Record<string, unknown> = {}) => ({
  input: clip,
  output: join(dir, `${name}.mp4`),
  style: 'cartoon',
  chunkDuration: 1,
  preroll: 5,
  codec: 'libx264',
  crf: 18,
  encoderPreset: 'veryfast',
  ...extra,
});

/** A worker in its own process, with its events as they come. */
interface ChildWorker {
  readonly proc: ChildProcess;
  readonly events: FarmWorkerEvent[];
  /** Resolves at the first event matching. */
  next(match: (e: FarmWorkerEvent) => boolean): Promise<FarmWorkerEvent>;
}

/**
 * Short locks, so a dead worker's chunk is taken over in seconds. Every worker of the queue uses
 * the same: the stalled check is shared per queue and waits out the last checker's interval.
 */
const LOCK = { lockSeconds: 2, stalledCheckSeconds: 1 };

async function spawnWorker(options: Record<string, unknown> = {}): Promise<ChildWorker> {
  const proc = spawn(
    process.execPath,
    [
      join(import.meta.dir, '..', 'test', 'worker-child.ts'),
      JSON.stringify({ queue: redis.url, concurrency: 1, threads: 1, ...LOCK, ...options }),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: process.env },
  );
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  const events: FarmWorkerEvent[] = [];
  const waiters: { match: (e: FarmWorkerEvent) => boolean; resolve: (e: FarmWorkerEvent) => void }[] = [];
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    const e = JSON.parse(line) as FarmWorkerEvent;
    events.push(e);
    for (const w of [...waiters])
      if (w.match(e)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(e);
      }
  });
  const worker: ChildWorker = {
    proc,
    events,
    next: (match) => {
      const seen = events.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
  await worker.next((e) => e.type === 'ready');
  return worker;
}

async function stopWorker(w: ChildWorker): Promise<void> {
  if (w.proc.exitCode !== null || w.proc.signalCode !== null) return;
  const exited = new Promise((res) => w.proc.once('exit', res));
  w.proc.kill('SIGTERM');
  await exited;
}

async function expectSameAsReference(output: string): Promise<void> {
  const frames = await decodeAll(output);
  expect(frames.length).toBe(reference.length);
  for (let i = 0; i < frames.length; i++) expect(samePixels(frames[i]!, reference[i]!)).toBe(true);
  expect((await streamDigest(output, 'audio')).digest).toBe(referenceAudio);
}

beforeAll(async () => {
  if (!hasRedisServer) return;
  redis = await startRedis(join(dir, 'redis'));
  // 6 s at 30 fps, 320x240, with audio: six one-second chunks.
  clip = join(dir, 'clip.mp4');
  await writeTestClip(clip, { width: 320, height: 240, frames: 180, flashes: [50, 130], audio: true });
  const local = await render({ ...job('reference'), workers: 1 });
  reference = await decodeAll(local.output!);
  referenceAudio = (await streamDigest(local.output!, 'audio')).digest;
}, 120_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await redis?.stop();
  await cleanup();
});

describe.skipIf(!hasRedisServer)('farm', () => {
  test('two worker processes render a clip: the same frames and audio as one machine, work folder cleared', async () => {
    const a = await spawnWorker();
    const b = await spawnWorker();
    try {
      const progress: number[] = [];
      const result = await farmRender(job('two'), {
        queue: redis.url,
        onProgress: (p) => progress.push(p.framesDone),
      });
      expect(result.output).toBe(join(dir, 'two.mp4'));
      expect(result.frames).toBe(180);
      expect(result.chunks).toBe(6);
      expect(result.rendered).toBe(6);
      expect(result.resource).toBe('cpu');
      // Both processes took chunks.
      expect(new Set(result.workers).size).toBeGreaterThanOrEqual(2);
      expect(progress.at(-1)).toBe(180);
      expect(progress.some((f) => f > 0 && f < 180)).toBe(true);
      await expectSameAsReference(result.output!);
      expect(existsSync(result.workDir)).toBe(false);
      const doneA = a.events.filter((e) => e.type === 'chunk-done').length;
      const doneB = b.events.filter((e) => e.type === 'chunk-done').length;
      expect(doneA + doneB).toBe(6);
    } finally {
      await Promise.all([stopWorker(a), stopWorker(b)]);
    }
  }, 120_000);

  test('kill -9 of a worker mid-chunk: another takes the chunk over when its lock expires; identical output', async () => {
    const victim = await spawnWorker();
    const survivor = await spawnWorker();
    try {
      const running = farmRender(job('killed'), { queue: redis.url });
      const started = (await victim.next((e) => e.type === 'chunk-start')) as Extract<
        FarmWorkerEvent,
        { type: 'chunk-start' }
      >;
      await new Promise((r) => setTimeout(r, 150));
      const doneBefore = victim.events.some((e) => e.type === 'chunk-done' && e.index === started.index);
      victim.proc.kill('SIGKILL');
      const result = await running;
      await expectSameAsReference(result.output!);
      if (!doneBefore) {
        // The survivor rendered the chunk the victim died in.
        const redone = survivor.events.some((e) => e.type === 'chunk-done' && e.index === started.index);
        expect(redone).toBe(true);
      }
      expect(existsSync(result.workDir)).toBe(false);
      // Nothing half-written beside the output.
      expect((await readdir(dir)).filter((n) => n.includes('.partial-'))).toEqual([]);
    } finally {
      await stopWorker(survivor);
    }
  }, 120_000);

  test('Redis restarted mid-render: the render completes once it is back', async () => {
    const w = await spawnWorker();
    try {
      const warnings: string[] = [];
      const running = farmRender(job('restart'), { queue: redis.url, onWarning: (m) => warnings.push(m) });
      await w.next((e) => e.type === 'chunk-done');
      await redis.stop();
      await new Promise((r) => setTimeout(r, 1500));
      await redis.start();
      const result = await running;
      await expectSameAsReference(result.output!);
      // Chunk events lost in the outage: their results are read off the chunk jobs.
      expect(result.rendered + result.reused).toBe(result.chunks);
      expect(warnings.some((m) => m.includes('lost the connection to Redis'))).toBe(true);
      expect(w.events.some((e) => e.type === 'connection' && e.state === 'lost')).toBe(true);
    } finally {
      await stopWorker(w);
    }
  }, 120_000);

  test('Redis away longer than the submitter waits: a clear error, no output; the same command continues later', async () => {
    const w = await spawnWorker();
    try {
      const running = farmRender(job('outage'), { queue: redis.url, redisTimeoutSeconds: 2 });
      await w.next((e) => e.type === 'chunk-done');
      await redis.stop();
      const err = await running.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RedisUnreachableError);
      expect((err as Error).message).toContain(redis.url);
      expect((err as Error).message).toContain('run the same command again');
      expect(existsSync(join(dir, 'outage.mp4'))).toBe(false);
      await redis.start();
      const result = await farmRender(job('outage'), { queue: redis.url });
      await expectSameAsReference(result.output!);
    } finally {
      await stopWorker(w);
    }
  }, 120_000);

  describe('in-process workers', () => {
    let worker: FarmWorker | null = null;
    afterAll(() => worker?.close());

    test("a worker without the job's model version refuses it clearly; the render fails naming it", async () => {
      const registry = new ModelRegistry(join(process.env.FRAMECRAFT_HOME!, 'models'));
      const file = join(dir, 'gain.onnx');
      await writeFile(file, affineModel(0.9, 5));
      await registry.add(file, { name: 'gain' });
      // This worker looks in an empty registry.
      worker = await startFarmWorker({
        queue: redis.url,
        concurrency: 1,
        modelsDir: join(dir, 'other-models'),
      });
      const err = await farmRender(
        job('model', {
          style: 'neural',
          styleOptions: { model: 'gain', provider: 'cpu' },
          onStyleError: 'fail',
        }),
        { queue: redis.url, attempts: 1 },
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FarmRenderError);
      expect((err as Error).message).toContain('does not have model gain@v1');
      expect(existsSync(join(dir, 'model.mp4'))).toBe(false);
      await worker.close();
      worker = null;
    }, 60_000);

    test('GPU styles go to the GPU queue when a GPU worker listens, else to the CPU queue with a warning', async () => {
      const file = join(dir, 'gain.onnx');
      const neural = (name: string) =>
        job(name, { style: 'neural', styleOptions: { model: file }, chunkDuration: 3 });
      worker = await startFarmWorker({ ...LOCK, queue: redis.url, resources: ['cpu'], concurrency: 1 });
      const warnings: string[] = [];
      const onCpu = await farmRender(neural('gpu-none'), {
        queue: redis.url,
        onWarning: (m) => warnings.push(m),
      });
      expect(onCpu.resource).toBe('cpu');
      expect(warnings.some((m) => m.includes('no GPU worker is listening'))).toBe(true);
      await worker.close();
      // A worker serving the GPU queue (here its neural style degrades to the CPU: no CUDA).
      worker = await startFarmWorker({ ...LOCK, queue: redis.url, resources: ['gpu'] });
      expect(worker.queues).toEqual(['chunks-gpu', 'stitch']);
      const onGpu = await farmRender(neural('gpu-yes'), { queue: redis.url });
      expect(onGpu.resource).toBe('gpu');
      const a = await decodeAll(onCpu.output!);
      const b = await decodeAll(onGpu.output!);
      expect(a.length).toBe(b.length);
      expect(a.every((f, i) => samePixels(f, b[i]!))).toBe(true);
      await worker.close();
      worker = null;
    }, 60_000);

    test('canceled: the workers stop; the same command again continues from the finished chunks', async () => {
      worker = await startFarmWorker({ ...LOCK, queue: redis.url, concurrency: 1 });
      const controller = new AbortController();
      let chunks = 0;
      const err = await farmRender(job('cancel'), {
        queue: redis.url,
        signal: controller.signal,
        onProgress: (p) => {
          chunks = p.chunksDone;
          if (p.chunksDone >= 2) controller.abort();
        },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CanceledError);
      expect(chunks).toBeGreaterThanOrEqual(2);
      expect(existsSync(join(dir, 'cancel.mp4'))).toBe(false);
      const again = await farmRender(job('cancel'), { queue: redis.url });
      expect(again.reused).toBeGreaterThanOrEqual(2);
      await expectSameAsReference(again.output!);
      await worker.close();
      worker = null;
    }, 60_000);

    test('a client renders as an async iterable of progress and closes its connections when disposed', async () => {
      worker = await startFarmWorker({ ...LOCK, queue: redis.url, concurrency: 1 });
      const seen: RenderProgress[] = [];
      let client: FarmClient | null = null;
      {
        await using farm = await FarmClient.connect({ queue: redis.url });
        client = farm;
        const run = farm.render(job('iterated'));
        for await (const p of run) seen.push(p);
        const result = await run.result;
        await expectSameAsReference(result.output!);
        expect(result.workers.length).toBeGreaterThan(0);
      }
      expect(seen.at(-1)).toMatchObject({ stage: 'done', framesDone: seen[0]!.totalFrames });
      // Frames done never go back.
      for (let i = 1; i < seen.length; i++)
        expect(seen[i]!.framesDone).toBeGreaterThanOrEqual(seen[i - 1]!.framesDone);
      // Disposed: its connections are gone, so a queue it opens now cannot answer.
      await expect(client.control.ping()).rejects.toThrow();
      // A render that fails ends the iteration with its error.
      await using farm = await FarmClient.connect({ queue: redis.url });
      const failing = farm.render({ ...job('iterated-missing'), input: join(dir, 'nothing-here.mp4') });
      const err = await (async () => {
        for await (const _ of failing) {
        }
      })().catch((e: unknown) => e);
      expect((err as Error).message).toContain('nothing-here.mp4');
      await expect(failing.result).rejects.toBe(err);
      await worker.close();
      worker = null;
    }, 60_000);

    test('detach queues and returns; running the same command again follows it to the end', async () => {
      const queued = await farmRender(job('detached'), { queue: redis.url, detach: true });
      expect(queued.detached).toBe(true);
      expect(queued.output).toBeNull();
      worker = await startFarmWorker({ ...LOCK, queue: redis.url, concurrency: 1 });
      const warnings: string[] = [];
      const followed = await farmRender(job('detached'), {
        queue: redis.url,
        onWarning: (m) => warnings.push(m),
      });
      expect(followed.renderId).toBe(queued.renderId);
      await expectSameAsReference(followed.output!);
      // Chunks finished before this side followed count too (reused, or read off their jobs).
      expect(followed.rendered + followed.reused).toBe(followed.chunks);
      await worker.close();
      worker = null;
    }, 60_000);
  });

  test("a worker whose input differs from the submitter's refuses the job (settings hash)", async () => {
    const input = join(dir, 'touched-input.mp4');
    await writeTestClip(input, { width: 64, height: 48, frames: 10, audio: false });
    const plan = await planRender({ ...job('touched'), input });
    const data = { job: plan.job, hash: plan.hash, workDir: plan.workDir };
    expect((await checkJobHere(data)).style).toBe('cartoon');
    await utimes(input, new Date(), new Date(Date.now() + 60_000));
    const err = await checkJobHere(data).catch((e: unknown) => e);
    expect(FramecraftError.is(err, 'ERR_FARM_JOB_MISMATCH')).toBe(true);
    expect((err as Error).message).toContain(input);
    // A job the submitter's version parsed the same way hashes the same here.
    expect(parseJob(plan.job)).toEqual(plan.job);
  });

  test('Redis unreachable: submitting and starting a worker fail at once with the address', async () => {
    const url = 'redis://127.0.0.1:1';
    const t0 = performance.now();
    const a = await farmRender(job('nowhere'), { queue: url }).catch((e: unknown) => e);
    expect(a).toBeInstanceOf(RedisUnreachableError);
    expect((a as Error).message).toContain('127.0.0.1:1');
    const b = await startFarmWorker({ queue: url }).catch((e: unknown) => e);
    expect(b).toBeInstanceOf(RedisUnreachableError);
    expect(performance.now() - t0).toBeLessThan(15_000);
    expect(existsSync(join(dir, 'nowhere.mp4'))).toBe(false);
    await expect(checkRedis('http://127.0.0.1')).rejects.toThrow('not a queue address');
  });
});

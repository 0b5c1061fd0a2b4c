import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CanceledError, createFrame, type Frame, FramecraftError, withTimingOf } from '@framecraft/core';
import { writeTestClip } from '@framecraft/io/testing';
import { registerStylizer, type Stylizer } from '@framecraft/stylizers';
import { tempDir } from '@framecraft/test-utils';
import * as v from 'valibot';
import { decoderThreads, encoderThreads, REPRODUCIBLE_X264_THREADS, renderChunk } from './chunk.ts';
import { planRender } from './plan.ts';
import { ChunkThreads } from './threads.ts';
import { chunkTaskOf } from './work-folder.ts';

const { dir, cleanup } = await tempDir();
afterAll(() => cleanup());
process.env.FRAMECRAFT_HOME = join(dir, 'home');

let plan: Awaited<ReturnType<typeof planRender>>;
beforeAll(async () => {
  const clip = join(dir, 'clip.mp4');
  await writeTestClip(clip, { width: 160, height: 120, frames: 90, audio: false });
  plan = await planRender({
    input: clip,
    output: join(dir, 'out.mp4'),
    style: 'cartoon',
    chunkDuration: 1,
    preroll: 4,
    codec: 'libx264',
    encoderPreset: 'ultrafast',
  });
});

const task = (index: number, name: string) => ({
  ...chunkTaskOf(plan, plan.chunks[index]!, 1),
  segment: join(dir, `${name}.mp4`),
});

/**
 * A style whose calls may overlap and settle after uneven delays (a stand-in for a model on its
 * own thread): 0.5 · v + 60 per sample, after a delay that differs from frame to frame.
 */
function overlappingStyle(name: string, concurrent: boolean): Stylizer {
  return {
    name,
    description: 'test: overlapping calls',
    options: v.object({}),
    inputFormat: 'rgb24',
    presets: { speed: {}, balanced: {}, quality: {} },
    create: async (_o, { width, height }) => {
      let calls = 0;
      const processInto = async (frame: Frame, out: Frame): Promise<Frame> => {
        const src = frame.planes[0]!.data;
        const delay = [9, 1, 5, 0][calls++ % 4]!;
        await new Promise((r) => setTimeout(r, delay));
        // Read the input only now: a caller that reused it meanwhile would show here.
        const dst = out.planes[0]!.data;
        for (let i = 0; i < src.length; i++) dst[i] = Math.round(0.5 * src[i]! + 60);
        return withTimingOf(out, frame);
      };
      return {
        outputFormat: 'rgb24',
        stateful: false,
        concurrent,
        process: (f) => processInto(f, createFrame({ width, height, format: 'rgb24' })),
        processInto,
        dispose() {},
      };
    },
  };
}
registerStylizer(overlappingStyle('test-overlap', true));
registerStylizer(overlappingStyle('test-sequential', false));

describe('a style whose calls overlap', () => {
  test('frames come out in order, each from its own input: the same bytes as one call at a time', async () => {
    const run = async (style: string, temporal: 'flow' | 'off') => {
      const t = task(1, `${style}-${temporal}`);
      const job = {
        ...t.job,
        style,
        styleOptions: {},
        temporal: { ...t.job.temporal, mode: temporal, enabled: temporal !== 'off' },
      };
      return renderChunk({ ...t, job, styleOptions: {} });
    };
    for (const temporal of ['off', 'flow'] as const) {
      const a = await run('test-overlap', temporal);
      const b = await run('test-sequential', temporal);
      expect(a.frames).toBe(b.frames);
      expect(a.sha256).toBe(b.sha256);
    }
  });
});

describe('ChunkThreads', () => {
  test('renders chunks on threads, more chunks than threads wait their turn; same bytes as this thread', async () => {
    const threads = new ChunkThreads(2);
    try {
      const frames: number[] = [];
      const results = await Promise.all(
        [0, 1, 2].map((i) => threads.run(task(i, `t${i}`), (w) => frames.push(w))),
      );
      expect(results.map((r) => r.index)).toEqual([0, 1, 2]);
      expect(results.map((r) => r.frames)).toEqual(plan.chunks.map((c) => c.end - c.start));
      expect(frames.length).toBeGreaterThan(0);
      const here = await renderChunk(task(1, 'here'));
      expect(here.sha256).toBe(results[1]!.sha256);
      // A chunk's share of the cores does not change its bytes (x264 runs a fixed thread count in a
      // reproducible job), so machines of any size render the same segment.
      const wide = await renderChunk({ ...task(1, 'wide'), threads: 3 });
      expect(wide.sha256).toBe(results[1]!.sha256);
    } finally {
      await threads.close();
    }
  }, 60_000);

  test('abort stops the chunk between frames with CanceledError; a failing chunk rejects with its code; the pool goes on', async () => {
    const threads = new ChunkThreads(1);
    try {
      const controller = new AbortController();
      const canceled = threads.run(task(0, 'aborted'), () => controller.abort(), controller.signal);
      await expect(canceled).rejects.toBeInstanceOf(CanceledError);
      // Stopped between frames: nothing at the segment path, no temporary file either.
      expect((await readdir(dir)).filter((n) => n.includes('aborted'))).toEqual([]);
      const missing = { ...task(1, 'missing'), job: { ...plan.job, input: join(dir, 'no-such.mp4') } };
      const err = await threads.run(missing).catch((e: unknown) => e);
      expect(FramecraftError.is(err)).toBe(true);
      expect((err as Error).message).toContain('no-such.mp4');
      const ok = await threads.run(task(2, 'after'));
      expect(ok.frames).toBe(plan.chunks[2]!.end - plan.chunks[2]!.start);
    } finally {
      await threads.close();
      await threads.close();
    }
    await expect(threads.run(task(0, 'closed'))).rejects.toThrow('after close');
    expect(() => new ChunkThreads(0)).toThrow(RangeError);
  }, 60_000);
});

describe('limitMallocRetention', () => {
  test('applies once under Bun on glibc Linux (Debian here and in CI); a second call reuses it', async () => {
    const { limitMallocRetention } = await import('./malloc.ts');
    const glibc =
      process.platform === 'linux' &&
      (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header
        ?.glibcVersionRuntime !== undefined;
    expect(await limitMallocRetention()).toBe(glibc);
    expect(await limitMallocRetention()).toBe(glibc);
  });
});

describe('decoder and encoder threads of a chunk', () => {
  const fast = { reproducible: false, codec: 'libx264' } as const;
  test('the whole machine: the codecs pick their own counts, as the FFmpeg CLI does', () => {
    expect(encoderThreads(fast, 8, 8)).toEqual({});
    expect(encoderThreads(fast, undefined, 8)).toEqual({});
    expect(decoderThreads(8, 8)).toEqual({});
    expect(decoderThreads(undefined, 8)).toEqual({});
  });
  test("a share: x264's 3/2 threads per core (rounded down) for the encoder, the share for the decoder", () => {
    expect(encoderThreads(fast, 1, 2)).toEqual({ threads: 1 });
    expect(encoderThreads(fast, 3, 8)).toEqual({ threads: 4 });
    expect(encoderThreads(fast, 4, 8)).toEqual({ threads: 6 });
    expect(encoderThreads({ reproducible: false, codec: 'h264_nvenc' }, 2, 8)).toEqual({ threads: 3 });
    expect(decoderThreads(1, 2)).toEqual({ threads: 1 });
    expect(decoderThreads(4, 8)).toEqual({ threads: 4 });
  });
  test('a reproducible libx264 job always encodes with the fixed count', () => {
    for (const share of [undefined, 1, 2, 16])
      expect(encoderThreads({ reproducible: true, codec: 'libx264' }, share, 2)).toEqual({
        threads: REPRODUCIBLE_X264_THREADS,
      });
  });
});

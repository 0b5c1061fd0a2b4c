// The render farm on this machine: one worker process against two, for a CPU style, in one run —
// as `framecraft worker` runs by default (a worker uses its share of the cores), and with each worker
// pinned to its own core (a one-core machine each). Also a local render (`render()`, one chunk at a
// time) beside the one-worker farm, whose difference is the queue's overhead per chunk, and a local
// render on two threads: this machine's own ceiling for two chunks at once.
// Needs: apt-get install redis-server ffmpeg. Usage: bun bench/farm.ts [--style cartoon]
// [--height 720] [--chunk 2] [--rounds 3]
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { farmRender } from '@framecraft/farm';
import { render } from '@framecraft/pipeline';
import { hasRedisServer, startRedis } from '@framecraft/test-utils/redis';
import { flowerClip } from './clips.ts';
import { median } from './stats.ts';

const { values: flags } = parseArgs({
  options: {
    style: { type: 'string', default: 'cartoon' },
    height: { type: 'string', default: '720' },
    chunk: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
  },
});
const style = flags.style;
const height = Number(flags.height);
const chunkDuration = Number(flags.chunk);
const rounds = Number(flags.rounds);
const CLI = join(import.meta.dir, '..', 'packages', 'cli', 'src', 'bin.ts');
const cores = availableParallelism();

if (!hasRedisServer) throw new Error('bench/farm.ts needs redis-server (apt-get install redis-server)');
const tmp = await mkdtemp(join(tmpdir(), 'framecraft-farm-bench-'));
process.env.FRAMECRAFT_HOME = join(tmp, 'home');
const redis = await startRedis(join(tmp, 'redis'));
const clip = await flowerClip(height);
const job = (name: string) => ({
  input: clip,
  output: join(tmp, `${name}.mp4`),
  style,
  chunkDuration,
  codec: 'libx264',
  crf: 23,
  encoderPreset: 'veryfast',
});

/**
 * Worker processes (the CLI's `framecraft worker`), ready to take chunks. Unpinned, each gets its
 * share of the cores; pinned, worker i runs on core i alone (`taskset`), as if each were a
 * one-core machine.
 */
async function startWorkers(count: number, pinned: boolean): Promise<() => Promise<void>> {
  const procs = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const threads = pinned ? '1' : String(Math.max(1, Math.floor(cores / count)));
      const worker = [
        CLI,
        'worker',
        '--queue',
        redis.url,
        '--concurrency',
        '1',
        '--threads',
        threads,
        '--json',
      ];
      const p = pinned
        ? spawn('taskset', ['-c', String(i % cores), process.execPath, ...worker], {
            stdio: ['ignore', 'pipe', 'inherit'],
            env: process.env,
          })
        : spawn(process.execPath, worker, { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
      await new Promise<void>((ready, fail) => {
        p.once('exit', (code) => fail(new Error(`a worker exited with ${code}`)));
        createInterface({ input: p.stdout! }).on('line', (line) => {
          if ((JSON.parse(line) as { event?: string }).event === 'ready') ready();
        });
      });
      return p;
    }),
  );
  return async () => {
    await Promise.all(
      procs.map(
        (p) =>
          new Promise((done) => {
            p.once('exit', done);
            p.kill('SIGTERM');
          }),
      ),
    );
  };
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await run();
  return performance.now() - t0;
}

const times = {
  local1: [] as number[],
  local2: [] as number[],
  farm1: [] as number[],
  farm2: [] as number[],
  pinned1: [] as number[],
  pinned2: [] as number[],
};
let chunks = 0;
let frames = 0;
try {
  // Warm-up (file cache, module loading, the first worker threads): one chunk, not timed.
  await render({ ...job('warm-up'), workers: 1 }, { chunks: [0] });
  for (let r = 0; r < rounds; r++) {
    // Every setup once per round, the next round in reverse order (ABBA over two rounds).
    const forward = ['local1', 'farm1', 'pinned1', 'pinned2', 'farm2', 'local2'];
    const order = r % 2 === 0 ? forward : [...forward].reverse();
    for (const which of order as (keyof typeof times)[]) {
      const name = `${which}-${r}`;
      let ms: number;
      if (which === 'local1' || which === 'local2') {
        ms = await timed(async () => {
          const res = await render({ ...job(name), workers: which === 'local1' ? 1 : 2 });
          chunks = res.chunks;
          frames = res.frames;
        });
      } else {
        const stop = await startWorkers(which.endsWith('1') ? 1 : 2, which.startsWith('pinned'));
        try {
          ms = await timed(() => farmRender(job(name), { queue: redis.url }));
        } finally {
          await stop();
        }
      }
      times[which].push(ms);
      console.log(`${which} round ${r + 1}: ${(ms / 1000).toFixed(2)} s`);
    }
  }
} finally {
  await redis.stop();
  await rm(tmp, { recursive: true, force: true });
}

const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])) as Record<
  keyof typeof times,
  number
>;
const result = {
  style,
  height,
  frames,
  chunks,
  cores,
  rounds,
  medianMs: m,
  speedup2vs1: m.farm1 / m.farm2,
  pinnedSpeedup2vs1: m.pinned1 / m.pinned2,
  localSpeedup2vs1: m.local1 / m.local2,
  overheadPerChunkMs: (m.farm1 - m.local1) / chunks,
  farm2VsLocal2: m.local2 / m.farm2,
};
console.log(
  `${style} ${height}p, ${frames} frames in ${chunks} chunks, ${cores} cores, median of ${rounds}:\n` +
    `  farm, 2 worker processes vs 1: ${result.speedup2vs1.toFixed(2)}x (goal >= 1.7) ` +
    `(${(m.farm1 / 1000).toFixed(1)} s -> ${(m.farm2 / 1000).toFixed(1)} s)\n` +
    `  the same with each worker pinned to its own core (one-core machines): ${result.pinnedSpeedup2vs1.toFixed(2)}x ` +
    `(${(m.pinned1 / 1000).toFixed(1)} s -> ${(m.pinned2 / 1000).toFixed(1)} s)\n` +
    `  this machine's own ceiling, local render on 2 threads vs 1: ${result.localSpeedup2vs1.toFixed(2)}x\n` +
    `  queue overhead: farm with 1 worker ${(m.farm1 / 1000).toFixed(1)} s vs local render, 1 chunk at a time, ` +
    `${(m.local1 / 1000).toFixed(1)} s = ${result.overheadPerChunkMs.toFixed(0)} ms per chunk\n` +
    `  farm with 2 workers vs local render on 2 threads (${(m.local2 / 1000).toFixed(1)} s): ${result.farm2VsLocal2.toFixed(2)}x`,
);
await mkdir(join(import.meta.dir, 'results'), { recursive: true });
await writeFile(
  join(import.meta.dir, 'results', `farm-${new Date().toISOString().replace(/[:.]/g, '-')}.json`),
  `${JSON.stringify(result, null, 2)}\n`,
);

// The rendering half of scripts/gpu-check.sh (run that): 1080p neural through `framecraft render`
// with the GPU (CUDA for the model, NVENC for the video, each when it works), the VRAM peak sampled
// with nvidia-smi meanwhile, a profile of one chunk's work (inference, tensor copies, encode), and
// the first two seconds rendered again on the CPU to compare frame by frame.
// Usage: bun scripts/gpu-check.ts [seconds (10)] [frames profiled and compared (60)]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Frame, withTimingOf } from '@framecraft/core';
import { VideoFilter, VideoReader, VideoWriter } from '@framecraft/io';
import { lumaOf, mse, psnr, ssim } from '@framecraft/metrics';
import { frameToTensor, OnnxSession, tensorToFrame } from '@framecraft/ml';
import { mosaic } from '@framecraft/model-mosaic';

const seconds = Number(process.argv[2] ?? 10);
const frames = Number(process.argv[3] ?? 60);
const root = join(import.meta.dir, '..');
const cli = join(root, 'packages', 'cli', 'src', 'bin.ts');
const demo = join(root, 'packages', 'cli', 'assets', 'demo', 'flower.mp4');
const dir = await mkdtemp(join(tmpdir(), 'gpu-check-'));
const env = { ...process.env, FRAMECRAFT_HOME: join(dir, 'home') };

/** The demo clip, looped and scaled to 1920×1080, `seconds` long. */
async function makeClip(path: string): Promise<void> {
  const fps = 30;
  await using writer = await VideoWriter.create(path, {
    width: 1920,
    height: 1080,
    timeBase: { num: 1, den: fps },
    frameRate: { num: fps, den: 1 },
    codec: 'libx264',
    crf: 16,
    container: 'mp4',
  });
  let n = 0;
  while (n < seconds * fps) {
    await using reader = await VideoReader.open(demo);
    using scale = await VideoFilter.create('scale=1920:1080:flags=lanczos,format=yuv420p');
    for await (const f of reader.frames()) {
      for (const g of scale.process(f)) {
        if (n >= seconds * fps) break;
        await writer.write({ ...g, pts: n++, timeBase: { num: 1, den: fps }, duration: 1 });
      }
      if (n >= seconds * fps) break;
    }
  }
  await writer.close();
}

/** Run a render, sampling nvidia-smi's memory.used meanwhile; its done event and log lines. */
async function render(
  input: string,
  output: string,
  args: string[],
): Promise<{ done: Record<string, unknown>; log: string; vramPeakMiB: number | null }> {
  let peak: number | null = null;
  const smi =
    spawnSync('nvidia-smi', ['-L']).status === 0
      ? spawn('nvidia-smi', ['--query-gpu=memory.used', '--format=csv,noheader,nounits', '-lms', '200'])
      : null;
  smi?.stdout.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n')) {
      const v = Number.parseInt(line, 10);
      if (Number.isFinite(v)) peak = Math.max(peak ?? 0, v);
    }
  });
  const proc = Bun.spawn(
    ['bun', cli, 'render', input, output, '--style', 'neural', '--json', '--verbose', ...args],
    {
      env,
      stdout: 'pipe',
      stderr: 'pipe',
    },
  );
  const [out, log] = [await new Response(proc.stdout).text(), await new Response(proc.stderr).text()];
  await proc.exited;
  smi?.kill();
  const done = out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((e) => e.event === 'done');
  if (done === undefined) throw new Error(`the render of ${input} failed:\n${log.slice(-3000)}`);
  return { done, log, vramPeakMiB: peak };
}

/** A chunk's work by parts, in this process: inference, tensor copies, encode. */
async function profile(input: string): Promise<void> {
  const session = await OnnxSession.create(mosaic.path, { provider: 'auto' });
  await session.warmUp(1080, 1920);
  await using reader = await VideoReader.open(input);
  await using writer = await VideoWriter.create(join(dir, 'profile.mp4'), {
    width: 1920,
    height: 1080,
    timeBase: reader.stream.timeBase,
    frameRate: reader.stream.avgFrameRate,
    codec: 'auto',
    container: 'mp4',
  });
  const t = { decode: 0, copies: 0, inference: 0, encode: 0 };
  let n = 0;
  let t0 = performance.now();
  for await (const f of reader.frames({ format: 'rgb24', end: { frame: frames } })) {
    t.decode += performance.now() - t0;
    t0 = performance.now();
    const x = frameToTensor(f);
    t.copies += performance.now() - t0;
    t0 = performance.now();
    const y = await session.run(x, [1, 3, 1080, 1920]);
    t.inference += performance.now() - t0;
    t0 = performance.now();
    const out: Frame = withTimingOf(tensorToFrame(y.data, 1920, 1080), f);
    t.copies += performance.now() - t0;
    t0 = performance.now();
    await writer.write(out);
    t.encode += performance.now() - t0;
    n++;
    t0 = performance.now();
  }
  t0 = performance.now();
  const closed = await writer.close();
  t.encode += performance.now() - t0;
  const total = t.decode + t.copies + t.inference + t.encode;
  console.log(
    `profile (${n} frames, whole 1080p frames, model on ${session.provider}: ${session.providerReason}; ` +
      `encoder ${closed.encoder}): ${((n * 1000) / total).toFixed(1)} fps; ` +
      Object.entries(t)
        .map(([k, v]) => `${k} ${((100 * v) / total).toFixed(0)} % (${(v / n).toFixed(1)} ms)`)
        .join(', '),
  );
  await session.close();
}

try {
  const clip = join(dir, 'clip-1080p.mp4');
  await makeClip(clip);
  console.log(`clip: ${seconds} s of 1920x1080 from the demo clip`);
  const gpu = await render(clip, join(dir, 'gpu.mp4'), ['--codec', 'auto']);
  const device = /neural: running on (\w+) \((.*)\)\s*$/m.exec(gpu.log);
  console.log(
    `GPU render: ${gpu.done.fps} fps, ${gpu.done.frames} frames in ${gpu.done.seconds} s; model on ` +
      `${device?.[1] ?? 'unknown'} (${device?.[2] ?? 'no log line'}); encoders ${JSON.stringify(gpu.done.encoders)}; ` +
      `VRAM peak ${gpu.vramPeakMiB === null ? 'n/a (no nvidia-smi)' : `${gpu.vramPeakMiB} MiB`}; peak RSS ${gpu.done.peakRssMiB} MiB`,
  );
  await profile(clip);
  // The first frames again with the model on the CPU (libx264 too), compared frame by frame.
  const short = join(dir, 'clip-start.mp4');
  {
    await using reader = await VideoReader.open(clip);
    await using writer = await VideoWriter.create(short, {
      width: 1920,
      height: 1080,
      timeBase: reader.stream.timeBase,
      frameRate: reader.stream.avgFrameRate,
      codec: 'libx264',
      crf: 16,
      container: 'mp4',
    });
    for await (const f of reader.frames({ end: { frame: frames } })) await writer.write(f);
    await writer.close();
  }
  const gpuShort = await render(short, join(dir, 'gpu-2s.mp4'), ['--codec', 'libx264']);
  const cpuShort = await render(short, join(dir, 'cpu-2s.mp4'), [
    '--codec',
    'libx264',
    '--option',
    'provider=cpu',
  ]);
  const scores: { psnr: number; ssim: number }[] = [];
  {
    await using a = await VideoReader.open(join(dir, 'gpu-2s.mp4'));
    await using b = await VideoReader.open(join(dir, 'cpu-2s.mp4'));
    const bi = b.frames({ format: 'gray8' })[Symbol.asyncIterator]();
    for await (const fa of a.frames({ format: 'gray8' })) {
      const fb = (await bi.next()).value as Frame | undefined;
      if (fb === undefined) break;
      const [la, lb] = [lumaOf(fa), lumaOf(fb)];
      scores.push({ psnr: psnr(mse(la, lb)), ssim: ssim(la, lb) });
    }
  }
  const min = (k: 'psnr' | 'ssim'): number => Math.min(...scores.map((s) => s[k]));
  const mean = (k: 'psnr' | 'ssim'): number =>
    scores.reduce((s, x) => s + Math.min(x[k], 99), 0) / scores.length;
  console.log(
    `GPU vs CPU output, ${scores.length} frames (luma, both through libx264 at the same settings): PSNR min ${min('psnr').toFixed(2)} dB, ` +
      `mean ${mean('psnr').toFixed(2)} dB; SSIM min ${min('ssim').toFixed(4)}, mean ${mean('ssim').toFixed(4)} ` +
      `(GPU run ${gpuShort.done.fps} fps, CPU run ${cpuShort.done.fps} fps)`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
process.exit(0);

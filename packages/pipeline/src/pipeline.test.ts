import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FramecraftError } from '@framecraft/core';
import { probe, readAudio, readChapters, writeMp4Chapters } from '@framecraft/io';
import { writeTestClip } from '@framecraft/io/testing';
import { ModelRegistry } from '@framecraft/ml';
import { identity, listStylizers, pencil, registerStylizer, type Stylizer } from '@framecraft/stylizers';
import { affineModel, decodeAll, psnr, samePixels, streamDigest, tempDir } from '@framecraft/test-utils';
import * as v from 'valibot';
import { planChunks } from './chunk-plan.ts';
import { JobConfigError } from './errors.ts';
import { jobHash, parseJob, prerollOf, workDirOf } from './job.ts';
import { readJournal } from './journal.ts';
import { createLogger, logFileName } from './logger.ts';
import type { RenderProgress } from './progress.ts';
import { render } from './render.ts';
import { chunkWorkers } from './run.ts';

const { dir, cleanup } = await tempDir();
afterAll(() => cleanup());
process.env.FRAMECRAFT_HOME = join(dir, 'home');

// 3 s at 30 fps with flashes and beeps at 0.5 s and 2.2 s, so A/V sync can be checked after stitching.
let clip: string;
beforeAll(async () => {
  clip = join(dir, 'clip.mp4');
  await writeTestClip(clip, { width: 96, height: 64, frames: 90, flashes: [15, 66], audio: true, crf: 18 });
});

const job = (name: string, extra: Record<string, unknown> = {}) => ({
  input: clip,
  output: join(dir, `${name}.mp4`),
  style: 'pencil',
  chunkDuration: 1,
  preroll: 6,
  codec: 'libx264',
  crf: 16,
  encoderPreset: 'ultrafast',
  ...extra,
});

describe('planChunks', () => {
  const times = Array.from({ length: 300 }, (_, i) => i / 30);
  test('cuts at the keyframe nearest each target, covers every frame once, warms with pre-roll', () => {
    const chunks = planChunks({
      frameTimes: times,
      keyframeTimes: [0, 2.1, 3.9, 7, 9.5],
      chunkDuration: 2,
      preroll: 10,
    });
    // 6 s → the keyframe at 7 (within half a chunk); 8 s → 7 again is taken, so exactly 8 s.
    expect(chunks.map((c) => c.start)).toEqual([0, 63, 117, 210, 240]);
    for (const [i, c] of chunks.entries()) {
      expect(c.end).toBe(chunks[i + 1]?.start ?? 300);
      expect(c.prerollStart).toBe(Math.max(0, c.start - 10));
    }
  });

  test('a short tail joins the chunk before; an empty video has no chunks', () => {
    const chunks = planChunks({
      frameTimes: times.slice(0, 65),
      keyframeTimes: [],
      chunkDuration: 1,
      preroll: 0,
    });
    expect(chunks.map((c) => [c.start, c.end])).toEqual([
      [0, 30],
      [30, 65],
    ]);
    expect(planChunks({ frameTimes: [], keyframeTimes: [], chunkDuration: 1, preroll: 0 })).toEqual([]);
  });
});

describe('the job', () => {
  test('defaults are filled, style options parsed; errors name the field', () => {
    const j = parseJob({ input: 'a.mp4', output: 'b.mp4', style: 'pencil' });
    expect(j.crf).toBe(20);
    expect(j.temporal.enabled).toBe(true);
    expect(j.styleOptions.sigma).toBe(10);
    const issues = (input: unknown): readonly string[] => {
      try {
        parseJob(input);
      } catch (err) {
        expect(err).toBeInstanceOf(JobConfigError);
        expect(FramecraftError.is(err, 'ERR_JOB_CONFIG')).toBe(true);
        return (err as JobConfigError).issues;
      }
      throw new Error('expected an error');
    };
    expect(issues({ input: 'a.mp4', output: 'b.mp4', style: 'pencil', crf: 60 })[0]).toStartWith('crf:');
    expect(issues({ input: 'a.mp4', output: 'b.mp4', style: 'watercolour' })[0]).toContain(
      'Unknown style "watercolour"',
    );
    expect(
      issues({ input: 'a.mp4', output: 'b.mp4', style: 'pencil', styleOptions: { sigma: -1 } })[0],
    ).toStartWith('styleOptions.sigma:');
    const two = issues({ output: 'b.mp4', style: 'pencil', temporal: { strength: 2 } });
    expect(two.map((i) => i.split(':')[0])).toEqual(['input', 'temporal.strength']);
  });

  test("the temporal mode is the style's unless the job says; flow mode pre-rolls its whole history", () => {
    const base = { input: 'a.mp4', output: 'b.mp4' };
    expect(parseJob({ ...base, style: 'pencil' }).temporal.mode).toBe('ema');
    expect(parseJob({ ...base, style: 'pencil', temporal: { enabled: false } }).temporal).toMatchObject({
      mode: 'off',
      enabled: false,
    });
    expect(parseJob({ ...base, style: 'pencil', temporal: { mode: 'flow' } }).temporal).toMatchObject({
      mode: 'flow',
      enabled: true,
      flow: { strength: 1, errorThreshold: 12, history: 24, preset: 'fast' },
    });
    // An explicit mode wins over the older switch.
    expect(
      parseJob({ ...base, style: 'pencil', temporal: { enabled: false, mode: 'ema' } }).temporal.mode,
    ).toBe('ema');
    const flow = parseJob({
      ...base,
      style: 'cartoon',
      preroll: 6,
      temporal: { mode: 'flow', flow: { history: 40 } },
    });
    expect(prerollOf(flow)).toBe(40);
    expect(prerollOf({ ...flow, preroll: 60 })).toBe(60);
    expect(prerollOf(parseJob({ ...base, style: 'cartoon', preroll: 6 }))).toBe(6);
    for (const [temporal, field] of [
      [{ mode: 'smooth' }, 'temporal.mode'],
      [{ mode: 'flow', flow: { history: 25 } }, 'temporal.flow.history'],
      [{ mode: 'flow', flow: { preset: 'slow' } }, 'temporal.flow.preset'],
    ] as const) {
      try {
        parseJob({ ...base, style: 'cartoon', temporal });
        throw new Error('expected an error');
      } catch (err) {
        expect((err as JobConfigError).issues[0]).toStartWith(`${field}:`);
      }
    }
  });

  test('the hash follows the settings that change pixels, not the worker count or key order', async () => {
    const a = await jobHash(parseJob(job('h')));
    expect(await jobHash(parseJob({ ...job('h'), workers: 7 }))).toBe(a);
    expect(await jobHash(parseJob({ ...job('h'), styleOptions: { sigma: 10 } }))).toBe(a);
    expect(await jobHash(parseJob({ ...job('h'), crf: 17 }))).not.toBe(a);
    expect(await jobHash(parseJob({ ...job('h'), styleOptions: { sigma: 11 } }))).not.toBe(a);
    // A new version of the style's look (an upgrade between a kill and the resume) is a new job.
    const style: { version: number } & Stylizer = { ...pencil, name: 'pencil-look-test', version: 1 };
    registerStylizer(style);
    const before = await jobHash(parseJob({ ...job('h'), style: style.name }));
    style.version = 2;
    expect(await jobHash(parseJob({ ...job('h'), style: style.name }))).not.toBe(before);
  });
});

describe('render', () => {
  let reference: Awaited<ReturnType<typeof decodeAll>>;

  test('renders in chunks on worker threads, stitches with the audio, keeps timing and A/V sync', async () => {
    const events: RenderProgress[] = [];
    const res = await render(job('whole', { workers: 2 }), { onProgress: (p) => events.push(p) });
    expect(res.chunks).toBe(3);
    expect(res.rendered).toBe(3);
    expect(res.frames).toBe(90);
    expect(existsSync(res.workDir)).toBe(false);
    const src = await decodeAll(clip);
    reference = await decodeAll(res.output!);
    expect(reference.map((f) => f.pts)).toEqual(src.map((f) => f.pts));
    expect((await streamDigest(res.output!, 'audio')).digest).toBe(
      (await streamDigest(clip, 'audio')).digest,
    );
    // The beep still starts with its flash (frame 15 = 0.5 s).
    const audio = await readAudio(res.output!);
    const beep = audio.channels[0]!.findIndex((v) => Math.abs(v) > 0.05);
    expect(Math.abs(audio.startTime + beep / audio.sampleRate - 0.5)).toBeLessThanOrEqual(1 / 30);
    expect(events.at(-1)).toMatchObject({ stage: 'done', framesDone: 90, chunksDone: 3, chunks: 3 });
    expect(events.some((e) => e.stage === 'stitch')).toBe(true);
    // Pencil output: a sketch, no colour.
    const info = await probe(res.output!);
    expect(info.streams.map((s) => s.type).sort()).toEqual(['audio', 'video']);
  });

  test("the source's chapters are in the output", async () => {
    const source = join(dir, 'source-with-chapters.mp4');
    await copyFile(clip, source);
    const chapters = [
      { start: 0, end: 1.2, title: 'Flash' },
      { start: 1.2, end: null, title: 'Second flash – and beep' },
    ];
    expect(await writeMp4Chapters(source, chapters)).toBe(true);
    const res = await render(job('chaptered', { input: source, workers: 2 }));
    expect(await readChapters(res.output!)).toEqual(chapters);
    expect(res.frames).toBe(90);
    // Into Matroska, the last chapter ends where the next would start: it keeps no end.
    const mkv = await render(job('chaptered', { input: source, output: join(dir, 'chaptered.mkv') }));
    expect(await readChapters(mkv.output!)).toEqual(chapters);
  });

  test('chunks rendered in reverse order, or in this thread, give the same frames', async () => {
    const j = job('reverse', { workers: 0 });
    for (const index of [2, 1, 0]) {
      const part = await render(j, { chunks: [index] });
      expect(part.output).toBeNull();
      expect(part.rendered).toBe(1);
    }
    const journal = await readJournal(workDirOf(parseJob(j)));
    expect(journal?.chunks_completed).toEqual([0, 1, 2]);
    expect(journal?.last_frame).toBe(90);
    const res = await render(j);
    expect(res.rendered).toBe(0);
    expect(res.reused).toBe(3);
    const frames = await decodeAll(res.output!);
    expect(frames.length).toBe(reference.length);
    for (const [i, f] of frames.entries()) expect(samePixels(f, reference[i]!)).toBe(true);
  });

  test('a resumed render re-renders only what is missing or damaged, and equals an uninterrupted one', async () => {
    const j = job('resume', { workers: 1 });
    await render(j, { chunks: [0, 1] });
    const workDir = workDirOf(parseJob(j));
    // Damage a finished segment: its hash no longer matches, so it is rendered again.
    const seg = join(workDir, 'chunk-00001.mp4');
    const bytes = await readFile(seg);
    bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff;
    await writeFile(seg, bytes);
    const res = await render(j);
    expect(res.reused).toBe(1);
    expect(res.rendered).toBe(2);
    const frames = await decodeAll(res.output!);
    for (const [i, f] of frames.entries()) expect(samePixels(f, reference[i]!)).toBe(true);
  });

  test('changed settings are refused unless restarted; an existing output is not replaced', async () => {
    const j = job('changed', { workers: 0 });
    await render(j, { chunks: [0] });
    const other = { ...j, crf: 30 };
    await expect(render(other)).rejects.toThrow(/different settings.*--restart/);
    const res = await render(other, { restart: true });
    expect(res.reused).toBe(0);
    await expect(render(other)).rejects.toMatchObject({ code: 'ERR_OUTPUT_EXISTS' });
    const again = await render(other, { overwrite: true });
    expect(again.rendered).toBe(3);
  });

  test('metrics: one record per frame across chunks, and a summary beside the output', async () => {
    const res = await render(job('metrics', { workers: 2, metrics: { enabled: true } }));
    expect(res.metrics).not.toBeNull();
    const lines = (await readFile(res.metrics!.log, 'utf8')).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).frame_idx)).toEqual(Array.from({ length: 90 }, (_, i) => i));
    expect(JSON.parse(lines[0]!)).toMatchObject({ style: 'pencil' });
    expect(res.metrics!.summary.metrics.ssim?.count).toBe(90);
    // Temporal measures on every frame but the first: a chunk's first frame is measured against
    // its last pre-roll frame.
    const records = lines.map((l) => JSON.parse(l));
    for (const r of records.slice(1)) {
      expect(r.warping_error).toBeGreaterThanOrEqual(0);
      expect(r.temporal_consistency).toBeGreaterThanOrEqual(0);
    }
    expect(res.metrics!.summary.metrics.warping_error?.count).toBe(89);
    expect(existsSync(join(dir, 'metrics.metrics.summary.json'))).toBe(true);
  });

  test('identity hands decoded frames straight to the encoder: a lossless render equals the source', async () => {
    const src = await decodeAll(clip);
    // Nothing after the style: the pass-through path (no copy).
    const direct = await render(
      job('identity-direct', { style: 'identity', crf: 0, temporal: { enabled: false } }),
    );
    const frames = await decodeAll(direct.output!);
    expect(frames.map((f) => f.pts)).toEqual(src.map((f) => f.pts));
    for (const [i, f] of frames.entries()) expect(samePixels(f, src[i]!)).toBe(true);
    // With a temporal filter after it the style copies, and the filter never writes into the
    // decoder's frames (which later frames are predicted from): the output stays the source, smoothed.
    const smoothed = await render(
      job('identity-smoothed', { style: 'identity', crf: 0, temporal: { enabled: true, strength: 0.5 } }),
    );
    const out = await decodeAll(smoothed.output!);
    expect(out.length).toBe(90);
    const mean = out.reduce((sum, f, i) => sum + Math.min(60, psnr(f, src[i]!)), 0) / out.length;
    expect(mean).toBeGreaterThan(30);
  });

  test('in flow mode a chunked render equals an uninterrupted one, bit for bit', async () => {
    // Lossless encodes, so the decoded frames are the stabilized frames whatever the chunking.
    const flow = { style: 'cartoon', crf: 0, temporal: { mode: 'flow', flow: { history: 12 } } };
    const whole = await render(job('flow-whole', { ...flow, chunkDuration: 100 }));
    const chunked = await render(job('flow-chunked', { ...flow, chunkDuration: 1, workers: 2 }));
    expect(whole.chunks).toBe(1);
    expect(chunked.chunks).toBeGreaterThan(2);
    const a = await decodeAll(whole.output!);
    const b = await decodeAll(chunked.output!);
    expect(b.length).toBe(90);
    for (const [i, f] of b.entries()) expect(samePixels(f, a[i]!)).toBe(true);
    // The stabilizer did act: frames differ from the unstabilized render.
    const off = await decodeAll(
      (await render(job('flow-off', { ...flow, temporal: { mode: 'off' } }))).output!,
    );
    expect(off.filter((f, i) => !samePixels(f, a[i]!)).length).toBeGreaterThan(45);
  }, 60_000);

  test('every registered style renders a clip end to end', async () => {
    for (const style of listStylizers()) {
      const res = await render(job(`style-${style}`, { style, workers: 0, chunkDuration: 10 }));
      const frames = await decodeAll(res.output!);
      expect(frames.length).toBe(90);
    }
  }, 60_000);

  test('a structured log of the render goes to a daily file (and can go to the console)', async () => {
    const logs = join(dir, 'logs');
    const started = Date.now();
    const { logger, close } = createLogger({ dir: logs });
    await render(job('logged', { workers: 2, codec: 'auto' }), { logger });
    await expect(
      render({ ...job('logged-bad'), input: join(dir, 'missing.mp4') }, { logger }),
    ).rejects.toThrow();
    await close();
    const file = join(logs, logFileName(new Date()));
    const entries = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(entries.map((e) => e.msg)).toEqual([
      expect.stringMatching(/^encoding with libx264: Encoder h264_nvenc is not usable here: .+/),
      'render start',
      'chunk done',
      'chunk done',
      'chunk done',
      'stitch',
      'render done',
      'render failed',
    ]);
    expect(entries[1]).toMatchObject({ level: 30, style: 'pencil', frames: 90, chunks: 3, codec: 'libx264' });
    expect(
      entries
        .filter((e) => e.msg === 'chunk done')
        .map((e) => e.chunk)
        .sort(),
    ).toEqual([0, 1, 2]);
    expect(entries.at(-1)).toMatchObject({ level: 50, code: 'ERR_FILE_NOT_FOUND' });
    // pino's epoch milliseconds, written during this test.
    expect(entries[0].time).toBeGreaterThanOrEqual(started);
    expect(entries[0].time).toBeLessThanOrEqual(Date.now());
  });

  test('a GPU style renders one chunk at a time; CPU styles use the workers asked for', () => {
    expect(chunkWorkers('gpu', 4, 10)).toBe(1);
    expect(chunkWorkers('gpu', 4, 0)).toBe(0);
    expect(chunkWorkers('cpu', 4, 10)).toBe(4);
    expect(chunkWorkers('cpu', 4, 2)).toBe(2);
    // 0: in this thread, one chunk after another, whatever the device.
    expect(chunkWorkers('gpu', 0, 5)).toBe(0);
    expect(chunkWorkers('cpu', 0, 5)).toBe(0);
  });

  test('the neural style renders through worker threads; a missing model falls back with a warning, or fails', async () => {
    const model = join(dir, 'wash.onnx');
    await writeFile(model, affineModel(0.5, 60));
    const res = await render(
      job('neural', { style: 'neural', styleOptions: { model, tile: 64, overlap: 8 }, workers: 2 }),
    );
    expect(res.chunks).toBe(3);
    const whole = await decodeAll(res.output!);
    expect(whole.length).toBe(90);
    // At style scale 0.5, through the same flow stabilizer (the neural style's default): every
    // frame at full size, close to the full-scale render (this model is per pixel).
    const half = await render(
      job('neural-half', {
        style: 'neural',
        styleOptions: { model, tile: 64, overlap: 8, scale: 0.5 },
        workers: 2,
      }),
    );
    expect(
      parseJob(job('neural-half', { style: 'neural', styleOptions: { model, scale: 0.5 } })).temporal.mode,
    ).toBe('flow');
    const halfFrames = await decodeAll(half.output!);
    expect(halfFrames.length).toBe(90);
    expect([halfFrames[45]!.width, halfFrames[45]!.height]).toEqual([whole[45]!.width, whole[45]!.height]);
    expect(psnr(halfFrames[45]!, whole[45]!)).toBeGreaterThan(28);
    // Asked for, the flow stage runs on the reduced frames, before the upsample: another result,
    // as close to the full-scale render.
    expect(parseJob(job('x', { style: 'neural', styleOptions: { model } })).temporal.flow.atStyleScale).toBe(
      false,
    );
    const reducedStage = await render(
      job('neural-half-reduced', {
        style: 'neural',
        styleOptions: { model, tile: 64, overlap: 8, scale: 0.5 },
        temporal: { flow: { atStyleScale: true } },
        workers: 2,
      }),
    );
    const reducedFrames = await decodeAll(reducedStage.output!);
    expect(reducedFrames.length).toBe(90);
    expect(psnr(reducedFrames[45]!, whole[45]!)).toBeGreaterThan(28);
    expect(samePixels(reducedFrames[45]!, halfFrames[45]!)).toBe(false);
    const warnings: string[] = [];
    const missing = join(dir, 'gone.onnx');
    const fallback = await render(
      job('neural-missing', { style: 'neural', styleOptions: { model: missing } }),
      {
        onWarning: (m) => warnings.push(m),
      },
    );
    expect(fallback.frames).toBe(90);
    // The neural style asks for motion-following coherence (and stronger EMA settings) unless the
    // job says otherwise.
    const modelJob = { input: 'a.mp4', output: 'b.mp4', style: 'neural', styleOptions: { model } };
    expect(parseJob({ ...modelJob, temporal: { enabled: false } }).temporal.mode).toBe('off');
    expect(parseJob({ ...modelJob, temporal: { mode: 'ema' } }).temporal.mode).toBe('ema');
    expect(parseJob(modelJob).temporal).toMatchObject({
      mode: 'flow',
      strength: 0.85,
      motionThreshold: 128,
      deflicker: true,
    });
    expect(parseJob({ ...modelJob, temporal: { strength: 0.3 } }).temporal).toMatchObject({
      strength: 0.3,
      motionThreshold: 128,
    });
    expect(parseJob({ ...modelJob, style: 'pencil', styleOptions: {} }).temporal).toMatchObject({
      strength: 0.5,
      motionThreshold: 24,
    });
    expect(warnings).toContain(`Model ${missing} not found; rendering with the cartoon style instead`);
    await expect(
      render(job('neural-fail', { style: 'neural', styleOptions: { model: missing }, onStyleError: 'fail' })),
    ).rejects.toMatchObject({ code: 'ERR_MODEL_NOT_FOUND' });
    expect(existsSync(join(dir, 'neural-fail.mp4'))).toBe(false);
  }, 60_000);

  test('a registered model by name: a new version swaps in at the next chunk boundary, finished chunks keep theirs, name@version pins it', async () => {
    const registry = new ModelRegistry(join(process.env.FRAMECRAFT_HOME!, 'models'));
    const v1 = join(dir, 'v1.onnx');
    const v2 = join(dir, 'v2.onnx');
    await writeFile(v1, affineModel(0.5, 60));
    await writeFile(v2, affineModel(0.25, 10));
    await registry.add(v1, { name: 'wash' });
    const j = job('swap', {
      style: 'neural',
      styleOptions: { model: 'wash' },
      workers: 0,
      temporal: { enabled: false },
    });
    await render(j, { chunks: [0] });
    const workDir = workDirOf(parseJob(j));
    expect((await readJournal(workDir))?.model).toEqual({
      name: 'wash',
      current: 'v1',
      chunks: { '0': 'v1' },
    });
    // A new version is installed (the registry loads it before it counts) while the render waits.
    await registry.add(v2, { name: 'wash' });
    const res = await render(j);
    expect(res.reused).toBe(1);
    const src = await decodeAll(clip, 'rgb24');
    const out = await decodeAll(res.output!, 'rgb24');
    // Chunk 0 (frames 0-29) was styled by v1, chunks 1 and 2 by v2: compare one pixel's level.
    const level = (f: (typeof out)[number]): number => f.planes[0]!.data[5000]!;
    const expected = (i: number, a: number, b: number): number =>
      Math.round(a * src[i]!.planes[0]!.data[5000]! + b);
    expect(Math.abs(level(out[10]!) - expected(10, 0.5, 60))).toBeLessThan(8);
    expect(Math.abs(level(out[50]!) - expected(50, 0.25, 10))).toBeLessThan(8);
    // Pinned to a version, nothing swaps.
    const pinned = job('pinned', { style: 'neural', styleOptions: { model: 'wash@v1' }, workers: 0 });
    await render(pinned, { chunks: [1] });
    expect((await readJournal(workDirOf(parseJob(pinned))))?.model?.chunks).toEqual({ '1': 'v1' });
  }, 60_000);

  test('any style names a registered model through its resources hook; the registry comes from the options', async () => {
    // A style whose option is not called `model`: the pipeline learns what it names from the style.
    const created: Record<string, unknown>[] = [];
    const options = v.object({
      weights: v.optional(v.string(), 'unset'),
      file: v.optional(v.string(), ''),
    });
    const weighted: Stylizer<typeof options> = {
      ...identity,
      name: 'weighted-test',
      options,
      presets: { speed: {}, balanced: {}, quality: {} },
      resources: {
        model: (o) => (o.file === '' ? { name: o.weights, version: undefined } : null),
        withModel: (o, m) => ({ ...o, file: m.path }),
        files: (o) => (o.file === '' ? [] : [o.file]),
      },
      create(o, context) {
        created.push(o);
        return identity.create({}, context);
      },
    };
    registerStylizer(weighted);
    // Not the data folder's registry: this one is given to the render.
    const models = new ModelRegistry(join(dir, 'other-models'));
    await writeFile(join(dir, 'w1.onnx'), affineModel(1, 0));
    await models.add(join(dir, 'w1.onnx'), { name: 'lens' });
    const j = job('weighted', { style: weighted.name, styleOptions: { weights: 'lens' }, workers: 0 });
    const res = await render(j, { models });
    expect(existsSync(res.output!)).toBe(true);
    const installed = (await models.resolve('lens')).path;
    // Checked once before the render, then created per chunk with the installed file.
    expect(created.length).toBeGreaterThanOrEqual(2);
    expect(created.every((o) => o.file === installed && o.weights === 'lens')).toBe(true);
    // The data folder's registry does not have it: without `models` the model is missing.
    await expect(
      render(
        job('weighted-missing', {
          style: weighted.name,
          styleOptions: { weights: 'lens' },
          onStyleError: 'fail',
        }),
      ),
    ).rejects.toMatchObject({ code: 'ERR_MODEL_NOT_FOUND' });
  }, 60_000);

  test('a missing input is a clear error and leaves nothing at the output path', async () => {
    const out = join(dir, 'never.mp4');
    await expect(render({ ...job('never'), input: join(dir, 'missing.mp4') })).rejects.toThrow('missing.mp4');
    expect(existsSync(out)).toBe(false);
  });
});

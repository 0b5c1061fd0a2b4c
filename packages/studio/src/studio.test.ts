import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeTestClip } from '@framecraft/io/testing';
import { decodeAll, tempDir } from '@framecraft/test-utils';
import { findTorch } from '@framecraft/trainer';
import type { QueuedJob } from './queue.ts';
import { type RunningStudio, startStudio } from './server.ts';

const { dir, cleanup } = await tempDir();
/** Why the trainer test cannot run here (no PyTorch), or null; found before the tests are declared. */
const torchMissing = await findTorch().then(
  () => null,
  (err: Error) => err.message.split('\n')[0] ?? 'no PyTorch',
);
if (torchMissing !== null) console.warn(`trainer test skipped: ${torchMissing}`);
// Render work folders go under the data folder: keep them in the test's folder.
process.env.FRAMECRAFT_HOME = join(dir, 'home');
const media = join(dir, 'media');
const home = join(dir, 'home');
let studio: RunningStudio;
const warnings: string[] = [];

beforeAll(async () => {
  await mkdir(media, { recursive: true });
  await writeTestClip(join(media, 'clip.mp4'), { width: 64, height: 48, frames: 10 });
  await writeFile(join(dir, 'secret.txt'), 'not for the studio');
  await symlink(join(dir, 'secret.txt'), join(media, 'link-out.txt'));
  studio = await startStudio({
    roots: [media],
    dataHome: home,
    port: 0,
    uploadLimit: 4096,
    nvidiaSmi: join(dir, 'no-nvidia-smi'),
    onWarning: (m) => warnings.push(m),
  });
});
afterAll(async () => {
  await studio.close();
  await cleanup();
});

const api = (path: string, init?: RequestInit) => fetch(`${studio.url}${path}`, init);

describe('studio server', () => {
  test('binds to 127.0.0.1 by default without a warning; probes a file in an allowed folder', async () => {
    expect(studio.host).toBe('127.0.0.1');
    expect(warnings).toEqual([]);
    expect(await (await api('/api/health')).json()).toEqual({ ok: true });
    const res = await api(`/api/probe?path=${encodeURIComponent(join(media, 'clip.mp4'))}`);
    expect(res.status).toBe(200);
    const info = (await res.json()) as { streams: { type: string; width?: number }[] };
    expect(info.streams.find((s) => s.type === 'video')?.width).toBe(64);
    const files = (await (await api(`/api/files?dir=${encodeURIComponent(media)}`)).json()) as {
      entries: { name: string }[];
    };
    expect(files.entries.map((e) => e.name)).toContain('clip.mp4');
  });

  test('paths that leave the allowed folders are refused: .., absolute, symbolic links', async () => {
    for (const p of [
      join(media, '..', 'secret.txt'),
      '/etc/passwd',
      join(media, 'link-out.txt'),
      '../secret.txt',
    ]) {
      const res = await api(`/api/probe?path=${encodeURIComponent(p)}`);
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('ERR_PATH_NOT_ALLOWED');
    }
    expect((await api(`/api/files?dir=${encodeURIComponent(dir)}`)).status).toBe(403);
  });

  test('uploads: within the limit they land under a fresh name; over it 413 and nothing kept', async () => {
    const origin = studio.url;
    const up = (name: string, body: Uint8Array) =>
      api(`/api/upload?name=${encodeURIComponent(name)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', origin },
        body,
      });
    const first = (await (await up('shot.png', new Uint8Array(1000).fill(7))).json()) as { path: string };
    const second = (await (await up('shot.png', new Uint8Array(10).fill(9))).json()) as { path: string };
    expect(first.path).not.toBe(second.path);
    expect((await readFile(first.path)).length).toBe(1000);
    const big = await up('big.mp4', new Uint8Array(5000));
    expect(big.status).toBe(413);
    expect(existsSync(join(home, 'studio', 'uploads', 'big.mp4'))).toBe(false);
    expect((await up('../../evil.png', new Uint8Array(5))).status).toBe(201);
    expect(existsSync(join(home, 'evil.png'))).toBe(false);
    expect((await up('notes.txt', new Uint8Array(5))).status).toBe(400);
  });

  test('a state-changing request from another origin is refused', async () => {
    const res = await api('/api/upload?name=x.png', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', origin: 'http://evil.example' },
      body: new Uint8Array(5),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('ERR_ORIGIN');
    // No Origin, but the browser says the request is cross-site.
    const sneaky = await api('/api/upload?name=y.png', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'sec-fetch-site': 'cross-site' },
      body: new Uint8Array(5),
    });
    expect(sneaky.status).toBe(403);
    expect(existsSync(join(home, 'studio', 'uploads', 'x.png'))).toBe(false);
    expect(existsSync(join(home, 'studio', 'uploads', 'y.png'))).toBe(false);
  });

  test('request bodies are checked: each wrong field is named, malformed JSON is a 400, defaults keep what was not sent', async () => {
    const post = (path: string, body: string) =>
      api(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: studio.url },
        body,
      });
    const error = async (res: Response) =>
      ((await res.json()) as { error: { code: string; message: string } }).error;
    const noOutput = await post(
      '/api/jobs',
      JSON.stringify({ input: join(media, 'clip.mp4'), style: 'pencil' }),
    );
    expect(noOutput.status).toBe(400);
    const e1 = await error(noOutput);
    expect(e1.code).toBe('ERR_JOB_CONFIG');
    expect(e1.message).toMatch(/output: is required/);
    const badStyle = await post(
      '/api/jobs',
      JSON.stringify({ input: join(media, 'clip.mp4'), output: join(media, 'never.mp4'), style: 'nope' }),
    );
    expect(badStyle.status).toBe(400);
    expect((await error(badStyle)).code).toBe('ERR_JOB_CONFIG');
    expect(existsSync(join(media, 'never.mp4'))).toBe(false);
    const malformed = await post('/api/lab/judge', '{"id": ');
    expect(malformed.status).toBe(400);
    expect((await error(malformed)).code).toBe('ERR_BAD_REQUEST');
    const unknownCmp = await post('/api/lab/judge', JSON.stringify({ id: 'lab-none', choice: 'a' }));
    expect(unknownCmp.status).toBe(404);
    expect((await error(unknownCmp)).code).toBe('ERR_LAB_NOT_FOUND');
    const badCrf = await post('/api/defaults', JSON.stringify({ crf: 99 }));
    expect(badCrf.status).toBe(400);
    expect((await error(badCrf)).message).toMatch(/crf/);
    const saved = await post('/api/defaults', JSON.stringify({ style: 'comic' }));
    expect(saved.status).toBe(200);
    const crfOnly = (await (await post('/api/defaults', JSON.stringify({ crf: 23 }))).json()) as {
      style: string;
      crf: number;
    };
    expect(crfOnly).toMatchObject({ style: 'comic', crf: 23 });
    const badMode = await post('/api/train', JSON.stringify({ name: 'x', mode: 'distill' }));
    expect(badMode.status).toBe(400);
    expect((await error(badMode)).message).toMatch(/mode/);
  });

  test('settings: no GPU here, libx264 advice, and the styles list', async () => {
    const s = (await (await api('/api/settings')).json()) as {
      gpus: unknown[];
      gpuNote: string;
      nvenc: { usable: boolean };
      advice: string;
    };
    expect(s.gpus).toEqual([]);
    expect(s.gpuNote).toBeTruthy();
    expect(s.nvenc.usable).toBe(false);
    expect(s.advice).toMatch(/libx264/);
    const styles = (await (await api('/api/styles')).json()) as { styles: { name: string }[] };
    expect(styles.styles.map((x) => x.name)).toEqual(
      expect.arrayContaining(['pencil', 'cartoon', 'comic', 'cinematic']),
    );
  });

  test('another address than loopback gets a warning', async () => {
    const w: string[] = [];
    const s = await startStudio({
      roots: [media],
      dataHome: join(dir, 'home-any'),
      host: '0.0.0.0',
      port: 0,
      onWarning: (m) => w.push(m),
    });
    await s.close();
    expect(w[0]).toMatch(/listens on 0\.0\.0\.0/);
  });

  test('a render submitted through the API runs, streams its progress, and its output plays', async () => {
    const events = new AbortController();
    const seen: QueuedJob[] = [];
    const stream = fetch(`${studio.url}/api/events`, { signal: events.signal }).then(async (res) => {
      const reader = res.body!.getReader();
      let text = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
        for (let i = text.indexOf('\n\n'); i >= 0; i = text.indexOf('\n\n')) {
          const block = text.slice(0, i);
          text = text.slice(i + 2);
          if (block.includes('event: job\n')) seen.push(JSON.parse(block.split('data: ')[1]!) as QueuedJob);
        }
      }
    });
    const output = join(media, 'out.mp4');
    const res = await api('/api/jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: studio.url },
      body: JSON.stringify({ input: join(media, 'clip.mp4'), output, style: 'pencil' }),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as QueuedJob;
    for (let i = 0; i < 200 && !seen.some((j) => j.id === id && j.state === 'done'); i++) await Bun.sleep(50);
    events.abort();
    await stream.catch(() => undefined);
    const states = seen.filter((j) => j.id === id).map((j) => j.state);
    expect(states).toContain('running');
    expect(states.at(-1)).toBe('done');
    expect(seen.some((j) => j.id === id && j.progress !== null && j.progress.totalFrames === 10)).toBe(true);
    expect((await decodeAll(output)).length).toBe(10);
    // The same output again: refused, the file is the user's now.
    const again = await api('/api/jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: studio.url },
      body: JSON.stringify({ input: join(media, 'clip.mp4'), output, style: 'pencil' }),
    });
    expect(again.status).toBe(409);
    const outside = await api('/api/jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: studio.url },
      body: JSON.stringify({ input: join(media, 'clip.mp4'), output: join(dir, 'x.mp4'), style: 'pencil' }),
    });
    expect(outside.status).toBe(403);
    const badStyle = await api('/api/jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: studio.url },
      body: JSON.stringify({
        input: join(media, 'clip.mp4'),
        output: join(media, 'y.mp4'),
        style: 'watercolour',
      }),
    });
    expect(badStyle.status).toBe(400);
  }, 60_000);

  test('a job the server was running when it stopped resumes after a restart; cancel and retry', async () => {
    const home2 = join(dir, 'home2');
    const queueFile = join(home2, 'studio', 'queue.json');
    await mkdir(join(home2, 'studio'), { recursive: true });
    const output = join(media, 'resumed.mp4');
    const interrupted: QueuedJob = {
      id: 'job-interrupted',
      job: { input: join(media, 'clip.mp4'), output, style: 'cartoon' },
      state: 'running',
      progress: null,
      created: new Date().toISOString(),
      started: new Date().toISOString(),
      finished: null,
      resumed: 0,
      error: null,
      warnings: [],
    };
    await writeFile(queueFile, JSON.stringify({ jobs: [interrupted] }));
    const s = await startStudio({ roots: [media], dataHome: home2, port: 0 });
    try {
      let job: QueuedJob | undefined;
      for (let i = 0; i < 200; i++) {
        job = s.queue.get('job-interrupted');
        if (job?.state === 'done') break;
        await Bun.sleep(50);
      }
      expect(job).toMatchObject({ state: 'done', resumed: 1 });
      expect((await decodeAll(output)).length).toBe(10);
      // Cancel a queued job before it starts, then retry it.
      const longer = join(media, 'long.mp4');
      await writeTestClip(longer, { width: 64, height: 48, frames: 60 });
      const a = await s.queue.submit({ input: longer, output: join(media, 'long-a.mp4'), style: 'comic' });
      const b = await s.queue.submit({ input: longer, output: join(media, 'long-b.mp4'), style: 'pencil' });
      expect((await s.queue.cancel(b.id)).state).toBe('canceled');
      expect((await s.queue.retry(b.id)).state).toBe('queued');
      await expect(s.queue.retry(a.id)).rejects.toMatchObject({ code: 'ERR_JOB_STATE' });
      for (let i = 0; i < 400 && s.queue.get(b.id)?.state !== 'done'; i++) await Bun.sleep(50);
      expect(s.queue.get(a.id)?.state).toBe('done');
      expect(s.queue.get(b.id)?.state).toBe('done');
    } finally {
      await s.close();
    }
    // Persisted: a new queue on the same file lists the finished jobs.
    const { RenderQueue } = await import('./queue.ts');
    const q = await RenderQueue.open(queueFile);
    expect(q.list().map((j) => j.state)).toEqual(['done', 'done', 'done']);
    await q.close();
  }, 90_000);

  /** One frame of the test clip at 0.2 s in two styles, through the style lab's API. */
  const compare = (a: unknown, b: unknown) =>
    api('/api/lab/compare', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: studio.url },
      body: JSON.stringify({ input: join(media, 'clip.mp4'), time: 0.2, a, b }),
    });

  test('style lab: one frame in two styles, a judgement lands in the feedback log and becomes a training pair', async () => {
    const res = await compare({ style: 'pencil' }, { style: 'cartoon', preset: 'speed' });
    expect(res.status).toBe(201);
    const cmp = (await res.json()) as {
      id: string;
      frameIndex: number;
      urls: Record<'original' | 'a' | 'b', string>;
    };
    expect(cmp.frameIndex).toBe(6);
    for (const which of ['original', 'a', 'b'] as const) {
      const img = await fetch(`${studio.url}${cmp.urls[which]}`);
      expect(img.headers.get('content-type')).toBe('image/png');
      const bytes = new Uint8Array(await img.arrayBuffer());
      expect(Array.from(bytes.subarray(1, 4))).toEqual([0x50, 0x4e, 0x47]);
    }
    const judge = await api('/api/lab/judge', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: studio.url },
      body: JSON.stringify({ id: cmp.id, choice: 'b', rating: 4, approved: true }),
    });
    expect(judge.status).toBe(201);
    const { FeedbackLog } = await import('@framecraft/trainer');
    const log = new FeedbackLog(join(home, 'feedback'));
    const records = await log.read();
    expect(records.at(-1)).toMatchObject({
      kind: 'ab',
      choice: 'b',
      rating: 4,
      approved: true,
      frameIndex: 6,
    });
    expect(records.at(-1)!.b?.style).toBe('cartoon');
    const pairs = await log.approvedPairs();
    expect(pairs.length).toBe(1);
    expect(pairs[0]!.shot).toBe(join(media, 'clip.mp4'));
    const wrong = await api('/api/lab/judge', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: studio.url },
      body: JSON.stringify({ id: cmp.id, choice: 'c' }),
    });
    expect(wrong.status).toBe(400);
    expect(
      (
        await api(`/api/lab/compare`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: studio.url },
          body: JSON.stringify({
            input: '/etc/passwd',
            time: 0,
            a: { style: 'pencil' },
            b: { style: 'pencil' },
          }),
        })
      ).status,
    ).toBe(403);
  }, 60_000);

  test('the preview honours the neural style scale: both sides at the frame size, and they differ', async () => {
    const res = await compare({ style: 'neural' }, { style: 'neural', options: { scale: 0.5 } });
    expect(res.status).toBe(201);
    const cmp = (await res.json()) as { urls: Record<'original' | 'a' | 'b', string> };
    const png = async (which: 'original' | 'a' | 'b'): Promise<Uint8Array> =>
      new Uint8Array(await (await fetch(`${studio.url}${cmp.urls[which]}`)).arrayBuffer());
    const [original, a, b] = [await png('original'), await png('a'), await png('b')];
    // Width and height from the PNG header.
    const size = (p: Uint8Array): number[] => Array.from(p.subarray(16, 24));
    expect(size(a)).toEqual(size(original));
    expect(size(b)).toEqual(size(original));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  }, 60_000);

  // Uses the pair the style-lab test above approved.
  test.skipIf(torchMissing !== null)(
    'trainer: a short fine-tune on the approved pair streams its loss; the candidate is promoted by hand',
    async () => {
      const { initModel } = await import('@framecraft/trainer');
      const { ModelRegistry } = await import('@framecraft/ml');
      const registry = new ModelRegistry(join(home, 'models'));
      const baseFile = join(dir, 'base.onnx');
      await initModel({ arch: 'transformer', out: baseFile, widths: [8, 16, 32], blocks: 1 });
      await registry.add(baseFile, { name: 'tiny-base' });
      const post = (path: string, body?: unknown) =>
        api(path, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: studio.url },
          body: JSON.stringify(body ?? {}),
        });
      const started = await post('/api/train', {
        name: 'lab-model',
        mode: 'finetune',
        base: 'tiny-base',
        steps: 4,
        batch: 1,
        crop: 32,
      });
      expect(started.status).toBe(201);
      const { id } = (await started.json()) as { id: string };
      const busy = await post('/api/train', { name: 'other', mode: 'student' });
      expect(busy.status).toBe(409);
      const res = await fetch(`${studio.url}/api/train/${id}/events`);
      const text = await res.text();
      const events = text
        .split('\n\n')
        .filter((b) => b.includes('event: train'))
        .map((b) => JSON.parse(b.split('data: ')[1]!) as { type: string; loss?: number });
      expect(events.filter((e) => e.type === 'step').length).toBeGreaterThan(0);
      expect(events.map((e) => e.type)).toContain('registered');
      const end = JSON.parse(text.split('event: end\ndata: ')[1]!.split('\n')[0]!) as {
        state: string;
        candidate: { version: string };
      };
      expect(end.state).toBe('trained');
      const promoted = await post(`/api/train/${id}/promote`);
      expect(((await promoted.json()) as { state: string }).state).toBe('promoted');
      expect((await registry.promoted('lab-model'))?.version).toBe(end.candidate.version);
      expect((await post(`/api/train/${id}/discard`)).status).toBe(409);
    },
    120_000,
  );

  test('settings warn about a GPU above 80 °C (nvidia-smi stand-in reporting a hot card)', async () => {
    const smi = join(dir, 'hot-nvidia-smi');
    await writeFile(smi, '#!/bin/sh\necho "0, NVIDIA Test Card, 24576, 20480, 86, 97, 550.54"\n', {
      mode: 0o755,
    });
    const s = await startStudio({ roots: [media], dataHome: join(dir, 'home-hot'), port: 0, nvidiaSmi: smi });
    try {
      const settings = (await (await fetch(`${s.url}/api/settings`)).json()) as {
        gpus: { name: string; memoryTotalMiB: number; temperatureC: number }[];
        warnings: string[];
      };
      expect(settings.gpus[0]).toMatchObject({
        name: 'NVIDIA Test Card',
        memoryTotalMiB: 24576,
        temperatureC: 86,
      });
      expect(settings.warnings).toEqual(['GPU 0 (NVIDIA Test Card) is at 86 °C, above 80 °C']);
    } finally {
      await s.close();
    }
  });
});

import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeTestClip } from '@framecraft/io';
import { tempDir } from '@framecraft/test-utils';
import { type RunningStudio, startStudio } from './server.ts';

const { dir, cleanup } = await tempDir();
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
      dataHome: home,
      host: '0.0.0.0',
      port: 0,
      onWarning: (m) => w.push(m),
    });
    await s.close();
    expect(w[0]).toMatch(/listens on 0\.0\.0\.0/);
  });
});

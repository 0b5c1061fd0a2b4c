import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { probe } from '@framecraft/io';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { FileList, MetricsFrames, Uploaded } from '../api.ts';
import { StudioError } from '../errors.ts';
import type { AllowedRoots } from '../roots.ts';

/** Content types of the files the pages show or play. */
export const MIME: { readonly [ext: string]: string } = {
  '.mp4': 'video/mp4',
  '.mkv': 'video/x-matroska',
  '.mov': 'video/quicktime',
  '.webm': 'video/webm',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
};

const UPLOAD_TYPES = new Set([
  '.mp4',
  '.mkv',
  '.mov',
  '.webm',
  '.avi',
  '.png',
  '.jpg',
  '.jpeg',
  '.webp',
  '.cube',
  '.onnx',
]);

/** What the file routes work on. */
export interface FileRoutesOptions {
  readonly roots: AllowedRoots;
  readonly uploadDir: string;
  readonly uploadLimit: number;
}

/** A file from an allowed folder for the browser to play or show, with range requests for video. */
async function sendFile(path: string, rangeHeader: string | undefined): Promise<Response> {
  const info = await stat(path);
  if (!info.isFile()) throw new StudioError('ERR_NOT_A_FILE', `${path} is not a file`);
  const type = MIME[extname(path).toLowerCase()] ?? 'application/octet-stream';
  const range = /^bytes=(\d+)-(\d*)$/.exec(rangeHeader ?? '');
  const body = (part?: { start: number; end: number }): ReadableStream =>
    Readable.toWeb(createReadStream(path, part)) as ReadableStream;
  if (range === null)
    return new Response(body(), {
      headers: { 'content-type': type, 'accept-ranges': 'bytes', 'content-length': String(info.size) },
    });
  const start = Number(range[1]);
  const end = range[2] === '' ? info.size - 1 : Math.min(Number(range[2]), info.size - 1);
  if (start > end)
    return new Response(null, { status: 416, headers: { 'content-range': `bytes */${info.size}` } });
  return new Response(body({ start, end }), {
    status: 206,
    headers: {
      'content-type': type,
      'content-range': `bytes ${start}-${end}/${info.size}`,
      'accept-ranges': 'bytes',
      'content-length': String(end - start + 1),
    },
  });
}

/**
 * Store an upload's body under a fresh name in `dir` (never over a file), through a temporary
 * file renamed into place, so a broken upload leaves nothing behind.
 */
async function storeUpload(dir: string, name: string, body: ReadableStream<Uint8Array>): Promise<string> {
  const ext = extname(name).toLowerCase();
  await mkdir(dir, { recursive: true });
  const stem =
    basename(name, ext)
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .slice(0, 80) || 'upload';
  let target = join(dir, `${stem}${ext}`);
  for (let i = 1; existsSync(target); i++) target = join(dir, `${stem}-${i}${ext}`);
  const tmp = `${target}.part-${process.pid}`;
  try {
    await pipeline(Readable.fromWeb(body), createWriteStream(tmp, { flags: 'wx' }));
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return target;
}

/**
 * The allowed folders and what is in them: browsing, probing, playing a file, a render's metrics,
 * and uploads (the raw body, name in `?name=`, refused above the limit before and while reading).
 */
export function fileRoutes(o: FileRoutesOptions): Hono {
  return new Hono()
    .get('/roots', (c) => c.json({ roots: o.roots.list }))
    .get('/files', async (c) => {
      const dir = await o.roots.check(c.req.query('dir') ?? o.roots.list[0]!);
      const entries = await readdir(dir, { withFileTypes: true });
      const list: FileList = {
        dir,
        entries: entries
          .filter((e) => !e.name.startsWith('.'))
          .map((e) => ({ name: e.name, dir: e.isDirectory() }))
          .sort((a, b) => Number(b.dir) - Number(a.dir) || a.name.localeCompare(b.name)),
      };
      return c.json(list);
    })
    .get('/probe', async (c) => c.json(await probe(await o.roots.check(c.req.query('path') ?? ''))))
    .get('/file', async (c) =>
      sendFile(await o.roots.check(c.req.query('path') ?? ''), c.req.header('range')),
    )
    .get('/metrics', async (c) => {
      // A finished render's per-frame metrics (the JSON lines beside its output), for the charts.
      const output = await o.roots.check(c.req.query('output') ?? '');
      const stem = output.slice(0, output.length - extname(output).length);
      const text = await readFile(`${stem}.metrics.jsonl`, 'utf8').catch(() => null);
      if (text === null) throw new StudioError('ERR_NO_METRICS', `${output} was rendered without metrics`);
      const frames: MetricsFrames = {
        frames: text
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => JSON.parse(l) as MetricsFrames['frames'][number]),
      };
      return c.json(frames);
    })
    .post(
      '/upload',
      bodyLimit({
        maxSize: o.uploadLimit,
        onError: () => {
          throw new StudioError('ERR_UPLOAD_TOO_LARGE', `uploads are limited to ${o.uploadLimit} bytes`);
        },
      }),
      async (c) => {
        const name = basename(c.req.query('name') ?? '');
        if (name === '' || !UPLOAD_TYPES.has(extname(name).toLowerCase()))
          throw new StudioError(
            'ERR_UPLOAD_TYPE',
            `${name || '(no name)'}: not a video, image, .cube or .onnx file`,
          );
        const body = c.req.raw.body;
        if (body === null) throw new StudioError('ERR_UPLOAD_EMPTY', 'empty upload');
        const path = await storeUpload(o.uploadDir, name, body);
        const uploaded: Uploaded = { path, size: (await stat(path)).size };
        return c.json(uploaded, 201);
      },
    );
}

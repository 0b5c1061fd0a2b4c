import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { affineModel, tempDir } from '@framecraft/test-utils';
import { ModelRegistry } from './registry.ts';

const { dir, cleanup } = await tempDir();
const bytes = Buffer.from(affineModel(2, 1, 512 * 1024));
const sha = createHash('sha256').update(bytes).digest('hex');
// A local server: Range requests, and a mode that drops the connection half-way once.
let breakNext = false;
const requests: (string | undefined)[] = [];
let server: Server;
let base = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.headers.range);
    if (req.url !== '/wash.onnx') {
      res.writeHead(404).end();
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    const body = bytes.subarray(start);
    res.writeHead(m ? 206 : 200, { 'content-length': body.length, 'accept-ranges': 'bytes' });
    if (breakNext) {
      breakNext = false;
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.destroy());
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.close();
  await cleanup();
});

describe('ModelRegistry', () => {
  test('built-in models: listed and resolved with nothing installed, verified, never removed; an added model of the name wins', async () => {
    const shipped = join(dir, 'shipped.onnx');
    await writeFile(shipped, bytes);
    const builtIn = {
      name: 'wash',
      version: 'v1',
      description: 'ships in a package',
      path: shipped,
      sha256: sha,
      size: bytes.length,
      layout: { layout: 'nchw', channels: 'rgb', range: 255 },
      inputs: [{ name: 'input', shape: [1, 3, 'height', 'width'] }],
      package: '@example/model-wash',
      license: 'MIT',
      source: 'a test',
    } as const;
    const reg = new ModelRegistry(join(dir, 'models-builtin'), { builtIn: [builtIn] });
    expect(await reg.list()).toEqual([
      expect.objectContaining({
        name: 'wash',
        version: 'v1',
        builtIn: { package: '@example/model-wash', license: 'MIT' },
      }),
    ]);
    expect((await reg.resolve('wash')).path).toBe(shipped);
    expect((await reg.resolveRef('wash@v1')).path).toBe(shipped);
    expect(await reg.verify()).toEqual([{ name: 'wash', version: 'v1', ok: true, reason: null }]);
    await expect(reg.remove('wash')).rejects.toThrow(
      /"wash" is a built-in model \(from @example\/model-wash\); it cannot be removed/,
    );
    await expect(reg.promote('wash', 'v1')).rejects.toMatchObject({ code: 'ERR_MODEL_BUILT_IN' });
    // The user's own "wash" takes the name over; the built-in one is still listed, and back once it goes.
    const own = join(dir, 'own.onnx');
    await writeFile(own, affineModel(1, 0));
    await reg.add(own, { name: 'wash' });
    const mine = await reg.resolve('wash');
    // Numbered after the built-in version, which keeps its name.
    expect([mine.manifest.builtIn, mine.path]).toEqual([
      undefined,
      join(reg.dir, 'wash', 'v2', 'model.onnx'),
    ]);
    expect((await reg.resolveRef('wash@v1')).path).toBe(shipped);
    expect((await reg.list()).map((m) => [m.name, m.version, m.builtIn !== undefined])).toEqual([
      ['wash', 'v2', false],
      ['wash', 'v1', true],
    ]);
    await expect(reg.add(own, { name: 'wash', version: 'v1' })).rejects.toMatchObject({
      code: 'ERR_MODEL_EXISTS',
    });
    // With a version of its own beside it, the built-in one can be promoted back, and that holds.
    await reg.promote('wash', 'v1', 'back to the shipped one');
    expect((await reg.resolve('wash')).path).toBe(shipped);
    await reg.promote('wash', 'v2');
    expect((await reg.resolve('wash')).path).toBe(join(reg.dir, 'wash', 'v2', 'model.onnx'));
    await reg.remove('wash');
    expect((await reg.resolve('wash')).path).toBe(shipped);
    // A changed shipped file is caught by verify.
    await writeFile(shipped, affineModel(1, 0));
    expect((await reg.verify())[0]).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^size \d+ instead of \d+$/),
    });
  });

  test('add, list, resolve the newest, verify, remove; a non-model is refused', async () => {
    const reg = new ModelRegistry(join(dir, 'models-a'));
    const file = join(dir, 'wash.onnx');
    await writeFile(file, bytes);
    const v1 = await reg.add(file, { name: 'wash', description: 'washes colours out' });
    expect(v1).toMatchObject({
      name: 'wash',
      version: 'v1',
      sha256: sha,
      size: bytes.length,
      layout: 'nchw',
      range: 255,
    });
    expect(v1.inputs).toEqual([{ name: 'input', shape: [1, 3, 'height', 'width'] }]);
    const v2 = await reg.add(file, { name: 'wash', layout: { channels: 'bgr' } });
    expect(v2.version).toBe('v2');
    expect((await reg.list()).map((m) => `${m.name}@${m.version}`)).toEqual(['wash@v1', 'wash@v2']);
    expect((await reg.resolve('wash')).manifest.version).toBe('v2');
    expect((await reg.resolve('wash', 'v1')).path).toBe(join(reg.dir, 'wash', 'v1', 'model.onnx'));
    expect((await reg.verify()).every((v) => v.ok)).toBe(true);
    await writeFile(join(reg.dir, 'wash', 'v1', 'model.onnx'), Buffer.concat([bytes, Buffer.from([0])]));
    expect((await reg.verify()).find((v) => v.version === 'v1')?.reason).toMatch(/^size/);
    await reg.remove('wash', 'v1');
    await expect(reg.resolve('wash', 'v1')).rejects.toThrow('Installed: wash@v2');
    const junk = join(dir, 'junk.onnx');
    await writeFile(junk, 'not a model');
    await expect(reg.add(junk, { name: 'junk' })).rejects.toMatchObject({ code: 'ERR_MODEL_LOAD' });
    expect(existsSync(join(reg.dir, 'junk'))).toBe(false);
    await expect(reg.add(file, { name: 'Bad Name' })).rejects.toMatchObject({ code: 'ERR_MODEL_NAME' });
  });

  test('promote: resolve() without a version gives the promoted one; metrics are kept; removing it falls back', async () => {
    const reg = new ModelRegistry(join(dir, 'models-p'));
    const file = join(dir, 'wash-p.onnx');
    await writeFile(file, bytes);
    await reg.add(file, { name: 'wash' });
    const v2 = await reg.add(file, { name: 'wash', metrics: { validationMse: 12.5, ssim: 0.9 } });
    expect(v2.metrics).toEqual({ validationMse: 12.5, ssim: 0.9 });
    expect(await reg.promoted('wash')).toBeNull();
    expect((await reg.resolve('wash')).manifest.version).toBe('v2');
    const p = await reg.promote('wash', 'v1', 'kept: v2 regressed');
    expect(p).toMatchObject({ version: 'v1', reason: 'kept: v2 regressed' });
    expect((await reg.resolve('wash')).manifest.version).toBe('v1');
    await reg.add(file, { name: 'wash' });
    // A newer version does not displace the promoted one, and current.json is not a version.
    expect((await reg.resolve('wash')).manifest.version).toBe('v1');
    expect((await reg.list()).map((m) => m.version)).toEqual(['v1', 'v2', 'v3']);
    await expect(reg.promote('wash', 'v9')).rejects.toMatchObject({ code: 'ERR_MODEL_NOT_FOUND' });
    await reg.remove('wash', 'v1');
    expect(await reg.promoted('wash')).toBeNull();
    expect((await reg.resolve('wash')).manifest.version).toBe('v3');
  });

  test('download: a broken connection keeps the partial file and the rerun resumes with a range request', async () => {
    const reg = new ModelRegistry(join(dir, 'models-b'));
    breakNext = true;
    requests.length = 0;
    const seen: number[] = [];
    const first = await reg
      .download(`${base}/wash.onnx`, { name: 'wash', sha256: sha, onProgress: (r) => seen.push(r) })
      .catch((e: unknown) => e);
    expect((first as { code?: string }).code).toBe('ERR_DOWNLOAD');
    expect((first as Error).message).toContain('run it again to resume');
    const parts = (await readdir(reg.dir)).filter((f) => f.endsWith('.part'));
    expect(parts).toHaveLength(1);
    const kept = statSync(join(reg.dir, parts[0]!)).size;
    expect(kept).toBeGreaterThan(0);
    expect(seen.at(-1)).toBe(kept);
    const m = await reg.download(`${base}/wash.onnx`, { name: 'wash', sha256: sha });
    expect(m).toMatchObject({ name: 'wash', version: 'v1', sha256: sha, source: `${base}/wash.onnx` });
    // The rerun asked only for what was missing.
    expect(requests).toEqual([undefined, `bytes=${kept}-`]);
    expect((await readdir(reg.dir)).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  test('download: a wrong checksum or a missing file installs nothing', async () => {
    const reg = new ModelRegistry(join(dir, 'models-c'));
    await expect(
      reg.download(`${base}/wash.onnx`, { name: 'wash', sha256: '0'.repeat(64) }),
    ).rejects.toMatchObject({
      code: 'ERR_MODEL_CHECKSUM',
    });
    await expect(reg.download(`${base}/nope.onnx`, { name: 'nope', sha256: sha })).rejects.toThrow(
      'HTTP 404',
    );
    expect(await reg.list()).toEqual([]);
    expect((await readdir(reg.dir)).filter((f) => f.endsWith('.part'))).toEqual([]);
  });
});

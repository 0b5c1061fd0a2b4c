import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, truncate, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { probe } from '@framecraft/io';
import { writeTestClip } from '@framecraft/io/testing';
import { render as renderJob } from '@framecraft/pipeline';
import {
  affineModel,
  decodeAll,
  psnr,
  samePixels,
  tempDir,
  writeUndecodableVideo,
  writeWav,
} from '@framecraft/test-utils';
import sharp from 'sharp';
import { BIN, type CliRun, runCli } from './harness.ts';

// Work folders of renders go under the test's own data home.
const HOME = await tempDir();
process.env.FRAMECRAFT_HOME = HOME.dir;

const run = (...args: string[]): CliRun => runCli(args);

/** The last JSON line a `--json` command printed (its result). */
const lastEvent = (r: { stdout: string }): Record<string, unknown> =>
  JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;

let dir = '';
let cleanup = async (): Promise<void> => {};
let clip = '';
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  clip = join(dir, 'clip.mp4');
  await writeTestClip(clip, { width: 160, height: 96, frames: 30 });
});
afterAll(async () => {
  await cleanup();
  if ('path' in fullDisk) spawnSync('umount', [fullDisk.path]);
  await HOME.cleanup();
});

describe('framecraft probe', () => {
  test('prints a table', () => {
    const r = run('probe', clip);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('160x96, 30 fps');
    expect(r.stdout).toMatch(/#1\s+audio\s+aac/);
  });

  test('--json prints the probe result', () => {
    const r = run('probe', clip, '--json', '--keyframes');
    expect(r.status).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.streams[0].frameCount).toBe(30);
    expect(info.streams[0].keyframes[0]).toBe(0);
  });
});

describe('framecraft transcode', () => {
  test('writes the output, prints plain progress lines when not a TTY', async () => {
    const out = join(dir, 'out.mp4');
    const r = run('transcode', clip, out, '--crf', '23', '--preset', 'ultrafast');
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/encode \d+\/30 frames, [\d.]+ fps, ETA/);
    expect(r.stdout).toContain('30 frames with libx264');
    const info = await probe(out);
    expect(info.streams.map((s) => s.type)).toEqual(['video', 'audio']);
  });

  test('--json emits progress and done events', () => {
    const out = join(dir, 'out-json.mp4');
    const r = run('transcode', clip, out, '--json', '--preset', 'ultrafast');
    expect(r.status).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.some((e) => e.event === 'progress' && e.stage === 'encode')).toBe(true);
    const done = events.at(-1);
    expect(done.event).toBe('done');
    expect(done.frames).toBe(30);
    expect(done.encoder).toBe('libx264');
  });

  test('never replaces an existing file or the input without --overwrite', async () => {
    const out = join(dir, 'mine.mp4');
    await writeFile(out, 'precious');
    const r = run('transcode', clip, out);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('ERR_OUTPUT_EXISTS');
    expect(readFileSync(out, 'utf8')).toBe('precious');
    expect(run('transcode', clip, clip, '--overwrite').stderr).toContain('ERR_SAME_FILE');
    expect(run('transcode', clip, out, '--overwrite', '--preset', 'ultrafast').status).toBe(0);
    expect(readFileSync(out).subarray(4, 8).toString()).toBe('ftyp');
  });

  test('rejects a missing output folder and a bad --crf', () => {
    const r = run('transcode', clip, join(dir, 'no/such/dir/out.mp4'));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('ERR_OUTPUT_DIR');
    const bad = run('transcode', clip, join(dir, 'x.mp4'), '--crf', 'high');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('expected an integer');
  });
});

describe('interrupting a transcode', () => {
  test('Ctrl-C stops it with exit 130 and leaves nothing at the output path', async () => {
    const long = join(dir, 'long.mp4');
    await writeTestClip(long, { width: 640, height: 360, frames: 600, audio: false });
    const out = join(dir, 'interrupted.mp4');
    const child = Bun.spawn([process.execPath, BIN, 'transcode', long, out, '--preset', 'veryslow'], {
      stderr: 'pipe',
      stdout: 'pipe',
    });
    const reader = child.stderr.getReader();
    let seen = '';
    while (!seen.includes('encode')) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
    }
    child.kill('SIGINT');
    const code = await child.exited;
    let rest = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(code).toBe(130);
    expect(rest).toContain('ERR_CANCELED');
    expect(existsSync(out)).toBe(false);
    expect((await readdir(dir)).filter((f) => f.includes('.partial-'))).toEqual([]);
  }, 60_000);
});

describe('bad inputs through the CLI', () => {
  test('each gets its own one-line error naming the file, a non-zero exit and no output', async () => {
    const files: [string, string][] = [];
    const add = (name: string, code: string): string => {
      const p = join(dir, name);
      files.push([p, code]);
      return p;
    };
    add('missing.mp4', 'ERR_FILE_NOT_FOUND');
    await writeFile(add('empty.mp4', 'ERR_EMPTY_FILE'), '');
    await writeFile(add('notes.mp4', 'ERR_NOT_MEDIA'), 'not a video\n'.repeat(100));
    const cut = add('cut.mp4', 'ERR_TRUNCATED_MEDIA');
    await writeTestClip(cut, { width: 160, height: 96, frames: 60, audio: false });
    await truncate(cut, Math.floor(readFileSync(cut).length / 2));
    await writeWav(add('voice.wav', 'ERR_NO_VIDEO_STREAM'));
    await writeUndecodableVideo(add('evc.mp4', 'ERR_UNSUPPORTED_CODEC'));
    for (const [file, code] of files) {
      const out = join(dir, `bad-out-${code}.mp4`);
      const r = run('transcode', file, out);
      expect(r.status).not.toBe(0);
      // Progress lines may precede it; the error itself is one line, and the last.
      const lines = r.stderr.trim().split('\n');
      expect(lines.filter((l) => l.startsWith('error'))).toHaveLength(1);
      expect(lines.at(-1)).toContain(code);
      expect(lines.at(-1)).toContain(file);
      expect(existsSync(out)).toBe(false);
    }
    expect((await readdir(dir)).filter((f) => f.includes('.partial-'))).toEqual([]);
  });
});

describe('framecraft render', () => {
  const render = (...args: string[]) =>
    run('render', ...args, '--encoder-preset', 'ultrafast', '--chunk-duration', '0.5');

  test('renders in chunks with progress and a done event, carrying the audio', async () => {
    const out = join(dir, 'pencil.mp4');
    const r = render(clip, out, '--style', 'pencil', '--json', '--workers', '2');
    expect(r.status).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.some((e) => e.event === 'progress' && e.stage === 'render')).toBe(true);
    expect(events.at(-1)).toMatchObject({ event: 'done', frames: 30, chunks: 2, rendered: 2, reused: 0 });
    const info = await probe(out);
    expect(info.streams.map((s) => s.type)).toEqual(['video', 'audio']);
    // Plain mode on a pipe: progress lines on stderr, one summary line on stdout.
    const plain = render(
      clip,
      join(dir, 'comic.mp4'),
      '--style',
      'comic',
      '--option',
      'dotSize=6',
      '--metrics',
    );
    expect(plain.status).toBe(0);
    expect(plain.stderr).toMatch(/render \d+\/30 frames/);
    expect(plain.stdout).toMatch(
      /Wrote .*comic\.mp4: 30 frames in 2 chunk\(s\).*metrics in .*comic\.metrics\.jsonl/,
    );
  }, 60_000);

  test("--temporal picks the mode (the style's by default); --no-temporal is --temporal off", async () => {
    const modeOf = (name: string, ...flags: string[]) => {
      const r = render(
        clip,
        join(dir, `${name}.mp4`),
        '--style',
        'cartoon',
        '--crf',
        '0',
        '--json',
        ...flags,
      );
      expect(r.status).toBe(0);
      return lastEvent(r).temporal;
    };
    expect(modeOf('t-default')).toBe('ema');
    expect(modeOf('t-flow', '--temporal', 'flow')).toBe('flow');
    expect(modeOf('t-off', '--temporal', 'off')).toBe('off');
    expect(modeOf('t-none', '--no-temporal')).toBe('off');
    const frames = (name: string) => decodeAll(join(dir, `${name}.mp4`));
    const off = await frames('t-off');
    expect((await frames('t-none')).every((f, i) => samePixels(f, off[i]!))).toBe(true);
    expect((await frames('t-flow')).some((f, i) => psnr(f, off[i]!) < 60)).toBe(true);
    const bad = render(clip, join(dir, 't-bad.mp4'), '--temporal', 'smooth');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('flow, ema, off');
    expect(existsSync(join(dir, 't-bad.mp4'))).toBe(false);
  }, 60_000);

  test('a changed job is refused until --restart; an existing output needs --overwrite', async () => {
    const out = join(dir, 'changed.mp4');
    // An unfinished render of this output with other settings (one chunk of two done).
    await renderJob(
      { input: clip, output: out, style: 'pencil', codec: 'libx264', chunkDuration: 0.5 },
      { chunks: [0] },
    );
    const changed = render(clip, out, '--style', 'pencil', '--crf', '30');
    expect(changed.status).toBe(1);
    expect(changed.stderr).toContain('ERR_JOB_CHANGED');
    expect(changed.stderr).toContain('--restart');
    expect(existsSync(out)).toBe(false);
    expect(render(clip, out, '--style', 'pencil', '--crf', '30', '--restart').status).toBe(0);
    const exists = render(clip, out, '--style', 'pencil', '--crf', '30');
    expect(exists.status).toBe(1);
    expect(exists.stderr).toContain('ERR_OUTPUT_EXISTS');
    expect(render(clip, out, '--style', 'pencil', '--overwrite').status).toBe(0);
  }, 60_000);

  test('bad styles, options, presets and inputs: one-line errors, exit 1, nothing at the output path', async () => {
    const cases: [string[], string][] = [
      [[clip, join(dir, 'r1.mp4'), '--style', 'watercolour'], 'ERR_JOB_CONFIG'],
      [[clip, join(dir, 'r2.mp4'), '--style', 'pencil', '--option', 'sigma=-3'], 'styleOptions.sigma'],
      [[clip, join(dir, 'r3.mp4'), '--style', 'pencil', '--option', 'sigma'], 'ERR_USAGE'],
      [[clip, join(dir, 'r4.mp4'), '--style', 'pencil', '--preset', 'turbo'], 'ERR_PRESET_NOT_FOUND'],
      [[clip, join(dir, 'r8.mp4')], 'render needs --style'],
      [[join(dir, 'nope.mp4'), join(dir, 'r5.mp4'), '--style', 'pencil'], 'ERR_FILE_NOT_FOUND'],
      [[clip, join(dir, 'no-such-dir', 'r6.mp4'), '--style', 'pencil'], 'ERR_OUTPUT_DIR'],
      [[clip, clip, '--style', 'pencil'], 'ERR_SAME_FILE'],
    ];
    const notes = join(dir, 'notes.mp4');
    await writeFile(notes, 'not a video\n'.repeat(100));
    cases.push([[notes, join(dir, 'r7.mp4'), '--style', 'pencil'], 'ERR_NOT_MEDIA']);
    for (const [args, expected] of cases) {
      const r = render(...args);
      expect(r.status).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines.at(-1)).toStartWith('error [');
      expect(lines.at(-1)).toContain(expected);
      expect(existsSync(args[1]!) && args[1] !== clip).toBe(false);
    }
  }, 60_000);
});

/** A 1 MiB tmpfs for the full-disk test, or why there is none (mounting needs root on Linux). */
const fullDisk = await (async (): Promise<{ path: string } | { skip: string }> => {
  if (process.getuid?.() !== 0) return { skip: 'mounting a tmpfs needs root' };
  const path = join(HOME.dir, 'full-disk');
  await mkdir(path);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', path]);
  if (mounted.status !== 0) return { skip: `mount -t tmpfs failed (${mounted.stderr.toString().trim()})` };
  return { path };
})();
if ('skip' in fullDisk) console.warn(`cli full-disk test skipped: ${fullDisk.skip}`);

describe('a full disk through the CLI', () => {
  test.skipIf('skip' in fullDisk)(
    'render into a full folder: ERR_DISK_FULL naming it, exit 1, nothing written (needs root to mount a tmpfs)',
    async () => {
      if (!('path' in fullDisk)) throw new Error('unreachable: the test is skipped without a tmpfs');
      const disk = fullDisk.path;
      await writeFile(join(disk, 'filler'), Buffer.alloc(1024 * 1024 - 16 * 1024));
      const out = join(disk, 'out.mp4');
      const r = run('render', clip, out, '--style', 'pencil', '--encoder-preset', 'ultrafast');
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split('\n').at(-1)).toMatch(
        new RegExp(`^error \\[ERR_DISK_FULL\\]: Not enough disk space in ${disk}: about \\d+ MiB needed`),
      );
      expect(existsSync(out)).toBe(false);
    },
  );
});

describe('framecraft preview and benchmark', () => {
  test('preview writes frames beside their originals and a short low-resolution clip', async () => {
    const out = join(dir, 'preview');
    const r = run(
      'preview',
      clip,
      '--style',
      'cartoon',
      '--at',
      '00:00.5',
      '--frames',
      '3',
      '--seconds',
      '0.4',
      '--out',
      out,
      '--json',
    );
    expect(r.status).toBe(0);
    const done = JSON.parse(r.stdout.trim());
    expect(done.frames).toHaveLength(3);
    for (const png of done.frames) {
      const meta = await sharp(png).metadata();
      // Original and stylized side by side.
      expect([meta.width, meta.height]).toEqual([320, 96]);
    }
    expect(done.clipFrames).toBe(12);
    const info = await probe(done.clip);
    expect(info.streams[0]).toMatchObject({ type: 'video', width: 160, height: 96 });
    const late = run('preview', clip, '--style', 'pencil', '--at', '5', '--out', out);
    expect(late.status).toBe(1);
    expect(late.stderr).toContain('is only 1.00 s long');
    expect(run('preview', clip, '--style', 'pencil', '--at', 'noon').stderr).toContain('ERR_USAGE');
  }, 60_000);

  test('benchmark measures decode, stylize and encode separately, and peak memory', () => {
    const r = run(
      'benchmark',
      clip,
      '--style',
      'comic',
      '--frames',
      '20',
      '--encoder-preset',
      'ultrafast',
      '--json',
    );
    expect(r.status).toBe(0);
    const done = JSON.parse(r.stdout.trim());
    for (const stage of ['decode', 'stylize', 'encode']) {
      expect(done[stage].frames).toBe(20);
      expect(done[stage].fps).toBeGreaterThan(0);
    }
    expect(done.encoder).toBe('libx264');
    expect(done.serialFps).toBeLessThan(Math.min(done.decode.fps, done.stylize.fps, done.encode.fps));
    expect(done.peakRssMiB).toBeGreaterThan(10);
  }, 60_000);
});

describe('framecraft autotune', () => {
  test('ranks a grid by the objective under a constraint and saves the best as a preset', () => {
    const r = run(
      'autotune',
      clip,
      '--style',
      'pencil',
      '--param',
      'sigma=4,30',
      '--param',
      'contrast=1,2',
      '--option',
      'paper=none',
      '--samples',
      '2',
      '--objective',
      'edge_coherence:max',
      '--constraint',
      'ssim>=0',
      '--constraint',
      'warping_error<=1',
      '--save',
      'tuned',
      '--json',
    );
    expect(r.status).toBe(0);
    const done = JSON.parse(r.stdout.trim());
    expect(done.trials).toHaveLength(4);
    expect(done.best.options).toEqual(done.trials[0].options);
    for (const t of done.trials) expect(t.scores.warping_error).toBeGreaterThanOrEqual(0);
    const show = run('presets', 'show', 'tuned', '--json');
    expect(JSON.parse(show.stdout)).toMatchObject({
      style: 'pencil',
      style_options: { paper: 'none', ...done.best.options },
    });
    expect(run('presets', 'delete', 'tuned').status).toBe(0);
    for (const [args, message] of [
      [['--param', 'sigma'], 'expected name=v1,v2'],
      [['--param', 'sigma=4', '--objective', 'beauty:max'], 'unknown metric "beauty"'],
      [['--param', 'sigma=4', '--constraint', 'ssim~1'], 'expected metric<=number'],
      [[], 'at least one --param'],
    ] as const) {
      const bad = run('autotune', clip, '--style', 'pencil', ...args);
      expect(bad.status).toBe(1);
      expect(bad.stderr).toContain(message);
    }
  }, 60_000);
});

describe('framecraft models and the neural style', () => {
  test('add, list, render with a registered model by name, verify, remove', async () => {
    const file = join(dir, 'wash.onnx');
    await writeFile(file, affineModel(0.5, 60));
    const added = run('models', 'add', file, '--description', 'washes out', '--json');
    expect(added.status).toBe(0);
    expect(JSON.parse(added.stdout).model).toMatchObject({ name: 'wash', version: 'v1' });
    const list = JSON.parse(run('models', 'list', '--json').stdout);
    expect(list.models.map((m: { name: string; version: string }) => `${m.name}@${m.version}`)).toEqual([
      'wash@v1',
      'mosaic@v1',
    ]);
    const r = run(
      'render',
      clip,
      join(dir, 'neural.mp4'),
      '--style',
      'neural',
      '--model',
      'wash',
      '--encoder-preset',
      'ultrafast',
      '--json',
    );
    expect(r.status).toBe(0);
    expect(lastEvent(r)).toMatchObject({
      event: 'done',
      style: 'neural',
      frames: 30,
    });
    // Where CUDA cannot run, ONNX Runtime is not asked: no errors of its own on the terminal,
    // one line in the log (and with --verbose) saying where the style runs and why.
    expect(r.stderr).not.toMatch(/onnxruntime|provider_bridge|ONNXRuntimeError/);
    const verbose = run(
      'render',
      clip,
      join(dir, 'neural-v.mp4'),
      '--style',
      'neural',
      '--model',
      'wash',
      '--verbose',
    );
    expect(verbose.status).toBe(0);
    expect(verbose.stderr).not.toMatch(/provider_bridge|ONNXRuntimeError/);
    expect(verbose.stderr).toMatch(
      / INFO neural: running on (GPU \(CUDA loaded\)|CPU \(no CUDA: .+\)) style=neural/,
    );
    expect(run('models', 'verify').stdout).toContain('ok   wash@v1');
    const pv = run(
      'preview',
      clip,
      '--style',
      'neural',
      '--model',
      'wash@v1',
      '--frames',
      '1',
      '--seconds',
      '0.2',
      '--out',
      join(dir, 'pv-neural'),
      '--json',
    );
    expect(pv.status).toBe(0);
    expect(JSON.parse(pv.stdout.trim()).frames).toHaveLength(1);
    const bm = run('benchmark', clip, '--style', 'neural', '--model', 'wash', '--frames', '5', '--json');
    expect(JSON.parse(bm.stdout.trim()).stylize.frames).toBe(5);
    // An unknown model: a warning and the fallback style, or with --no-fallback a clear error.
    const unknown = run(
      'render',
      clip,
      join(dir, 'neural-x.mp4'),
      '--style',
      'neural',
      '--model',
      'nope',
      '--encoder-preset',
      'ultrafast',
    );
    expect(unknown.status).toBe(0);
    expect(unknown.stderr).toContain('No model "nope"');
    expect(unknown.stderr).toContain('rendering with the cartoon style instead');
    const strict = run(
      'render',
      clip,
      join(dir, 'neural-y.mp4'),
      '--style',
      'neural',
      '--model',
      'nope',
      '--no-fallback',
    );
    expect(strict.status).toBe(1);
    expect(strict.stderr).toContain('ERR_MODEL_NOT_FOUND');
    expect(strict.stderr).toContain('Installed: wash@v1, mosaic@v1');
    expect(existsSync(join(dir, 'neural-y.mp4'))).toBe(false);
    expect(run('models', 'remove', 'wash').status).toBe(0);
    expect(
      JSON.parse(run('models', 'list', '--json').stdout).models.map((m: { name: string }) => m.name),
    ).toEqual(['mosaic']);
  }, 60_000);

  test('--style neural with nothing installed renders with the built-in mosaic; a model of your own named mosaic wins', async () => {
    const list = run('models', 'list');
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(
      /^ {2}mosaic@v1 {2}6\.4 MiB .*\(built-in: @framecraft\/model-mosaic, BSD-3-Clause\)$/m,
    );
    const out = join(dir, 'mosaic.mp4');
    const r = run('render', clip, out, '--style', 'neural', '--encoder-preset', 'ultrafast', '--no-fallback');
    expect(r.status).toBe(0);
    expect(r.stderr).not.toContain('rendering with the cartoon style instead');
    const [source] = await decodeAll(clip, 'rgb24');
    const [styled] = await decodeAll(out, 'rgb24');
    // Mosaic redraws the picture: far from the input.
    expect(psnr(styled!, source!)).toBeLessThan(20);
    // The user's own "mosaic" (here: halve and lift every value) takes the name over.
    const own = join(dir, 'my-mosaic.onnx');
    await writeFile(own, affineModel(0.5, 60));
    expect(run('models', 'add', own, '--name', 'mosaic').status).toBe(0);
    expect(run('models', 'list').stdout).toContain('(not the default: name it mosaic@v1)');
    const mine = join(dir, 'my-mosaic.mp4');
    expect(run('render', clip, mine, '--style', 'neural', '--encoder-preset', 'ultrafast').status).toBe(0);
    const [washed] = await decodeAll(mine, 'rgb24');
    const a = source!.planes[0]!.data;
    const b = washed!.planes[0]!.data;
    let err = 0;
    for (let i = 0; i < a.length; i++) err += Math.abs(b[i]! - (0.5 * a[i]! + 60));
    expect(err / a.length).toBeLessThan(6);
    expect(run('models', 'remove', 'mosaic').status).toBe(0);
  }, 60_000);

  test('models quantize: an int8 mosaic@v2 beside the built-in v1, used by --model mosaic, v1 still nameable', async () => {
    const q = run(
      'models',
      'quantize',
      'mosaic',
      '--calibrate',
      clip,
      '--frames',
      '4',
      '--promote',
      'always',
      '--json',
    );
    expect(q.status).toBe(0);
    const answer = JSON.parse(q.stdout);
    expect(answer).toMatchObject({
      event: 'quantized',
      promoted: true,
      manifest: { name: 'mosaic', version: 'v2' },
    });
    expect(answer.manifest.quantized.from).toBe('v1');
    const list = run('models', 'list').stdout;
    expect(list).toMatch(/^\* mosaic@v2 .*\(int8 from v1: SSIM 0\.9\d+, PSNR \d+\.\d dB, \d+\.\d\dx\)$/m);
    expect(list).toContain('mosaic@v1');
    const int8 = join(dir, 'int8.mp4');
    const float = join(dir, 'float.mp4');
    const style = ['--style', 'neural', '--encoder-preset', 'ultrafast', '--crf', '0', '--no-temporal'];
    expect(run('render', clip, int8, ...style).status).toBe(0);
    expect(run('render', clip, float, ...style, '--model', 'mosaic@v1').status).toBe(0);
    const [a] = await decodeAll(int8, 'rgb24');
    const [b] = await decodeAll(float, 'rgb24');
    // Close to the float model's picture, and not the same file: v2 really ran.
    expect(psnr(a!, b!)).toBeGreaterThan(28);
    expect(psnr(a!, b!)).toBeLessThan(Infinity);
    expect(run('models', 'remove', 'mosaic').status).toBe(0);
    expect(run('models', 'list').stdout).toMatch(/^ {2}mosaic@v1 /m);
  }, 120_000);
});

describe('framecraft models download', () => {
  test('by catalog name or URL from a local server, with the sha256 checked; a name not in the catalog is explained', async () => {
    const bytes = Buffer.from(affineModel(0.5, 60));
    const sha = createHash('sha256').update(bytes).digest('hex');
    const server = createServer((req, res) => {
      if (req.url === '/wash.onnx') res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/wash.onnx`;
    // The server must keep answering while the CLI runs: spawn without blocking the event loop.
    const runAsync = (...args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const p = spawn(process.execPath, [BIN, ...args]);
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (d) => (stdout += d));
        p.stderr.on('data', (d) => (stderr += d));
        p.on('close', (status) => resolve({ status, stdout, stderr }));
      });
    try {
      await mkdir(join(HOME.dir, 'models'), { recursive: true });
      await writeFile(
        join(HOME.dir, 'models', 'catalog.json'),
        JSON.stringify({ washed: { url, sha256: sha, description: 'from the catalog' } }),
      );
      const byName = await runAsync('models', 'download', 'washed', '--json');
      expect(byName.status).toBe(0);
      expect(JSON.parse(byName.stdout).model).toMatchObject({
        name: 'washed',
        version: 'v1',
        sha256: sha,
        description: 'from the catalog',
        source: url,
      });
      const byUrl = await runAsync('models', 'download', url, '--name', 'direct', '--sha256', sha, '--json');
      expect(JSON.parse(byUrl.stdout).model).toMatchObject({ name: 'direct', version: 'v1' });
      const bad = await runAsync('models', 'download', url, '--name', 'bad', '--sha256', '0'.repeat(64));
      expect(bad.status).toBe(1);
      expect(bad.stderr).toContain('ERR_MODEL_CHECKSUM');
      const unknown = await runAsync('models', 'download', 'candy');
      expect(unknown.status).toBe(1);
      expect(unknown.stderr).toContain('has no entry "candy" with url and sha256 (entries: washed)');
      for (const name of ['washed', 'direct']) expect(run('models', 'remove', name).status).toBe(0);
    } finally {
      server.close();
    }
  }, 60_000);
});

describe('framecraft presets', () => {
  test('save, list, show, render with a user preset, delete; a broken file is named with its line', async () => {
    const saved = run(
      'presets',
      'save',
      'inky',
      '--from',
      'speed',
      '--crf',
      '30',
      '--style',
      'comic',
      '--option',
      'dotSize=5',
      '--description',
      'Big dots',
    );
    expect(saved.status).toBe(0);
    expect(saved.stdout).toContain(join(HOME.dir, 'presets', 'inky.yaml'));
    const list = run('presets', 'list', '--json');
    expect(JSON.parse(list.stdout).presets.map((p: { name: string }) => p.name)).toEqual([
      'speed',
      'balanced',
      'quality',
      'inky',
    ]);
    const show = run('presets', 'show', 'inky');
    expect(show.stdout).toContain('crf: 30');
    expect(show.stdout).toContain('style: comic');
    expect(show.stdout).toContain('dotSize: 5');
    // The preset supplies the style and its options.
    const r = run(
      'render',
      clip,
      join(dir, 'inky.mp4'),
      '--preset',
      'inky',
      '--encoder-preset',
      'ultrafast',
      '--json',
    );
    expect(r.status).toBe(0);
    expect(lastEvent(r)).toMatchObject({
      event: 'done',
      style: 'comic',
      frames: 30,
    });
    await writeFile(join(HOME.dir, 'presets', 'broken.yaml'), 'description: oops\ncrf: high\n');
    const broken = run('render', clip, join(dir, 'broken.mp4'), '--preset', 'broken', '--style', 'pencil');
    expect(broken.status).toBe(1);
    expect(broken.stderr.trim()).toBe(
      `error [ERR_PRESET]: ${join(HOME.dir, 'presets', 'broken.yaml')}:2:6: crf: Invalid type: Expected number but received "high"`,
    );
    expect(run('presets', 'delete', 'inky').status).toBe(0);
    const gone = run('presets', 'show', 'inky');
    expect(gone.status).toBe(1);
    expect(gone.stderr).toContain('ERR_PRESET_NOT_FOUND');
    expect(run('presets', 'delete', 'speed').stderr).toContain('cannot be deleted');
  }, 60_000);
});

describe('help and demo', () => {
  test('--help works everywhere and exits 0', () => {
    for (const args of [
      ['--help'],
      ['probe', '--help'],
      ['transcode', '--help'],
      ['render', '--help'],
      ['demo', '--help'],
    ]) {
      const r = run(...args);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('Usage: framecraft');
    }
    const unknown = run('frobnicate');
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
  });

  test('demo renders the shipped real clip in every style, neural on an excerpt at half size, and a contact sheet', async () => {
    // Plain output here (the pack check runs the built CLI's demo with --json under Node).
    const out = join(dir, 'demo');
    const r = run('demo', '--out', out);
    expect(r.status).toBe(0);
    const styles = ['cartoon', 'cinematic', 'color-pencil', 'comic', 'neural', 'pencil'];
    for (const style of styles) {
      const output = join(out, `flower-${style}.mp4`);
      expect(r.stdout).toContain(`-> ${output}`);
      // 5 s at 29.97 fps; neural 2.5 s of it at half size.
      expect(r.stdout).toContain(`${style === 'neural' ? 75 : 150} frames in`);
      const info = await probe(output, { keyframes: true });
      expect(info.streams.map((s) => s.type)).toEqual(['video', 'audio']);
      const v = info.streams[0];
      expect(v?.type === 'video' && [v.width, v.height, v.frameCount]).toEqual(
        style === 'neural' ? [480, 270, 75] : [960, 540, 150],
      );
    }
    // Two rows (1.5 s and 3 s) of the original and six styles, 320 pixels a tile.
    const sheet = await sharp(join(out, 'contact-sheet.png')).metadata();
    expect([sheet.format, sheet.width, sheet.height]).toEqual(['png', 7 * 320, 2 * 180]);
    expect(existsSync(join(out, '.work'))).toBe(false);
    // Where everything is, and what to try next.
    expect(r.stdout).toContain(`contact sheet\n${join(out, 'contact-sheet.png')}`);
    expect(r.stdout.split('Next, try:\n')[1]?.trim().split('\n')).toHaveLength(3);
  }, 240_000);
});

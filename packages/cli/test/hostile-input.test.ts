// Hostile inputs through the CLI, one case each: odd and tiny frames, outputs that are not
// regular files or of a container we do not write, misspelt options, a YAML alias bomb, inputs
// without a decodable frame, a rotated clip's preview, and signals during the stitch and preview.
import { beforeAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { probe } from '@framecraft/io';
import { writeTestClip } from '@framecraft/io/testing';
import { writeUndecodableVideo } from '@framecraft/test-utils';
import sharp from 'sharp';
import { type CliRun, runCli, runUntil, testFolders } from './harness.ts';

const { home, dir } = await testFolders();

const run = (...args: string[]): CliRun => runCli(args);

/** The one error line a failed command ends with; no JavaScript placeholders in it. */
function errorLine(r: { stderr: string }): string {
  const line = r.stderr.trim().split('\n').at(-1) ?? '';
  expect(line).not.toMatch(/undefined|NaN|\[object /);
  return line;
}

let clip = '';
beforeAll(async () => {
  clip = join(dir, 'clip.mp4');
  await writeTestClip(clip, { width: 160, height: 96, frames: 12 });
});

describe('odd and tiny frame sizes', () => {
  test('render, preview and transcode pad odd sizes to the even size 4:2:0 needs and say so', async () => {
    // FFV1 in 4:4:4 and VP9 keep odd sizes, so these inputs really are odd.
    const sizes: [number, number, string][] = [
      [1, 1, 'ffv1'],
      [3, 3, 'ffv1'],
      [17, 1, 'ffv1'],
      [321, 179, 'libvpx-vp9'],
    ];
    for (const [w, h, codec] of sizes) {
      const src = join(dir, `odd-${w}x${h}.mkv`);
      await writeTestClip(src, {
        width: w,
        height: h,
        frames: 6,
        codec,
        ...(codec === 'ffv1' && { pixelFormat: 'yuv444p' as const }),
      });
      const ew = w + (w % 2);
      const eh = h + (h % 2);
      for (const style of ['pencil', 'cartoon']) {
        const out = join(dir, `odd-${w}x${h}-${style}.mp4`);
        const r = run('render', src, out, '--style', style, '--encoder-preset', 'ultrafast');
        expect(r.status).toBe(0);
        expect(r.stderr).toContain(`is ${w}x${h}; the output is ${ew}x${eh}`);
        const v = (await probe(out)).streams[0];
        expect(v?.type === 'video' && [v.width, v.height]).toEqual([ew, eh]);
      }
      const pv = run(
        'preview',
        src,
        '--style',
        'pencil',
        '--frames',
        '1',
        '--seconds',
        '0.1',
        '--out',
        join(dir, `pv-${w}`),
      );
      expect(pv.status).toBe(0);
      const tr = run('transcode', src, join(dir, `tr-${w}x${h}.mp4`), '--preset', 'ultrafast', '--json');
      expect(tr.status).toBe(0);
      expect(JSON.parse(tr.stdout.trim().split('\n').at(-1)!).size).toEqual({
        width: ew,
        height: eh,
        padded: true,
      });
    }
  }, 180_000);

  test('frames too large for the encoder: one line naming the input and the size, nothing written', async () => {
    const src = join(dir, 'wide.mkv');
    await writeTestClip(src, { width: 16386, height: 2, frames: 2, codec: 'ffv1', audio: false });
    for (const cmd of ['render', 'transcode']) {
      const out = join(dir, `wide-${cmd}.mp4`);
      const r = run(cmd, src, out, ...(cmd === 'render' ? ['--style', 'identity'] : []));
      expect(r.status).toBe(1);
      expect(errorLine(r)).toBe(
        `error [ERR_FRAME_SIZE]: ${src}: frames of 16386x2 cannot be encoded: libx264 encodes at most 16384 pixels on a side.`,
      );
      expect(existsSync(out)).toBe(false);
    }
  }, 60_000);
});

describe('outputs', () => {
  test('containers we do not write are refused before any work, listing the ones we do', () => {
    for (const name of ['out.avi', 'out.gif', 'out.xyz', 'out']) {
      const out = join(dir, name);
      for (const args of [
        ['render', clip, out, '--style', 'pencil'],
        ['transcode', clip, out],
      ]) {
        const r = run(...args);
        expect(r.status).toBe(1);
        expect(errorLine(r)).toMatch(
          new RegExp(
            `^error \\[ERR_OUTPUT_FORMAT\\]: ${out}: (ends in \\.\\w+|has no extension); Framecraft writes \\.mp4, \\.m4v, \\.mov, \\.mkv, \\.webm outputs`,
          ),
        );
        expect(existsSync(out)).toBe(false);
      }
    }
  });

  test('WebM works: VP9 (or AV1) video, the AAC audio as Opus; an H.264 encoder for it is refused before any work', async () => {
    const out = join(dir, 'out.webm');
    const r = run('render', clip, out, '--style', 'cartoon', '--encoder-preset', 'ultrafast');
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('(aac audio) is encoded again as Opus');
    const info = await probe(out, { keyframes: true });
    expect(info.streams.map((s) => `${s.type}:${s.codec}`)).toEqual(['video:vp9', 'audio:opus']);
    expect(info.streams[0]?.type === 'video' && info.streams[0].frameCount).toBe(12);
    const h264 = join(dir, 'h264.webm');
    for (const args of [
      ['render', clip, h264, '--style', 'pencil', '--codec', 'libx264'],
      ['transcode', clip, h264, '--codec', 'libx264'],
    ]) {
      const bad = run(...args);
      expect(bad.status).toBe(1);
      expect(errorLine(bad)).toBe(
        `error [ERR_OUTPUT_CODEC]: ${h264}: WebM takes VP9 or AV1 video, not libx264: use --codec libvpx-vp9 or libsvtav1 or av1_nvenc (or leave --codec out), or an .mp4/.mkv output.`,
      );
      expect(existsSync(h264)).toBe(false);
    }
  }, 60_000);

  test('a named pipe (or, as root, a character device) at the output is never replaced, even with --overwrite', async () => {
    const fifo = join(dir, 'pipe.mp4');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const nodes = [fifo];
    if (process.getuid?.() === 0) {
      const device = join(dir, 'null.mp4');
      if (spawnSync('mknod', [device, 'c', '1', '3']).status === 0) nodes.push(device);
    }
    for (const node of nodes) {
      for (const cmd of ['render', 'transcode']) {
        const r = run(cmd, clip, node, '--overwrite', ...(cmd === 'render' ? ['--style', 'pencil'] : []));
        expect(r.status).toBe(1);
        expect(errorLine(r)).toMatch(
          /^error \[ERR_OUTPUT_NOT_FILE\]: .* is a (named pipe|character device), not a regular file/,
        );
        const st = statSync(node);
        expect(st.isFIFO() || st.isCharacterDevice()).toBe(true);
      }
    }
    expect((await readdir(dir)).filter((f) => f.includes('.partial-'))).toEqual([]);
  });
});

describe('options and presets', () => {
  test('a misspelt style option is refused with the style option names and a did-you-mean', () => {
    const cases: [string, string, string][] = [
      ['pencil', 'sigmaa=8', 'sigma'],
      ['cartoon', 'colours=4', 'colors'],
      ['cinematic', 'lutt=grade.cube', 'lut'],
    ];
    for (const [style, option, meant] of cases) {
      const out = join(dir, `typo-${style}.mp4`);
      const r = run('render', clip, out, '--style', style, '--option', option);
      expect(r.status).toBe(1);
      const key = option.split('=')[0];
      expect(errorLine(r)).toContain(
        `styleOptions.${key}: not an option of ${style}. Did you mean "${meant}"? Its options: `,
      );
      expect(existsSync(out)).toBe(false);
      const pv = run('preview', clip, '--style', style, '--option', option, '--out', join(dir, 'pv-typo'));
      expect(pv.status).toBe(1);
      expect(errorLine(pv)).toContain(`Did you mean "${meant}"?`);
    }
  });

  test('a YAML alias bomb as a preset is named with its file:line and refused', async () => {
    const presets = join(home, 'presets');
    await mkdir(presets, { recursive: true });
    const lines = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    let prev = 'a';
    for (const n of 'bcdefghi') {
      lines.push(`${n}: &${n} [${Array(9).fill(`*${prev}`).join(', ')}]`);
      prev = n;
    }
    const file = join(presets, 'bomb.yaml');
    await writeFile(file, `${lines.join('\n')}\ndescription: *i\n`);
    const r = run('render', clip, join(dir, 'bomb.mp4'), '--style', 'pencil', '--preset', 'bomb');
    expect(r.status).toBe(1);
    expect(errorLine(r)).toMatch(
      new RegExp(`^error \\[ERR_PRESET\\]: ${file}:2:\\d+: not a usable preset: Excessive alias count`),
    );
  });
});

describe('inputs without pictures', () => {
  test('no decodable frame: render, preview and transcode say so, naming the file', async () => {
    const garbage = join(dir, 'garbage.mp4');
    await writeUndecodableVideo(garbage, 'h264');
    const workFolders = async (): Promise<string[]> => readdir(join(home, 'work')).catch(() => []);
    const before = await workFolders();
    for (const args of [
      ['render', garbage, join(dir, 'g1.mp4'), '--style', 'pencil'],
      ['preview', garbage, '--style', 'pencil', '--out', join(dir, 'pv-g')],
      ['transcode', garbage, join(dir, 'g2.mp4')],
    ]) {
      const r = run(...args);
      expect(r.status).toBe(1);
      expect(errorLine(r)).toBe(
        `error [ERR_NO_FRAMES]: ${garbage}: none of its video frames decode (the video stream is empty or corrupt); nothing to stylize.`,
      );
    }
    expect(existsSync(join(dir, 'g1.mp4')) || existsSync(join(dir, 'g2.mp4'))).toBe(false);
    // Nothing half-made: no work folder for the refused render.
    expect(await workFolders()).toEqual(before);
  });
});

describe('a rotated clip', () => {
  test('preview keeps the rotation in its clip and shows its frames upright', async () => {
    const src = join(dir, 'portrait.mp4');
    await writeTestClip(src, { width: 160, height: 96, frames: 10, rotation: 90 });
    const out = join(dir, 'pv-rot');
    const r = run('preview', src, '--style', 'cartoon', '--frames', '1', '--out', out);
    expect(r.status).toBe(0);
    const v = (await probe(join(out, 'preview.mp4'))).streams[0];
    expect(v?.type === 'video' && v.rotation).toBe(90);
    // Two 96x160 tiles side by side, as players show the clip (turned counter-clockwise): the
    // colour bars along the bottom of the stored frame run down the right edge, yellow at the
    // bottom (just above the label), blue at the top.
    const png = sharp(readFileSync(join(out, 'frame-000.png')));
    const { width, height } = await png.metadata();
    expect([width, height]).toEqual([192, 160]);
    const { data, info } = await png.removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) =>
      Array.from(data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3));
    const [r1, g1, b1] = at(88, 134) as [number, number, number];
    expect(r1 > 180 && g1 > 180 && b1 < 90).toBe(true);
    const [r2, g2, b2] = at(88, 10) as [number, number, number];
    expect(r2 > 180 && g2 > 180 && b2 < 90).toBe(false);
  }, 60_000);
});

describe('signals', () => {
  const interrupt = (args: string[], marker: RegExp, signal: 'SIGINT' | 'SIGTERM') =>
    runUntil(args, (seen) => marker.test(seen), signal);

  test('Ctrl-C during the stitch: exit 130, what happened and that a rerun stitches; the rerun does', async () => {
    const long = join(dir, 'long.mp4');
    await writeTestClip(long, { width: 64, height: 48, frames: 6000 });
    const out = join(dir, 'long-out.mp4');
    const args = ['render', long, out, '--style', 'identity', '--chunk-duration', '20'];
    // The stitch of 6000 packets outlasts a signal's delivery by far; a machine that finishes it
    // first anyway gets another try.
    let got = await interrupt([...args, '--restart'], /: stitch /, 'SIGINT');
    for (let i = 0; i < 3 && got.status === 0; i++)
      got = await interrupt([...args, '--overwrite', '--restart'], /: stitch /, 'SIGINT');
    expect(got.status).toBe(130);
    expect(got.line).toBe(
      `error [ERR_CANCELED]: The render of ${out} stopped by Ctrl-C (SIGINT); all 10 chunk(s) are rendered and kept: run the same command again to stitch them (nothing was written at ${out})`,
    );
    expect(existsSync(out)).toBe(false);
    const again = run(...args);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('(10 reused from an earlier run)');
  }, 120_000);

  test('SIGTERM while rendering: exit 143, chunks done are kept; SIGTERM in preview: exit 143 and what was written', async () => {
    const long = join(dir, 'long-render.mp4');
    await writeTestClip(long, { width: 320, height: 180, frames: 600 });
    const out = join(dir, 'long-render-out.mp4');
    const r = await interrupt(
      ['render', long, out, '--style', 'cartoon', '--chunk-duration', '1', '--workers', '1'],
      / render [1-9]\d*\/600 frames/,
      'SIGTERM',
    );
    expect(r.status).toBe(143);
    expect(r.line).toMatch(
      new RegExp(
        `^error \\[ERR_CANCELED\\]: The render of ${out} stopped by SIGTERM; \\d+ of 20 chunk\\(s\\) are done and kept: run the same command again to continue`,
      ),
    );
    const pv = await interrupt(
      ['preview', long, '--style', 'cartoon', '--seconds', '20', '--out', join(dir, 'pv-term')],
      /preview: clip [1-9]/,
      'SIGTERM',
    );
    expect(pv.status).toBe(143);
    expect(pv.line).toMatch(
      /^error \[ERR_CANCELED\]: The preview of .* stopped by SIGTERM; 4 of 4 frame\(s\) were written in .*, no clip/,
    );
    expect(existsSync(join(dir, 'pv-term', 'preview.mp4'))).toBe(false);
  }, 120_000);
});

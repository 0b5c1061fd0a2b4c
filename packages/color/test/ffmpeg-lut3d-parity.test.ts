import { describe, expect, test } from 'bun:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { applyLut3d, bakeLut3d, writeCube } from '@framecraft/color';
import { createFrame, type Frame } from '@framecraft/core';
import { VideoFilter } from '@framecraft/io';
import { drawTestPattern } from '@framecraft/io/testing';
import { useTempDir } from '@framecraft/test-utils/harness';

// A deliberately non-linear grade: S-curve, warm shift and strong cross-talk between channels,
// so that trilinear and tetrahedral sampling give visibly different results on a coarse lattice.
const grade = (r: number, g: number, b: number): [number, number, number] => {
  const s = (v: number): number => v * v * (3 - 2 * v);
  return [
    Math.min(1, s(r) * 0.8 + 0.2 * g * b),
    s(g) * 0.7 + 0.3 * r * b,
    Math.max(0, s(b) * 0.8 + 0.2 * r * g - 0.02),
  ];
};

function noiseFrame(width: number, height: number): Frame {
  const f = createFrame({ width, height, format: 'rgb24' });
  const d = f.planes[0]!.data as Uint8Array;
  let s = 99;
  for (let i = 0; i < d.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    d[i] = s >>> 24;
  }
  return f;
}

describe("3D LUT output matches FFmpeg's lut3d", () => {
  const tmp = useTempDir();

  for (const size of [5, 17, 33]) {
    for (const interp of ['trilinear', 'tetrahedral'] as const) {
      test(`${interp}, ${size}³ lattice: within 1 code value on every pixel`, async () => {
        const lut = bakeLut3d(size, grade);
        const file = join(tmp.path, `grade-${size}.cube`);
        await writeFile(file, writeCube({ title: 'parity', lut3d: lut }));
        using ffmpeg = await VideoFilter.create(`lut3d=file=${file}:interp=${interp},format=rgb24`);
        for (const frame of [drawTestPattern(3, 320, 180), noiseFrame(256, 128)]) {
          const [theirs] = ffmpeg.process(frame);
          const ours = applyLut3d(frame, lut, { interpolation: interp });
          const a = ours.planes[0]!;
          const b = theirs!.planes[0]!;
          let worst = 0;
          let differing = 0;
          for (let y = 0; y < frame.height; y++) {
            for (let x = 0; x < frame.width * 3; x++) {
              const diff = Math.abs(a.data[y * a.stride + x]! - b.data[y * b.stride + x]!);
              if (diff > worst) worst = diff;
              if (diff > 0) differing++;
            }
          }
          expect(worst).toBeLessThanOrEqual(1);
          expect(differing).toBeLessThan(frame.width * frame.height * 3);
        }
        if (size === 5) {
          // The comparison can tell the schemes apart: the other scheme misses FFmpeg by more.
          const other = interp === 'trilinear' ? 'tetrahedral' : 'trilinear';
          const frame = noiseFrame(256, 128);
          const [theirs] = ffmpeg.process(frame);
          const wrong = applyLut3d(frame, lut, { interpolation: other }).planes[0]!.data;
          let worst = 0;
          for (let i = 0; i < wrong.length; i++)
            worst = Math.max(worst, Math.abs(wrong[i]! - theirs!.planes[0]!.data[i]!));
          expect(worst).toBeGreaterThan(1);
        }
      });
    }
  }
});

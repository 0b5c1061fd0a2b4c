import { describe, expect, test } from 'bun:test';
import { displayMatrixRotation } from './probe.ts';
import { displayMatrix } from './video-writer.ts';

describe('display matrix', () => {
  test('reads the matrix FFmpeg writes for the legacy rotate=90 tag as 90° clockwise', () => {
    // From `ffprobe -show_streams` of a file made with `ffmpeg -metadata:s:v rotate=90`.
    const m = [0, -65536, 0, 65536, 0, 0, 0, 0, 1073741824];
    const buf = Buffer.alloc(36);
    for (const [i, v] of m.entries()) buf.writeInt32LE(v, i * 4);
    expect(displayMatrixRotation(buf)).toBe(90);
  });

  test('round-trips every right angle and reads no matrix as 0', () => {
    for (const deg of [0, 90, 180, 270]) expect(displayMatrixRotation(displayMatrix(deg))).toBe(deg);
    expect(displayMatrixRotation(null)).toBe(0);
  });
});

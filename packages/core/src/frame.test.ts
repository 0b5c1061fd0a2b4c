import { describe, expect, test } from 'bun:test';
import { FramecraftError } from './errors.ts';
import { cloneFrame, createFrame, padFrame, toSeconds, validateFrame } from './frame.ts';
import { planeGeometry } from './pixel-format.ts';

describe('createFrame', () => {
  test('allocates planes for 4:2:0 with odd sizes rounded up', () => {
    const f = createFrame({ width: 5, height: 3, format: 'yuv420p' });
    expect(f.planes.map((p) => p.data.length)).toEqual([15, 6, 6]);
    expect(f.planes.map((p) => p.stride)).toEqual([5, 3, 3]);
  });

  test('uses 16-bit samples for 10-bit formats and float32 for rgbf32', () => {
    expect(createFrame({ width: 4, height: 2, format: 'yuv420p10' }).planes[0]!.data).toBeInstanceOf(
      Uint16Array,
    );
    const f = createFrame({ width: 4, height: 2, format: 'rgbf32' });
    expect(f.planes).toHaveLength(3);
    expect(f.planes[2]!.data).toBeInstanceOf(Float32Array);
  });

  test('pads rows to the requested alignment', () => {
    const f = createFrame({ width: 10, height: 2, format: 'rgb24', align: 32 });
    expect(f.planes[0]!.stride).toBe(32);
  });

  test('rejects bad sizes with the one message format', () => {
    expect(() => createFrame({ width: 0, height: 2, format: 'gray8' })).toThrow(
      'Expected an integer in [1, 65536] for options.width but received 0',
    );
    expect(() => createFrame({ width: 1.5, height: 2, format: 'gray8' })).toThrow(TypeError);
    expect(() => createFrame({ width: 2, height: 2, format: 'nv12' as never })).toThrow(/for format/);
  });
});

describe('cloneFrame', () => {
  test('copies a strided view into tight rows', () => {
    const src = createFrame({ width: 3, height: 2, format: 'gray8', align: 8, pts: 7 });
    src.planes[0]!.data.set([1, 2, 3, 9, 9, 9, 9, 9, 4, 5, 6]);
    const copy = cloneFrame(src);
    expect(Array.from(copy.planes[0]!.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(copy.pts).toBe(7);
    src.planes[0]!.data[0] = 100;
    expect(copy.planes[0]!.data[0]).toBe(1);
  });

  test('reuses the planes of out and refuses a mismatched one', () => {
    const src = createFrame({ width: 2, height: 2, format: 'gray8', pts: 3 });
    src.planes[0]!.data.fill(5);
    const out = createFrame({ width: 2, height: 2, format: 'gray8' });
    const res = cloneFrame(src, out);
    expect(res.planes[0]!.data).toBe(out.planes[0]!.data);
    expect(res.pts).toBe(3);
    expect(Array.from(out.planes[0]!.data)).toEqual([5, 5, 5, 5]);
    expect(() => cloneFrame(src, createFrame({ width: 3, height: 2, format: 'gray8' }))).toThrow(RangeError);
  });
});

describe('padFrame', () => {
  test('repeats the last column and row, whole pixels in packed formats, every plane in planar ones', () => {
    const rgb = createFrame({ width: 2, height: 1, format: 'rgb24', pts: 4 });
    rgb.planes[0]!.data.set([1, 2, 3, 4, 5, 6]);
    const wide = padFrame(rgb, createFrame({ width: 3, height: 2, format: 'rgb24' }));
    expect(Array.from(wide.planes[0]!.data)).toEqual([1, 2, 3, 4, 5, 6, 4, 5, 6, 1, 2, 3, 4, 5, 6, 4, 5, 6]);
    expect(wide.pts).toBe(4);
    // 3x3 yuv420p: chroma planes are 2x2 both before and after padding to 4x4 (ceil of half).
    const yuv = createFrame({ width: 3, height: 3, format: 'yuv420p' });
    yuv.planes[0]!.data.set([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    yuv.planes[1]!.data.set([10, 11, 12, 13]);
    const even = padFrame(yuv, createFrame({ width: 4, height: 4, format: 'yuv420p' }));
    expect(Array.from(even.planes[0]!.data)).toEqual([1, 2, 3, 3, 4, 5, 6, 6, 7, 8, 9, 9, 7, 8, 9, 9]);
    expect(Array.from(even.planes[1]!.data)).toEqual([10, 11, 12, 13]);
    expect(() => padFrame(yuv, createFrame({ width: 2, height: 4, format: 'yuv420p' }))).toThrow(RangeError);
    expect(() => padFrame(yuv, createFrame({ width: 4, height: 4, format: 'gray8' }))).toThrow(RangeError);
  });
});

test('validateFrame catches a short plane', () => {
  const f = createFrame({ width: 4, height: 4, format: 'gray8' });
  expect(() => validateFrame(f)).not.toThrow();
  expect(() => validateFrame({ ...f, planes: [{ data: new Uint8Array(10), stride: 4 }] })).toThrow(
    /at least 16 samples for frame.planes\[0\].data/,
  );
});

test('planeGeometry and toSeconds', () => {
  expect(planeGeometry('yuv422p', 7, 3).map((g) => [g.width, g.height])).toEqual([
    [7, 3],
    [4, 3],
    [4, 3],
  ]);
  expect(toSeconds(3003, { num: 1, den: 30000 })).toBeCloseTo(0.1001, 6);
});

test('FramecraftError.is checks the code, not the class', () => {
  const foreign = Object.assign(new Error('x'), { code: 'ERR_FILE_NOT_FOUND' });
  expect(FramecraftError.is(foreign)).toBe(true);
  expect(FramecraftError.is(foreign, 'ERR_NOT_MEDIA')).toBe(false);
  expect(FramecraftError.is(new Error('plain'))).toBe(false);
  const e = new FramecraftError('ERR_X', 'boom', { cause: foreign });
  expect(e.cause).toBe(foreign);
  expect(e.code).toBe('ERR_X');
});

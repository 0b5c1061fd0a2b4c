import { createFrame } from '@framecraft/core';
import { VideoFilter } from '@framecraft/io';
import { describe, expect, test } from '@framecraft/test-utils/harness';

describe('VideoFilter: FFmpeg filter graphs in-process', () => {
  test('runs a graph and returns frames that own their memory, with timing kept', async () => {
    using f = await VideoFilter.create('negate,format=rgb24');
    const frame = createFrame({
      width: 8,
      height: 4,
      format: 'rgb24',
      pts: 42,
      timeBase: { num: 1, den: 25 },
    });
    (frame.planes[0]!.data as Uint8Array).fill(10);
    const [out] = f.process(frame);
    expect(out?.format).toBe('rgb24');
    expect(out?.pts).toBe(42);
    expect(out?.timeBase).toEqual({ num: 1, den: 25 });
    expect(Array.from(out!.planes[0]!.data.subarray(0, 3))).toEqual([245, 245, 245]);
    const [second] = f.process({ ...frame, pts: 43 });
    expect(second?.pts).toBe(43);
    expect(out!.planes[0]!.data[0]).toBe(245);
  });

  test('changes size and format as the graph says', async () => {
    using f = await VideoFilter.create('scale=4:2,format=gray');
    const [out] = f.process(createFrame({ width: 8, height: 4, format: 'yuv420p' }));
    expect([out?.width, out?.height, out?.format]).toEqual([4, 2, 'gray8']);
  });

  test('a graph ending in a format Framecraft cannot name is a clear error', async () => {
    using f = await VideoFilter.create('format=gbrp');
    expect(() => f.process(createFrame({ width: 8, height: 4, format: 'rgb24' }))).toThrow(
      /add format=rgb24/,
    );
  });
});

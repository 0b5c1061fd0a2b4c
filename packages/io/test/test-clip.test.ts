import { drawScenePattern, writeTestClip } from '@framecraft/io/testing';
import { decodeAll } from '@framecraft/test-utils';
import { describe, expect, test, useTempDir } from '@framecraft/test-utils/harness';

/** The RGB value at (x, y) of an rgb24 frame. */
function at(f: ReturnType<typeof drawScenePattern>, x: number, y: number): number[] {
  const p = f.planes[0]!;
  const i = y * p.stride + x * 3;
  return [p.data[i]!, p.data[i + 1]!, p.data[i + 2]!];
}

describe('scene test pattern', () => {
  const tmp = useTempDir();

  test('sky, grass, a red ball that rolls and a yellow box that stays, colours steady between frames', () => {
    const a = drawScenePattern(0, 160, 96);
    const b = drawScenePattern(40, 160, 96);
    const sky = at(a, 5, 5);
    expect(sky[2]!).toBeGreaterThan(sky[0]!);
    const grass = at(a, 150, 90);
    expect(grass[1]!).toBeGreaterThan(grass[0]! + 40);
    // The red ball starts at 20 % of the width on the horizon (y 52.8 + 3.8) and moves right.
    expect(at(a, 32, 57)[0]!).toBeGreaterThan(150);
    expect(at(b, 32, 57)[0]!).toBeLessThan(150);
    expect(at(b, 64, 57)[0]!).toBeGreaterThan(150);
    const box = at(a, 90, 60);
    expect(box[0]!).toBeGreaterThan(200);
    expect(box[2]!).toBeLessThan(60);
    // Away from moving things only the sensor noise (±2) changes.
    for (const [x, y] of [
      [5, 5],
      [150, 90],
      [90, 60],
    ] as const) {
      const d = at(a, x, y).map((v, i) => Math.abs(v - at(b, x, y)[i]!));
      expect(Math.max(...d)).toBeLessThanOrEqual(4);
    }
  });

  test('writeTestClip draws it with pattern: scene', async () => {
    const clip = await writeTestClip(`${tmp.path}/scene.mp4`, {
      width: 160,
      height: 96,
      frames: 4,
      audio: false,
      pattern: 'scene',
    });
    const frames = await decodeAll(clip.path);
    expect(frames.length).toBe(4);
    expect(at(clip.pictures[0]!, 32, 57)).toEqual(at(drawScenePattern(0, 160, 96), 32, 57));
  });
});

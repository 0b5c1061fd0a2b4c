import { describe, expect, test } from 'bun:test';
import { createFrame, FramecraftError } from '@framecraft/core';
import * as v from 'valibot';
import {
  createRandom,
  getStylizer,
  identity,
  listStylizers,
  parseStylizerOptions,
  registerStylizer,
  type Stylizer,
  validateStylizerOptions,
} from './index.ts';
import { testStylizer } from './testing.ts';

testStylizer(identity, { describe, test, expect });

describe('registry', () => {
  test('built-in styles are registered on import; unknown names list what exists', () => {
    expect(listStylizers()).toEqual(
      expect.arrayContaining(['identity', 'pencil', 'color-pencil', 'cinematic']),
    );
    expect(getStylizer('identity')).toBe(identity);
    try {
      getStylizer('watercolour');
      throw new Error('expected an error');
    } catch (err) {
      expect(FramecraftError.is(err, 'ERR_UNKNOWN_STYLE')).toBe(true);
      // (`neural` joins the list once a test has imported its subpath.)
      expect((err as Error).message).toMatch(
        /Available styles: cartoon, cinematic, color-pencil, comic, identity, (neural, )?pencil\./,
      );
    }
  });

  test('a second style with a taken name is refused', () => {
    const clash: Stylizer = { ...identity };
    expect(() => registerStylizer(clash)).toThrow(/style name not yet registered/);
    expect(() => registerStylizer(identity)).not.toThrow();
  });
});

describe('identity', () => {
  test('says passthrough, and its process still copies', async () => {
    const instance = await identity.create({}, { width: 16, height: 8, seed: 1 });
    expect(instance.passthrough).toBe(true);
    const frame = createFrame({ width: 16, height: 8, format: 'yuv420p' });
    frame.planes[0]!.data.fill(77);
    const out = await instance.process(frame);
    expect(out).not.toBe(frame);
    expect(out.planes[0]!.data[5]).toBe(77);
    instance.dispose();
  });
});

describe('options', () => {
  const schema = v.object({
    sigma: v.optional(v.pipe(v.number(), v.minValue(0.5), v.maxValue(50)), 10),
    paper: v.optional(v.picklist(['none', 'procedural']), 'procedural'),
  });
  const demo: Stylizer<typeof schema> = {
    ...identity,
    name: 'demo',
    options: schema,
    presets: { speed: { sigma: 4 }, balanced: {}, quality: { sigma: 12 } },
  } as Stylizer<typeof schema>;

  test('defaults fill in, presets apply under explicit options', () => {
    expect(parseStylizerOptions(demo)).toEqual({ sigma: 10, paper: 'procedural' });
    expect(parseStylizerOptions(demo, {}, 'speed')).toEqual({ sigma: 4, paper: 'procedural' });
    expect(parseStylizerOptions(demo, { sigma: 6 }, 'quality')).toEqual({ sigma: 6, paper: 'procedural' });
  });

  test('invalid options name the field and the problem', () => {
    expect(validateStylizerOptions(demo, { sigma: 0, paper: 'canvas' })).toEqual([
      'sigma: Invalid value: Expected >=0.5 but received 0',
      'paper: Invalid type: Expected ("none" | "procedural") but received "canvas"',
    ]);
    expect(() => parseStylizerOptions(demo, { sigma: 'big' })).toThrow(
      /Invalid options for style "demo": sigma:/,
    );
  });
});

test('seeded randomness is reproducible and forks independently', () => {
  const a = createRandom(42);
  const b = createRandom(42);
  const seqA = Array.from({ length: 5 }, () => a.next());
  expect(Array.from({ length: 5 }, () => b.next())).toEqual(seqA);
  expect(createRandom(43).next()).not.toBe(seqA[0]);
  expect(createRandom(42).fork(1).next()).not.toBe(createRandom(42).fork(2).next());
  expect(createRandom(42).fork(1).next()).toBe(createRandom(42).fork(1).next());
  const r = createRandom(1);
  let sum = 0;
  for (let i = 0; i < 10000; i++) {
    const x = r.next();
    if (x < 0 || x >= 1) throw new Error('out of range');
    sum += x;
  }
  expect(Math.abs(sum / 10000 - 0.5)).toBeLessThan(0.02);
});

import { afterAll, describe, expect, test } from 'bun:test';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '@framecraft/test-utils';
import { CONFIG_SCHEMA_FILE, configSchemaText } from '../scripts/config-schema.ts';
import { readScriptEvent, type TrainConfig } from './protocol.ts';
import { findTorch, runScript } from './python.ts';

const { dir, cleanup } = await tempDir();
afterAll(cleanup);
const python = await findTorch().then(
  (t) => t.python,
  () => null,
);

const config: TrainConfig = {
  mode: 'student',
  base: null,
  arch: null,
  dataset: join(dir, 'dataset'),
  out: join(dir, 'run'),
  steps: 10,
  batch: 4,
  crop: 64,
  lr: 1e-3,
  loss: 'mse',
  lrSchedule: 'constant',
  temporalWeight: 0,
  validateEvery: 5,
  patience: 3,
  minDelta: 0.002,
  checkpointEvery: 5,
  logEvery: 1,
  scaleJitter: [0.8, 1.2],
  flips: true,
  seed: 1,
  threads: 1,
  device: 'cpu',
  resume: false,
  pairs: [['a', 'shot-1']],
};

describe('training protocol', () => {
  test("the script's config schema is the one generated from TrainConfigSchema", async () => {
    // Out of date: run `bun packages/trainer/scripts/config-schema.ts`.
    expect(JSON.parse(await readFile(CONFIG_SCHEMA_FILE, 'utf8'))).toEqual(JSON.parse(configSchemaText()));
  });

  test('event lines are read into the union; a line that breaks the protocol names what is wrong', () => {
    expect(readScriptEvent('{"type":"step","step":3,"steps":10,"loss":0.5,"seconds":1.2}')).toEqual({
      event: { type: 'step', step: 3, steps: 10, loss: 0.5, seconds: 1.2 },
    });
    const noLoss = readScriptEvent('{"type":"step","step":3,"steps":10,"seconds":1.2}');
    expect('problems' in noLoss && noLoss.problems).toMatch(/loss/);
    const unknown = readScriptEvent('{"type":"teleport"}');
    expect('problems' in unknown && unknown.problems).toMatch(/type/);
    const badCode = readScriptEvent('{"type":"error","code":"ERR_SOMETHING","message":"x"}');
    expect('problems' in badCode && badCode.problems).toMatch(/code/);
    expect('problems' in readScriptEvent('{"type": "step",')).toBe(true);
  });

  test.skipIf(python === null)(
    'the script refuses a config that breaks the schema, naming each field',
    async () => {
      const file = join(dir, 'bad-config.json');
      await writeFile(file, JSON.stringify({ ...config, steps: 0, device: 'gpu', extra: true }));
      const run = async (): Promise<void> => {
        for await (const _ of runScript(['train', '--config', file], { python: python!, threads: 1 })) {
          // No event comes before the config is checked.
        }
      };
      const err = await run().catch((e: unknown) => e as Error & { code: string });
      expect(err).toMatchObject({ code: 'ERR_TRAINER_CONFIG' });
      expect(err?.message).toMatch(/config\.steps: expected at least 1/);
      expect(err?.message).toMatch(/config\.device/);
      expect(err?.message).toMatch(/config\.extra: is not a config field/);
    },
  );
});

import { afterAll, describe, expect, test } from 'bun:test';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeTestClip } from '@framecraft/io/testing';
import { tempDir } from '@framecraft/test-utils';
import { autotune } from './autotune.ts';
import {
  BUILT_IN_PRESETS,
  deletePreset,
  listPresets,
  loadPreset,
  PresetError,
  parsePreset,
  presetJobFields,
  presetsDir,
  savePreset,
} from './presets.ts';

const { dir, cleanup } = await tempDir();
afterAll(() => cleanup());
process.env.FRAMECRAFT_HOME = join(dir, 'home');

const error = (fn: () => unknown): PresetError => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PresetError);
    return err as PresetError;
  }
  throw new Error('expected an error');
};

describe('presets', () => {
  test('the built-ins carry the original design fields and map to job fields', async () => {
    expect(Object.keys(BUILT_IN_PRESETS)).toEqual(['speed', 'balanced', 'quality']);
    const q = await loadPreset('quality');
    expect(q).toMatchObject({
      codec: 'auto',
      crf: 16,
      preset: 'slow',
      chunk_duration: 20,
      use_temporal: true,
    });
    expect(presetJobFields(q)).toEqual({
      codec: 'auto',
      crf: 16,
      encoderPreset: 'slow',
      chunkDuration: 20,
      temporal: { enabled: true },
    });
  });

  test('malformed YAML and wrong fields name the file, line, column and field', () => {
    const f = 'presets/mine.yaml';
    expect(error(() => parsePreset('crf: [1, 2\n', f)).message).toMatch(
      /^presets\/mine\.yaml:\d+:\d+: not valid YAML/,
    );
    expect(error(() => parsePreset('description: x\ncrf: high\n', f)).message).toBe(
      'presets/mine.yaml:2:6: crf: Invalid type: Expected number but received "high"',
    );
    expect(error(() => parsePreset('crf: 20\n  # fine\nchunk_duraton: 4\n', f)).message).toMatch(
      /^presets\/mine\.yaml:3:1: chunk_duraton: unknown field/,
    );
    expect(error(() => parsePreset('preset: turbo\n', f)).message).toMatch(
      /^presets\/mine\.yaml:1:9: preset: Invalid type: Expected \("ultrafast"/,
    );
    expect(error(() => parsePreset('- a list\n', f)).message).toBe(
      'presets/mine.yaml:1:1: a preset is a mapping of fields',
    );
    // Defaults fill what a file leaves out.
    expect(parsePreset('crf: 18\n', f)).toMatchObject({
      crf: 18,
      codec: 'auto',
      preset: 'medium',
      use_temporal: true,
    });
  });

  test('save, list, show, delete; built-in names are reserved; a bad file does not hide the others', async () => {
    const file = await savePreset('grainy', {
      description: 'Cinematic with heavy grain',
      crf: 18,
      style: 'cinematic',
      style_options: { grain: 0.3 },
    });
    expect(file).toBe(join(presetsDir(), 'grainy.yaml'));
    expect(await readFile(file, 'utf8')).toContain('style_options:\n  grain: 0.3');
    expect(await loadPreset('grainy')).toMatchObject({
      crf: 18,
      style: 'cinematic',
      style_options: { grain: 0.3 },
    });
    await mkdir(presetsDir(), { recursive: true });
    await writeFile(join(presetsDir(), 'broken.yaml'), 'crf: [\n');
    const list = await listPresets();
    expect(list.map((p) => p.name)).toEqual(['speed', 'balanced', 'quality', 'broken', 'grainy']);
    expect(list.find((p) => p.name === 'broken')?.description).toContain('(unreadable:');
    await expect(loadPreset('broken')).rejects.toThrow(/broken\.yaml:\d+:\d+: not valid YAML/);
    await expect(savePreset('speed', {})).rejects.toThrow('built-in');
    await expect(savePreset('Bad Name', {})).rejects.toThrow('not a preset name');
    await expect(savePreset('x', { crf: 99 })).rejects.toThrow('crf:');
    await deletePreset('grainy');
    await expect(loadPreset('grainy')).rejects.toMatchObject({ code: 'ERR_PRESET_NOT_FOUND' });
    await expect(deletePreset('grainy')).rejects.toMatchObject({ code: 'ERR_PRESET_NOT_FOUND' });
    await expect(deletePreset('balanced')).rejects.toThrow('cannot be deleted');
  });
});

describe('autotune', () => {
  test('tries every combination on sampled frame pairs, ranks by the objective under constraints, saves the winner', async () => {
    const clip = join(dir, 'tune.mp4');
    await writeTestClip(clip, { width: 96, height: 64, frames: 40 });
    const seen: number[] = [];
    const res = await autotune({
      input: clip,
      style: 'pencil',
      baseOptions: { paper: 'none' },
      grid: { sigma: [4, 40], contrast: [1, 3] },
      samples: 3,
      objective: { metric: 'ssim', goal: 'max' },
      savePresetAs: 'tuned-pencil',
      onProgress: (done) => seen.push(done),
    });
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(res.trials).toHaveLength(4);
    const ssims = res.trials.map((t) => t.scores.ssim);
    expect([...ssims].sort((a, b) => b - a)).toEqual(ssims);
    expect(res.best).toBe(res.trials[0]!);
    for (const t of res.trials)
      for (const v of Object.values(t.scores)) expect(Number.isFinite(v)).toBe(true);
    const saved = await loadPreset('tuned-pencil');
    expect(saved.style).toBe('pencil');
    expect(saved.style_options).toEqual({ paper: 'none', ...res.best!.options });
    // An impossible bound leaves no winner.
    const none = await autotune({
      input: clip,
      style: 'pencil',
      grid: { sigma: [4] },
      samples: 2,
      constraints: [{ metric: 'ssim', min: 1.5 }],
    });
    expect(none.best).toBeNull();
    expect(none.trials[0]?.feasible).toBe(false);
    await expect(autotune({ input: clip, style: 'pencil', grid: { sigma: [] } })).rejects.toThrow(
      'grid.sigma has no values',
    );
    await expect(autotune({ input: clip, style: 'pencil', grid: { sigma: [-5] } })).rejects.toThrow('sigma');
  });
});

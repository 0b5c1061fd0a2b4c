import {
  deletePreset,
  listPresets,
  loadPreset,
  presetsDir,
  type RenderPreset,
  savePreset,
} from '@framecraft/pipeline';
import { stringify } from 'yaml';
import { parseStyleOptions } from '../style-flags.ts';

/** Options of `framecraft presets save`. */
export interface PresetSaveOptions {
  readonly from?: string;
  readonly description?: string;
  readonly codec?: string;
  readonly crf?: number;
  readonly encoderPreset?: string;
  readonly chunkDuration?: number;
  /** `--temporal <mode>`, or false for `--no-temporal`. */
  readonly temporal?: 'flow' | 'ema' | 'off' | false;
  readonly style?: string;
  readonly option?: readonly string[];
  readonly json?: boolean;
}

const out = (s: string): void => {
  process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
};

/**
 * `framecraft presets list`: built-in and user presets with their descriptions.
 *
 * @param options - JSON output.
 */
export async function presetsListCommand(options: { json?: boolean }): Promise<void> {
  const list = await listPresets();
  if (options.json) return out(JSON.stringify({ folder: presetsDir(), presets: list }));
  const width = Math.max(...list.map((p) => p.name.length));
  for (const p of list)
    out(`${p.name.padEnd(width)}  ${p.builtIn ? 'built-in' : 'user    '}  ${p.description}`);
  out(`(user presets live in ${presetsDir()})`);
}

/**
 * `framecraft presets show <name>`: the preset's fields as YAML (or JSON).
 *
 * @param name - Preset name.
 * @param options - JSON output.
 */
export async function presetsShowCommand(name: string, options: { json?: boolean }): Promise<void> {
  const preset = await loadPreset(name);
  out(options.json ? JSON.stringify(preset) : stringify(preset));
}

/**
 * `framecraft presets save <name>`: a user preset from another preset (`--from`, balanced by
 * default) with the given fields changed.
 *
 * @param name - New preset name.
 * @param options - Fields to set.
 */
export async function presetsSaveCommand(name: string, options: PresetSaveOptions): Promise<void> {
  const base = await loadPreset(options.from ?? 'balanced');
  const styleOptions = options.option !== undefined ? parseStyleOptions(options.option) : undefined;
  const preset: Partial<RenderPreset> = {
    ...base,
    ...(options.description !== undefined && { description: options.description }),
    ...(options.codec !== undefined && { codec: options.codec }),
    ...(options.crf !== undefined && { crf: options.crf }),
    ...(options.encoderPreset !== undefined && { preset: options.encoderPreset as RenderPreset['preset'] }),
    ...(options.chunkDuration !== undefined && { chunk_duration: options.chunkDuration }),
    ...(options.temporal === false && { use_temporal: false, temporal_mode: 'off' as const }),
    ...(typeof options.temporal === 'string' && {
      use_temporal: options.temporal !== 'off',
      temporal_mode: options.temporal,
    }),
    ...(options.style !== undefined && { style: options.style }),
    ...(styleOptions !== undefined && { style_options: { ...base.style_options, ...styleOptions } }),
  };
  const file = await savePreset(name, preset);
  out(options.json ? JSON.stringify({ event: 'saved', name, file }) : `Saved preset "${name}" to ${file}.`);
}

/**
 * `framecraft presets delete <name>`.
 *
 * @param name - User preset name.
 * @param options - JSON output.
 */
export async function presetsDeleteCommand(name: string, options: { json?: boolean }): Promise<void> {
  await deletePreset(name);
  out(options.json ? JSON.stringify({ event: 'deleted', name }) : `Deleted preset "${name}".`);
}

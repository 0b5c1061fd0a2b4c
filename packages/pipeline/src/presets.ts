import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FramecraftError } from '@framecraft/core';
import { writeFileAtomic } from '@framecraft/io';
import * as v from 'valibot';
import { isMap, LineCounter, parseDocument, stringify, visit } from 'yaml';
import type { PipelineErrorCode } from './errors.ts';
import { dataHome, type JobInput, X264_PRESETS } from './job.ts';

/**
 * A render preset in the original design's fields (snake_case, as in its YAML files), plus an
 * optional style and style options of ours.
 */
export interface RenderPreset {
  readonly description: string;
  readonly codec: string;
  readonly crf: number;
  /** Encoder preset in x264 terms. */
  readonly preset: (typeof X264_PRESETS)[number];
  /** Seconds per chunk. */
  readonly chunk_duration: number;
  readonly use_temporal: boolean;
  /**
   * `flow`, `ema` or `off`; when missing, `use_temporal` turns temporal coherence on in the
   * style's own mode (neural: flow) or off.
   */
  readonly temporal_mode?: 'flow' | 'ema' | 'off' | undefined;
  /** A style this preset selects (the command line's `--style` wins). */
  readonly style?: string | undefined;
  readonly style_options?: Readonly<Record<string, unknown>> | undefined;
}

/** The preset fields and their checks (the schema below is these, strict). */
const PRESET_FIELDS = {
  description: v.optional(v.string(), ''),
  codec: v.optional(v.pipe(v.string(), v.minLength(1)), 'auto'),
  crf: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(51)), 20),
  preset: v.optional(v.picklist(X264_PRESETS), 'medium'),
  chunk_duration: v.optional(v.pipe(v.number(), v.minValue(0.5), v.maxValue(3600)), 10),
  use_temporal: v.optional(v.boolean(), true),
  temporal_mode: v.optional(v.picklist(['flow', 'ema', 'off'])),
  style: v.optional(v.pipe(v.string(), v.minLength(1))),
  style_options: v.optional(v.record(v.string(), v.unknown())),
};

/** The preset schema: unknown fields are errors, so a typo never passes silently. */
export const RenderPresetSchema: v.GenericSchema<unknown, RenderPreset> = v.strictObject(
  PRESET_FIELDS,
) as v.GenericSchema<unknown, RenderPreset>;

/** The built-in presets. */
export const BUILT_IN_PRESETS: Readonly<Record<'speed' | 'balanced' | 'quality', RenderPreset>> = {
  speed: {
    description: 'Fastest turnaround: quick encoder settings, no temporal smoothing.',
    codec: 'auto',
    crf: 26,
    preset: 'veryfast',
    chunk_duration: 10,
    use_temporal: false,
  },
  balanced: {
    description: 'Good quality at a reasonable speed, with temporal smoothing.',
    codec: 'auto',
    crf: 20,
    preset: 'medium',
    chunk_duration: 10,
    use_temporal: true,
  },
  quality: {
    description: 'Best quality: slow encoder settings, temporal smoothing, longer chunks.',
    codec: 'auto',
    crf: 16,
    preset: 'slow',
    chunk_duration: 20,
    use_temporal: true,
  },
};

/** Raised for a preset file that is not YAML, has wrong fields, or does not exist. */
export class PresetError extends FramecraftError<PipelineErrorCode> {
  /** The preset file, when the problem is in one. */
  readonly file: string | null;

  /**
   * @param code - `ERR_PRESET` (bad content) or `ERR_PRESET_NOT_FOUND`.
   * @param message - What is wrong, with file:line:column when known.
   * @param file - The file.
   */
  constructor(code: 'ERR_PRESET' | 'ERR_PRESET_NOT_FOUND', message: string, file: string | null = null) {
    super(code, message);
    this.name = 'PresetError';
    this.file = file;
  }
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** The folder of user presets: `<data home>/presets`. */
export function presetsDir(): string {
  return join(dataHome(), 'presets');
}

function checkName(name: string): void {
  if (!NAME.test(name))
    throw new PresetError(
      'ERR_PRESET',
      `"${name}" is not a preset name: use lower-case letters, digits, '.', '_' and '-' (at most 64)`,
    );
}

/**
 * Parse a preset from YAML text. Errors name the file, line, column and field.
 *
 * @param text - YAML.
 * @param file - The file name, for messages.
 * @returns The preset with defaults filled in.
 * @throws {PresetError} `ERR_PRESET` for malformed YAML, a non-mapping document, unknown or wrong fields.
 */
export function parsePreset(text: string, file: string): RenderPreset {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at = (offset: number | undefined): string => {
    if (offset === undefined) return file;
    const { line, col } = lines.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new PresetError('ERR_PRESET', `${at(e.pos[0])}: not valid YAML: ${e.message.split('\n')[0]}`, file);
  }
  if (doc.contents !== null && !isMap(doc.contents))
    throw new PresetError(
      'ERR_PRESET',
      `${at(doc.contents?.range?.[0])}: a preset is a mapping of fields`,
      file,
    );
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // yaml refuses documents whose aliases expand without bound ("billion laughs"); point at the first.
    let first: number | undefined;
    visit(doc, {
      Alias(_, node) {
        first = node.range?.[0];
        return visit.BREAK;
      },
    });
    throw new PresetError(
      'ERR_PRESET',
      `${at(first)}: not a usable preset: ${(err as Error).message.split('\n')[0]}`,
      file,
    );
  }
  const result = v.safeParse(RenderPresetSchema, value ?? {});
  if (result.success) return result.output;
  const issue = result.issues[0];
  const path = (issue.path ?? []).map((p) => p.key as string | number);
  // Point at the offending value, or for an unknown field at its key.
  const unknownField = issue.type === 'strict_object';
  type Ranged = { range?: [number, number, number] } | undefined;
  let offset: number | undefined;
  if (unknownField && isMap(doc.contents)) {
    const pair = doc.contents.items.find((p) => (p.key as { value?: unknown })?.value === path[0]);
    offset = (pair?.key as Ranged)?.range?.[0];
  } else if (path.length > 0) offset = (doc.getIn(path, true) as Ranged)?.range?.[0];
  const field = path.length > 0 ? path.join('.') : '(preset)';
  const message =
    issue.type === 'strict_object'
      ? `unknown field (known: ${Object.keys(PRESET_FIELDS).join(', ')})`
      : issue.message;
  throw new PresetError('ERR_PRESET', `${at(offset)}: ${field}: ${message}`, file);
}

/**
 * Load a preset by name: a built-in one or `<presets dir>/<name>.yaml`.
 *
 * @param name - The preset name.
 * @returns The preset.
 * @throws {PresetError} `ERR_PRESET_NOT_FOUND` listing what exists, or `ERR_PRESET` for a bad file.
 */
export async function loadPreset(name: string): Promise<RenderPreset> {
  const builtIn = BUILT_IN_PRESETS[name as keyof typeof BUILT_IN_PRESETS];
  if (builtIn !== undefined) return builtIn;
  checkName(name);
  const file = join(presetsDir(), `${name}.yaml`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const known = (await listPresets()).map((p) => p.name);
    throw new PresetError('ERR_PRESET_NOT_FOUND', `No preset "${name}". Presets: ${known.join(', ')}.`, file);
  }
  return parsePreset(text, file);
}

/** A preset in a listing. */
export interface PresetEntry {
  readonly name: string;
  readonly builtIn: boolean;
  readonly file: string | null;
  readonly description: string;
}

/**
 * List the built-in presets and the user's (a malformed user file is listed with its error as the
 * description, so one bad file does not hide the others).
 *
 * @returns Built-ins first, then user presets by name.
 */
export async function listPresets(): Promise<PresetEntry[]> {
  const out: PresetEntry[] = Object.entries(BUILT_IN_PRESETS).map(([name, p]) => ({
    name,
    builtIn: true,
    file: null,
    description: p.description,
  }));
  let names: string[] = [];
  try {
    names = (await readdir(presetsDir())).filter((f) => f.endsWith('.yaml')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  for (const f of names) {
    const file = join(presetsDir(), f);
    let description: string;
    try {
      description = parsePreset(await readFile(file, 'utf8'), file).description;
    } catch (err) {
      description = `(unreadable: ${(err as Error).message})`;
    }
    out.push({ name: f.slice(0, -'.yaml'.length), builtIn: false, file, description });
  }
  return out;
}

/**
 * Save a user preset as YAML (atomically). Built-in names are reserved.
 *
 * @param name - The preset name.
 * @param preset - Its fields (checked against the schema).
 * @returns The file written.
 * @throws {PresetError} For a reserved or invalid name or invalid fields.
 */
export async function savePreset(name: string, preset: Partial<RenderPreset>): Promise<string> {
  checkName(name);
  if (name in BUILT_IN_PRESETS)
    throw new PresetError('ERR_PRESET', `"${name}" is a built-in preset; choose another name`);
  const file = join(presetsDir(), `${name}.yaml`);
  const checked = parsePreset(stringify(preset), file);
  await mkdir(presetsDir(), { recursive: true });
  await writeFileAtomic(file, stringify(checked));
  return file;
}

/**
 * Delete a user preset.
 *
 * @param name - The preset name.
 * @throws {PresetError} For a built-in or missing preset.
 */
export async function deletePreset(name: string): Promise<void> {
  checkName(name);
  if (name in BUILT_IN_PRESETS)
    throw new PresetError('ERR_PRESET', `"${name}" is a built-in preset and cannot be deleted`);
  const file = join(presetsDir(), `${name}.yaml`);
  try {
    await rm(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new PresetError('ERR_PRESET_NOT_FOUND', `No user preset "${name}" (${file})`, file);
    throw err;
  }
}

/**
 * The job fields a preset sets (the job's own fields win over them).
 *
 * @param preset - A render preset.
 * @returns Partial job fields.
 */
export function presetJobFields(preset: RenderPreset): Partial<JobInput> {
  return {
    codec: preset.codec,
    crf: preset.crf,
    encoderPreset: preset.preset,
    chunkDuration: preset.chunk_duration,
    temporal: {
      enabled: preset.use_temporal,
      ...(preset.temporal_mode !== undefined && { mode: preset.temporal_mode }),
    },
    ...(preset.style !== undefined && { style: preset.style }),
    ...(preset.style_options !== undefined && { styleOptions: preset.style_options }),
  };
}

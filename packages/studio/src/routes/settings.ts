import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { hardwareInfo, writeFileAtomic } from '@framecraft/io';
import type { ModelRegistry } from '@framecraft/ml';
import { knownStylizers, loadStylizer } from '@framecraft/stylizers';
import { vValidator } from '@hono/valibot-validator';
import { toJsonSchema } from '@valibot/to-json-schema';
import { Hono } from 'hono';
import * as v from 'valibot';
import type { Defaults, ModelList, Settings, StyleInfo } from '../api.ts';
import { invalidBody } from '../errors.ts';
import type { AllowedRoots } from '../roots.ts';

/** What the settings routes work on. */
export interface SettingsRoutesOptions {
  readonly roots: AllowedRoots;
  readonly registry: ModelRegistry;
  /** Where the dashboard's defaults are kept (JSON). */
  readonly defaultsFile: string;
  /** nvidia-smi to ask about GPUs. */
  readonly nvidiaSmi?: string;
  /** Where renders run, in words. */
  readonly renderTarget: string;
}

const PRESET = v.picklist(['speed', 'balanced', 'quality']);
const CRF = v.pipe(v.number(), v.minValue(0), v.maxValue(51));

/** The dashboard's defaults; a field not given takes the built-in value. */
const DefaultsSchema = v.object({
  style: v.optional(v.string(), 'pencil'),
  preset: v.optional(PRESET, 'balanced'),
  codec: v.optional(v.string(), 'auto'),
  crf: v.optional(CRF, 20),
});

/** A change to the defaults: any of their fields. */
const DefaultsChange = v.object({
  style: v.optional(v.string()),
  preset: v.optional(PRESET),
  codec: v.optional(v.string()),
  crf: v.optional(CRF),
});

/** The saved defaults; a file that is missing or damaged gives the built-in ones. */
async function readDefaults(file: string): Promise<Defaults> {
  const text = await readFile(file, 'utf8').catch(() => null);
  let saved: unknown = {};
  try {
    saved = text === null ? {} : JSON.parse(text);
  } catch {
    // A damaged file: the built-in defaults, and the next save replaces it.
  }
  const parsed = v.safeParse(DefaultsSchema, saved);
  return parsed.success ? parsed.output : v.parse(DefaultsSchema, {});
}

/** Every style with its options as JSON Schema, for the pages' generated forms. */
async function listStyles(): Promise<StyleInfo[]> {
  const styles: StyleInfo[] = [];
  for (const name of knownStylizers()) {
    const s = await loadStylizer(name);
    styles.push({
      name: s.name,
      description: s.description,
      inputFormat: s.inputFormat,
      presets: s.presets,
      // From the style's valibot schema, the single source of truth; checks JSON Schema cannot say
      // are left out.
      schema: toJsonSchema(s.options, { errorMode: 'ignore' }),
    });
  }
  return styles;
}

/**
 * What the pages start from and the machine they run on: health, the styles, the dashboard's
 * defaults (kept in a JSON file), the registry's models, and the hardware (GPUs, NVENC, advice).
 */
export function settingsRoutes(o: SettingsRoutesOptions): Hono {
  // The styles do not change while the server runs (loading the neural style imports ONNX
  // Runtime): worked out once, again only after a failure.
  let styles: Promise<StyleInfo[]> | undefined;
  return new Hono()
    .get('/health', (c) => c.json({ ok: true }))
    .get('/styles', async (c) => {
      styles ??= listStyles().catch((err: unknown) => {
        styles = undefined;
        throw err;
      });
      return c.json({ styles: await styles });
    })
    .get('/defaults', async (c) => c.json(await readDefaults(o.defaultsFile)))
    .post(
      '/defaults',
      vValidator(
        'json',
        DefaultsChange,
        invalidBody(
          'ERR_DEFAULTS',
          "{ style?, preset?: 'speed', 'balanced' or 'quality', codec?, crf?: 0–51 }",
        ),
      ),
      async (c) => {
        const d = v.parse(DefaultsSchema, {
          ...(await readDefaults(o.defaultsFile)),
          ...c.req.valid('json'),
        });
        await mkdir(dirname(o.defaultsFile), { recursive: true });
        await writeFileAtomic(o.defaultsFile, `${JSON.stringify(d, null, 2)}\n`);
        return c.json(d);
      },
    )
    .get('/models', async (c) => {
      const list: ModelList = {
        models: await o.registry.list(),
        promoted: await o.registry.promotedVersions(),
      };
      return c.json(list);
    })
    .get('/settings', async (c) => {
      const hw = await hardwareInfo(o.nvidiaSmi !== undefined ? { nvidiaSmi: o.nvidiaSmi } : {});
      const hot = hw.gpus.filter((g) => (g.temperatureC ?? 0) > 80);
      const settings: Settings = {
        gpus: hw.gpus,
        gpuNote: hw.gpuNote,
        nvenc: hw.nvenc,
        warnings: hot.map((g) => `GPU ${g.index} (${g.name}) is at ${g.temperatureC} °C, above 80 °C`),
        advice: hw.nvenc.usable
          ? 'h264_nvenc is usable: renders encode on the GPU (codec auto).'
          : `No usable NVENC (${hw.nvenc.reason ?? 'no NVIDIA encoder'}): renders encode with libx264 on the CPU.`,
        roots: o.roots.list,
        renderTarget: o.renderTarget,
      };
      return c.json(settings);
    });
}

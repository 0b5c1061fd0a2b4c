// What the style flags (`--style`, `--style-preset`, `--option`, `--model`) mean, for every command
// that runs a style.
import { modelRegistry, resolveStyleModel } from '@framecraft/pipeline';
import {
  loadStylizer,
  parseStylizerOptions,
  type Stylizer,
  type StylizerPreset,
} from '@framecraft/stylizers';
import { UsageError } from './errors.ts';

/**
 * Parse `--option key=value` pairs into style options; values are JSON when they parse as JSON
 * (numbers, booleans), strings otherwise.
 *
 * @param pairs - The raw pairs.
 * @returns The options object.
 * @throws {UsageError} `ERR_USAGE` for a pair without `=`.
 */
export function parseStyleOptions(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new UsageError('ERR_USAGE', `--option ${pair}: expected key=value, for example sigma=8`);
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // A plain string (a path, a name).
    }
    out[key] = value;
  }
  return out;
}

/**
 * The style and its checked options from the usual flags (`--style`, `--style-preset`, `--option`,
 * `--model`), loading on-demand styles such as `neural`; a model named by `--model` (or the
 * style's default, the built-in `mosaic`) is resolved in the registry to its file and layout.
 *
 * @param o - The flags.
 * @returns The style and its options.
 */
export async function styleFromFlags(o: {
  readonly style: string;
  readonly stylePreset?: string;
  readonly option?: readonly string[];
  readonly model?: string;
}): Promise<{ style: Stylizer; options: unknown }> {
  const style = await loadStylizer(o.style);
  const given = parseStylizerOptions(
    style,
    { ...(o.model !== undefined && { model: o.model }), ...parseStyleOptions(o.option ?? []) },
    o.stylePreset as StylizerPreset | undefined,
  ) as Record<string, unknown>;
  return { style, options: await resolveStyleModel(style, given, modelRegistry()) };
}

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type BuiltInModel, type ModelManifest, ModelRegistry } from '@framecraft/ml';
import { mosaic } from '@framecraft/model-mosaic';
import { dataHome } from './job.ts';

/** The models that ship with Framecraft and need no installing (`mosaic`, the neural style's default). */
export const BUILT_IN_MODELS: readonly BuiltInModel[] = [mosaic];

/**
 * The model registry of a data folder (`<home>/models`), with the built-in models.
 *
 * @param home - The data folder; `dataHome()` by default.
 * @returns The registry.
 */
export function modelRegistry(home: string = dataHome()): ModelRegistry {
  return new ModelRegistry(join(home, 'models'), { builtIn: BUILT_IN_MODELS });
}

/**
 * The registered model a `model` style option names (`name` or `name@version`), or null when it is
 * a file (or no model at all).
 *
 * @param styleOptions - A style's options.
 * @returns The name and version asked for.
 */
export function modelRefOf(
  styleOptions: Readonly<Record<string, unknown>>,
): { name: string; version: string | undefined } | null {
  const model = styleOptions.model;
  if (typeof model !== 'string' || existsSync(model) || !/^[a-z0-9][a-z0-9._-]*(@[^@/]+)?$/.test(model))
    return null;
  const [name = '', version] = model.split('@');
  return { name, version };
}

/**
 * Style options that use one version of a registered model (its file and tensor layout) in place
 * of the model's name.
 *
 * @param styleOptions - A style's options.
 * @param resolved - The version, from `ModelRegistry.resolve`.
 * @returns The options with the model's path and layout.
 */
export function withModelFile(
  styleOptions: Readonly<Record<string, unknown>>,
  resolved: { manifest: ModelManifest; path: string },
): Record<string, unknown> {
  const m = resolved.manifest;
  return { ...styleOptions, model: resolved.path, layout: m.layout, channels: m.channels, range: m.range };
}

/**
 * Resolve a `model` style option that names a registered model into its file and layout (other
 * options are returned as they are), for code that runs a style outside a render: the CLI's
 * preview and benchmark, the studio's style lab.
 *
 * @param styleOptions - A style's options.
 * @param registry - Where to look; {@link modelRegistry} by default.
 * @returns The options to create the style with.
 * @throws {FramecraftError} `ERR_MODEL_NOT_FOUND` listing what is installed.
 */
export async function resolveModelOption(
  styleOptions: Readonly<Record<string, unknown>>,
  registry: ModelRegistry = modelRegistry(),
): Promise<Record<string, unknown>> {
  const ref = modelRefOf(styleOptions);
  if (ref === null) return { ...styleOptions };
  return withModelFile(styleOptions, await registry.resolve(ref.name, ref.version));
}

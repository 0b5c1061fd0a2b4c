import { join } from 'node:path';
import { type BuiltInModel, type ModelRef, ModelRegistry, type ResolvedModel } from '@framecraft/ml';
import { mosaic } from '@framecraft/model-mosaic';
import type { Stylizer } from '@framecraft/stylizers';
import { dataHome } from './job.ts';

/** The models that ship with Framecraft and need no installing (`mosaic`, the neural style's default). */
export const BUILT_IN_MODELS: readonly BuiltInModel[] = [mosaic];

/**
 * The model registry of a data folder (`<home>/models`), with the built-in models: what a render
 * uses when its options give no registry.
 *
 * @param home - The data folder; `dataHome()` by default.
 * @returns The registry.
 */
export function modelRegistry(home: string = dataHome()): ModelRegistry {
  return new ModelRegistry(join(home, 'models'), { builtIn: BUILT_IN_MODELS });
}

/** A style's options, as a job holds them (parsed, defaults filled). */
type StyleOptions = Readonly<Record<string, unknown>>;

/**
 * The registered model a style's options name, asked of the style (see `Stylizer.resources`).
 *
 * @param style - The style.
 * @param options - Its parsed options.
 * @returns The name and version asked for, or null when the options name no registered model.
 */
export function styleModelRef(style: Stylizer, options: StyleOptions): ModelRef | null {
  return style.resources?.model(options) ?? null;
}

/**
 * A style's options using one installed version of the model they name (its file and layout).
 *
 * @param style - The style.
 * @param options - Its parsed options.
 * @param model - The version, from `ModelRegistry.resolve`.
 * @returns The options to create the style with.
 */
export function withStyleModel(style: Stylizer, options: StyleOptions, model: ResolvedModel): StyleOptions {
  const resources = style.resources;
  return resources === undefined ? options : (resources.withModel(options, model) as StyleOptions);
}

/**
 * Resolve the registered model a style's options name into its file and layout (options that name
 * none are returned as they are), for code that runs a style outside a render: the CLI's preview
 * and benchmark, autotune, the studio's style lab.
 *
 * @param style - The style.
 * @param options - Its parsed options.
 * @param registry - Where to look.
 * @returns The options to create the style with.
 * @throws {FramecraftError} `ERR_MODEL_NOT_FOUND` listing what is installed.
 */
export async function resolveStyleModel(
  style: Stylizer,
  options: StyleOptions,
  registry: ModelRegistry,
): Promise<StyleOptions> {
  const ref = styleModelRef(style, options);
  if (ref === null) return options;
  return withStyleModel(style, options, await registry.resolve(ref.name, ref.version));
}

import { invalidTypeError } from '@framecraft/core';
import { UnknownStylizerError } from './errors.ts';
import type { Stylizer } from './stylizer.ts';

const registry = new Map<string, Stylizer>();

/**
 * Make a style available by name. The core never switches on names: styles register themselves.
 *
 * @param stylizer - The style; its name must be unique (registering the same object twice is a no-op).
 * @throws {TypeError} When another style already has the name.
 */
export function registerStylizer(stylizer: Stylizer): void {
  const existing = registry.get(stylizer.name);
  if (existing !== undefined && existing !== stylizer) {
    throw invalidTypeError(`a style name not yet registered`, 'stylizer.name', stylizer.name);
  }
  registry.set(stylizer.name, stylizer);
}

/**
 * Look a style up by name.
 *
 * @param name - The style's name.
 * @returns The style.
 * @throws {UnknownStylizerError} Listing the registered names.
 */
export function getStylizer(name: string): Stylizer {
  const s = registry.get(name);
  if (s === undefined) throw new UnknownStylizerError(name, listStylizers());
  return s;
}

/**
 * List registered style names, sorted.
 *
 * @returns The names.
 */
export function listStylizers(): string[] {
  return [...registry.keys()].sort();
}

/** Styles that live behind their own subpath and load on demand (so the root loads no ONNX Runtime). */
const ON_DEMAND: Readonly<Record<string, string>> = { neural: 'neural' };

/**
 * List every style that can be loaded by name: the registered ones and the on-demand ones not
 * loaded yet (`neural`), sorted. Pass a name to {@link loadStylizer}.
 *
 * @returns The names.
 */
export function knownStylizers(): string[] {
  return [...new Set([...registry.keys(), ...Object.keys(ON_DEMAND)])].sort();
}

/**
 * Look a style up by name, first importing the subpath that registers it when it is an on-demand
 * style (`neural` → `@framecraft/stylizers/neural`).
 *
 * @param name - The style's name.
 * @returns The style.
 * @throws {UnknownStylizerError} Listing the registered names.
 */
export async function loadStylizer(name: string): Promise<Stylizer> {
  const sub = ON_DEMAND[name];
  if (sub !== undefined && !registry.has(name)) {
    const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
    await import(new URL(`./${sub}${ext}`, import.meta.url).href);
  }
  return getStylizer(name);
}

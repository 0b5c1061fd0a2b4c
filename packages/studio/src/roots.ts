import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { FramecraftError } from '@framecraft/core';
import { StudioError, type StudioErrorCode } from './errors.ts';

/** Raised for a path outside the allowed folders (HTTP 403). */
export class PathNotAllowedError extends FramecraftError<StudioErrorCode> {
  /** @param path - What was asked for. */
  constructor(path: string) {
    super('ERR_PATH_NOT_ALLOWED', `${path} is outside the folders the studio may use`);
    this.name = 'PathNotAllowedError';
  }
}

/** Whether `child` is `parent` or inside it (both absolute, normalised). */
function inside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && !rel.startsWith(`..${sep}`));
}

/**
 * The folders the studio may read from and write to. A path is allowed when, after resolving
 * `..` and every symbolic link (of the path, or of its nearest existing parent for a file still
 * to be written), it lies inside one of them: `roots/../etc/passwd` and a link pointing out are
 * both refused.
 */
export class AllowedRoots {
  readonly #roots: readonly string[];

  private constructor(roots: readonly string[]) {
    this.#roots = roots;
  }

  /**
   * @param roots - Existing folders.
   * @throws {FramecraftError} `ERR_ROOT` for a root that is not an existing folder.
   */
  static async create(roots: readonly string[]): Promise<AllowedRoots> {
    const real: string[] = [];
    for (const r of roots) {
      const abs = resolve(r);
      const info = await stat(abs).catch(() => null);
      if (info === null || !info.isDirectory())
        throw new StudioError('ERR_ROOT', `${abs}: an allowed folder must be an existing folder`);
      real.push(await realpath(abs));
    }
    return new AllowedRoots(real);
  }

  /** The folders, real paths. */
  get list(): readonly string[] {
    return this.#roots;
  }

  /**
   * Resolve a path (absolute, or relative to the first root) and check it.
   *
   * @param path - What a request names.
   * @returns The real absolute path (for a file that does not exist yet: its real parent plus name).
   * @throws {PathNotAllowedError} When it leaves every root.
   */
  async check(path: string): Promise<string> {
    if (typeof path !== 'string' || path === '' || path.includes('\0'))
      throw new PathNotAllowedError(String(path));
    const abs = isAbsolute(path) ? resolve(path) : resolve(this.#roots[0] ?? '/', path);
    let real: string;
    try {
      real = await realpath(abs);
    } catch {
      // Not there yet: check its parent's real path.
      const parent = await realpath(resolve(abs, '..')).catch(() => null);
      if (parent === null) throw new PathNotAllowedError(path);
      real = resolve(parent, abs.slice(abs.lastIndexOf(sep) + 1));
    }
    if (!this.#roots.some((r) => inside(r, real))) throw new PathNotAllowedError(path);
    return real;
  }
}

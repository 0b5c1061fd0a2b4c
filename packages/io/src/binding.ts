import { createRequire } from 'node:module';
import { NativeBindingError } from './errors.ts';

/**
 * The parts of node-av Framecraft uses: the low-level bindings and the constants. Importing only
 * these subpaths (not node-av's high-level API) takes a third of the start-up time.
 */
export type NodeAv = typeof import('node-av/lib') & typeof import('node-av/constants');

let loading: Promise<NodeAv> | undefined;
let loaded: NodeAv | undefined;

/** node-av's packet reader uses Promise.withResolvers, which Node 20 lacks (Bun and Node 22 have it). */
function polyfillWithResolvers(): void {
  const P = Promise as unknown as { withResolvers?: unknown };
  if (typeof P.withResolvers === 'function') return;
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

/**
 * Load node-av (and with it FFmpeg's native binding) once, on first use.
 *
 * Importing `@framecraft/io` never loads the binary; every function that needs FFmpeg awaits this.
 *
 * @returns The node-av module.
 * @throws {NativeBindingError} When the binary for this platform cannot be loaded.
 */
export function loadNodeAv(): Promise<NodeAv> {
  loading ??= (async () => {
    polyfillWithResolvers();
    try {
      const [lib, constants] = await Promise.all([import('node-av/lib'), import('node-av/constants')]);
      const av: NodeAv = { ...constants, ...lib };
      quietFFmpegLog(av);
      loaded = av;
      return av;
    } catch (err) {
      loading = undefined;
      throw new NativeBindingError(describePlatformPackage(), [err]);
    }
  })();
  return loading;
}

/**
 * Return node-av after {@link loadNodeAv} has resolved; for synchronous hot paths.
 *
 * @returns The node-av module.
 * @throws {NativeBindingError} When node-av has not been loaded yet.
 */
export function nodeAvSync(): NodeAv {
  if (loaded === undefined) {
    throw new NativeBindingError(describePlatformPackage(), [new Error('node-av used before loadNodeAv()')]);
  }
  return loaded;
}

const LOG_LEVELS = ['quiet', 'panic', 'fatal', 'error', 'warning', 'info', 'verbose', 'debug'] as const;

/**
 * FFmpeg prints encoder statistics and warnings to stderr by default; Framecraft reports failures
 * through its own typed errors instead. FRAMECRAFT_FFMPEG_LOG=error|warning|info|debug brings the
 * native log back for diagnosis.
 */
function quietFFmpegLog(av: NodeAv): void {
  const wanted = (process.env.FRAMECRAFT_FFMPEG_LOG ?? 'fatal').toLowerCase();
  const level = (LOG_LEVELS as readonly string[]).includes(wanted) ? wanted : 'fatal';
  const value = (av as unknown as Record<string, number>)[`AV_LOG_${level.toUpperCase()}`];
  if (typeof value === 'number') av.Log.setLevel(value as never);
}

/**
 * Name the prebuilt package node-av needs on this platform and whether it is installed (looked
 * up from node-av's own folder, where package managers with isolated installs put it).
 *
 * @returns For example `@seydx/node-av-linux-x64 (installed)`.
 */
export function describePlatformPackage(): string {
  const pkg = `@seydx/node-av-${process.platform}-${process.arch}`;
  let found = 'not installed';
  try {
    const nodeAv = createRequire(import.meta.url).resolve('node-av/package.json');
    createRequire(nodeAv).resolve(`${pkg}/package.json`);
    found = 'installed';
  } catch {
    // reported through `found`
  }
  return `${pkg} (${found})`;
}

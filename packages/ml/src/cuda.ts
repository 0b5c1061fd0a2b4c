import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Whether ONNX Runtime's CUDA execution provider can be tried on this machine. */
export interface CudaSupport {
  /** True when the provider libraries and an NVIDIA driver are present (CUDA may still fail to start). */
  readonly available: boolean;
  /** Why not, in a few words for a log line; null when available. */
  readonly reason: string | null;
}

/** What {@link cudaSupport} looks at; tests point it at folders of their own. */
export interface CudaSupportOptions {
  /** onnxruntime-node's folder of native libraries for this platform (found from its package by default). */
  readonly binFolder?: string;
  /** A file present where the NVIDIA driver is loaded (`/dev/nvidiactl` on Linux by default). */
  readonly driverNode?: string;
  readonly platform?: NodeJS.Platform;
  readonly arch?: string;
}

/** The provider libraries onnxruntime-node needs for CUDA, per platform (its install script fetches them). */
const PROVIDER_FILES: Readonly<Record<string, readonly string[]>> = {
  'linux/x64': ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'],
  'win32/x64': ['onnxruntime_providers_shared.dll', 'onnxruntime_providers_cuda.dll'],
};

function ortBinFolder(platform: string, arch: string): string | null {
  try {
    const pkg = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
    return join(dirname(pkg), 'bin', 'napi-v6', platform, arch);
  } catch {
    return null;
  }
}

let cached: CudaSupport | undefined;

/**
 * Find out, without asking ONNX Runtime, whether its CUDA provider can be tried here: the provider
 * libraries onnxruntime-node's install script downloads (from nuget.org, so they are missing on a
 * machine that installed offline) and an NVIDIA driver. Asking ONNX Runtime for CUDA where either
 * is missing makes it print multi-line errors before it falls back; this lets a session go
 * straight to the CPU with one reason instead. Cached for the process when called without options.
 *
 * @param options - Where to look (tests).
 * @returns Whether CUDA can be tried, and why not.
 */
export function cudaSupport(options: CudaSupportOptions = {}): CudaSupport {
  const own = Object.keys(options).length === 0;
  if (own && cached !== undefined) return cached;
  const platform = options.platform ?? process.platform;
  const arch = options.arch ?? process.arch;
  const files = PROVIDER_FILES[`${platform}/${arch}`];
  let reason: string | null = null;
  if (files === undefined) reason = `onnxruntime-node has no CUDA provider for ${platform}/${arch}`;
  else {
    const folder = options.binFolder ?? ortBinFolder(platform, arch);
    const missing = folder === null ? files : files.filter((f) => !existsSync(join(folder, f)));
    const driver = options.driverNode ?? (platform === 'linux' ? '/dev/nvidiactl' : null);
    if (missing.length > 0)
      reason =
        `onnxruntime-node's CUDA provider is not installed (no ${missing[0]}; its install script ` +
        'fetches it from nuget.org: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node)';
    else if (driver !== null && !existsSync(driver)) reason = `no NVIDIA driver (${driver} is missing)`;
  }
  const result: CudaSupport = { available: reason === null, reason };
  if (own) cached = result;
  return result;
}

import { execFile } from 'node:child_process';
import { loadNodeAv } from './binding.ts';
import { checkEncoder, type EncoderCheck } from './video-encoder.ts';

/** One NVIDIA GPU as `nvidia-smi` reports it. */
export interface GpuInfo {
  readonly index: number;
  readonly name: string;
  readonly memoryTotalMiB: number;
  readonly memoryUsedMiB: number;
  /** Degrees Celsius, null when not reported. */
  readonly temperatureC: number | null;
  /** Percent, null when not reported. */
  readonly utilizationPercent: number | null;
  readonly driverVersion: string;
}

/** What this machine offers for video work. */
export interface HardwareInfo {
  /** Video encoders in this FFmpeg build. */
  readonly videoEncoders: readonly string[];
  /** Hardware encoders among them (NVENC, VAAPI, QSV, …), whether or not a device is present. */
  readonly hardwareEncoders: readonly string[];
  /** Hardware acceleration device types this FFmpeg build supports. */
  readonly hwaccels: readonly string[];
  /** NVIDIA GPUs from `nvidia-smi`; empty when there is none. */
  readonly gpus: readonly GpuInfo[];
  /** Why `gpus` is empty, or null. */
  readonly gpuNote: string | null;
  /** Whether NVENC H.264 really encodes a frame here. */
  readonly nvenc: EncoderCheck;
}

/** Options of {@link hardwareInfo}. */
export interface HardwareInfoOptions {
  /** The nvidia-smi program; `nvidia-smi` on the PATH by default. */
  readonly nvidiaSmi?: string;
  /** Milliseconds to wait for nvidia-smi; 5000 by default. */
  readonly timeoutMs?: number;
}

const SMI_FIELDS = 'index,name,memory.total,memory.used,temperature.gpu,utilization.gpu,driver_version';

function num(v: string | undefined): number | null {
  if (v === undefined) return null;
  const n = Number.parseFloat(v);
  return Number.isFinite(n) ? n : null;
}

/**
 * Parse `nvidia-smi --query-gpu=<fields> --format=csv,noheader,nounits` output.
 *
 * @param csv - The program's standard output.
 * @returns One entry per GPU line.
 */
export function parseNvidiaSmi(csv: string): GpuInfo[] {
  return csv
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map((line) => {
      const f = line.split(',').map((x) => x.trim());
      return {
        index: num(f[0]) ?? 0,
        name: f[1] ?? 'unknown',
        memoryTotalMiB: num(f[2]) ?? 0,
        memoryUsedMiB: num(f[3]) ?? 0,
        temperatureC: num(f[4]),
        utilizationPercent: num(f[5]),
        driverVersion: f[6] ?? '',
      };
    });
}

/**
 * Ask nvidia-smi about NVIDIA GPUs.
 *
 * @param options - Program path and timeout.
 * @returns The GPUs and, when there are none, why.
 */
export function queryNvidiaGpus(
  options: HardwareInfoOptions = {},
): Promise<{ gpus: GpuInfo[]; note: string | null }> {
  return new Promise((resolve) => {
    execFile(
      options.nvidiaSmi ?? 'nvidia-smi',
      [`--query-gpu=${SMI_FIELDS}`, '--format=csv,noheader,nounits'],
      { timeout: options.timeoutMs ?? 5000 },
      (err, stdout) => {
        if (err) {
          const code = (err as NodeJS.ErrnoException).code;
          const note =
            code === 'ENOENT'
              ? 'no NVIDIA GPU (nvidia-smi not found)'
              : `nvidia-smi failed: ${err.message.split('\n')[0]}`;
          resolve({ gpus: [], note });
          return;
        }
        const gpus = parseNvidiaSmi(stdout);
        resolve({ gpus, note: gpus.length === 0 ? 'nvidia-smi lists no GPU' : null });
      },
    );
  });
}

/**
 * Report the encoders, hardware accelerations and GPUs available here.
 *
 * @param options - nvidia-smi location and timeout.
 * @returns The report; every part degrades to an empty list with a note, never an error.
 * @example
 * ```ts
 * const hw = await hardwareInfo()
 * console.log(hw.nvenc.usable ? 'NVENC' : `libx264 (${hw.nvenc.reason})`)
 * ```
 */
export async function hardwareInfo(options: HardwareInfoOptions = {}): Promise<HardwareInfo> {
  const av = await loadNodeAv();
  const videoEncoders: string[] = [];
  const hardwareEncoders: string[] = [];
  for (const codec of av.Codec.getCodecList()) {
    if (!codec.isEncoder() || codec.type !== av.AVMEDIA_TYPE_VIDEO || codec.name === null) continue;
    videoEncoders.push(codec.name);
    if (
      codec.hasHardwareAcceleration() ||
      /_(nvenc|vaapi|qsv|amf|videotoolbox|v4l2m2m|vulkan|mf)$/.test(codec.name)
    ) {
      hardwareEncoders.push(codec.name);
    }
  }
  const [smi, nvenc] = await Promise.all([queryNvidiaGpus(options), checkEncoder('h264_nvenc')]);
  return {
    videoEncoders: videoEncoders.sort(),
    hardwareEncoders: hardwareEncoders.sort(),
    hwaccels: av.HardwareDeviceContext.iterateTypes()
      .map((t) => av.HardwareDeviceContext.getTypeName(t))
      .filter((n): n is NonNullable<typeof n> => n !== null),
    gpus: smi.gpus,
    gpuNote: smi.note,
    nvenc,
  };
}

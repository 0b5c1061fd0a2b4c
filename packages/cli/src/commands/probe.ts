import { probe } from '@framecraft/io';
import { formatProbe } from '../format-probe.ts';

/** Options of `framecraft probe`. */
export interface ProbeCommandOptions {
  readonly json?: boolean;
  readonly keyframes?: boolean;
}

/**
 * Print what a media file contains.
 *
 * @param file - The input.
 * @param options - JSON output and keyframe scan.
 */
export async function probeCommand(file: string, options: ProbeCommandOptions): Promise<void> {
  const info = await probe(file, { keyframes: options.keyframes ?? false });
  process.stdout.write(options.json ? `${JSON.stringify(info, null, 2)}\n` : `${formatProbe(info)}\n`);
}

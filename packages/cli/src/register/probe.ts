import type { Command } from '@commander-js/extra-typings';
import { OUTPUT_FLAGS } from '../flags.ts';

/**
 * Add `framecraft probe`.
 *
 * @param program - The root command.
 */
export function registerProbe(program: Command): void {
  program
    .command('probe')
    .description('Show the container, duration and every stream of a media file.')
    .argument('<file>', 'media file')
    .option(OUTPUT_FLAGS.json.flags, 'print JSON instead of a table')
    .option('--keyframes', 'scan packets for keyframe times and an exact frame count')
    .action(async (file, opts) => (await import('../commands/probe.ts')).probeCommand(file, opts));
}

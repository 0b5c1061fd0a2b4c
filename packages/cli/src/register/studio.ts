import { type Command, Option } from '@commander-js/extra-typings';
import { collect, FARM_FLAGS, integer } from '../flags.ts';

/**
 * Add `framecraft studio`.
 *
 * @param program - The root command.
 */
export function registerStudio(program: Command): void {
  program
    .command('studio')
    .description(
      'Serve Framecraft Studio, the web UI (dashboard, queue, style lab, trainer, settings), on 127.0.0.1.',
    )
    .addOption(
      new Option('--port <n>', 'port (default 7860; 0 picks a free one)').argParser(integer(0, 65535)),
    )
    .option('--host <address>', 'listen address (default 127.0.0.1; others get a warning)')
    .option(
      '--root <dir>',
      'a folder the studio may read and write, repeatable (default: the current folder)',
      collect,
    )
    .option(
      FARM_FLAGS.queue.flags,
      "render the queue's jobs on the farm behind this Redis (see framecraft worker)",
    )
    .option(FARM_FLAGS.shared.flags, FARM_FLAGS.shared.help)
    .action(async (opts) => (await import('../commands/studio.ts')).studioCommand(opts));
}

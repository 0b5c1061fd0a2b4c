import { type Command, Option } from '@commander-js/extra-typings';
import { decimal, integer } from '../flags.ts';

/**
 * Add `framecraft worker`.
 *
 * @param program - The root command.
 */
export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('Render chunks for the farm behind a Redis address (see render --queue) until stopped.')
    .requiredOption('--queue <redis-url>', "the farm's Redis, redis://host:port")
    .addOption(
      new Option('--concurrency <n>', 'CPU-style chunks at once (default: CPU count)').argParser(
        integer(1, 256),
      ),
    )
    .option(
      '--resources <list>',
      'queues to serve: cpu, gpu or cpu,gpu (default: cpu, plus gpu when nvidia-smi finds one)',
    )
    .addOption(new Option('--threads <n>', 'CPU threads per chunk for the style').argParser(integer(1, 256)))
    .addOption(
      new Option('--lock-seconds <s>', "how soon a dead worker's chunk is taken over (default 30)").argParser(
        decimal(1, 3600),
      ),
    )
    .addOption(
      new Option(
        '--stalled-seconds <s>',
        'how often to look for chunks of dead workers (default 30)',
      ).argParser(decimal(0.5, 3600)),
    )
    .option('--json', 'events as JSON lines on stdout')
    .option('--verbose', 'show the log on stderr')
    .action(async (opts) => (await import('../commands/worker.ts')).workerCommand(opts));
}

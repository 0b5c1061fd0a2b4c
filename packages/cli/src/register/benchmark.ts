import { type Command, Option } from '@commander-js/extra-typings';
import { collect, decimal, ENCODER_FLAGS, integer, STYLE_FLAGS } from '../flags.ts';

/**
 * Add `framecraft benchmark`.
 *
 * @param program - The root command.
 */
export function registerBenchmark(program: Command): void {
  program
    .command('benchmark')
    .description('Decode, stylize and encode fps measured separately, plus peak memory.')
    .argument('<input>', 'source video')
    .requiredOption(STYLE_FLAGS.style.flags, 'style')
    .option(STYLE_FLAGS.stylePreset.flags, STYLE_FLAGS.stylePreset.help)
    .option(STYLE_FLAGS.option.flags, STYLE_FLAGS.option.help, collect)
    .option(STYLE_FLAGS.model.flags, STYLE_FLAGS.model.help)
    .addOption(new Option('--frames <n>', 'frames measured (default 120)').argParser(integer(1, 100000)))
    .option(ENCODER_FLAGS.codec.flags, 'encoder (default libx264)')
    .option(ENCODER_FLAGS.encoderPreset.flags, 'encoder preset (default veryfast)')
    .addOption(
      new Option(ENCODER_FLAGS.crf.flags, 'constant rate factor (default 23)').argParser(decimal(0, 51)),
    )
    .option('--json', 'result as JSON on stdout')
    .action(async (input, opts) => (await import('../commands/benchmark.ts')).benchmarkCommand(input, opts));
}

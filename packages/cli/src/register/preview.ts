import { type Command, Option } from '@commander-js/extra-typings';
import { collect, decimal, integer, STYLE_FLAGS } from '../flags.ts';

/**
 * Add `framecraft preview`.
 *
 * @param program - The root command.
 */
export function registerPreview(program: Command): void {
  program
    .command('preview')
    .description('Stylized frames beside their originals (PNG) and a short low-resolution clip, in seconds.')
    .argument('<input>', 'source video')
    .requiredOption(STYLE_FLAGS.style.flags, 'style')
    .option(STYLE_FLAGS.stylePreset.flags, STYLE_FLAGS.stylePreset.help)
    .option(STYLE_FLAGS.option.flags, STYLE_FLAGS.option.help, collect)
    .option(STYLE_FLAGS.model.flags, STYLE_FLAGS.model.help)
    .option('--at <time>', 'start: seconds or [hh:]mm:ss (default 0)')
    .addOption(new Option('--frames <n>', 'frames written as PNG (default 4)').argParser(integer(1, 100)))
    .addOption(
      new Option('--seconds <s>', 'length of the preview clip (default 2)').argParser(decimal(0.1, 60)),
    )
    .option('--out <dir>', 'output folder', 'preview')
    .addOption(new Option('--seed <n>', 'seed').argParser(integer(0, 2 ** 31 - 1)))
    .option('--json', 'result as JSON on stdout')
    .action(async (input, opts) => (await import('../commands/preview.ts')).previewCommand(input, opts));
}

import { type Command, Option } from '@commander-js/extra-typings';
import { collect, integer, STYLE_FLAGS } from '../flags.ts';

/**
 * Add `framecraft autotune`.
 *
 * @param program - The root command.
 */
export function registerAutotune(program: Command): void {
  program
    .command('autotune')
    .description(
      "Grid-search a style's parameters on sampled frames, scored by metrics; --save keeps the best as a preset.",
    )
    .argument('<input>', 'source video')
    .requiredOption(STYLE_FLAGS.style.flags, 'style')
    .option('--param <name=v1,v2,...>', 'a parameter and its candidate values, repeatable', collect)
    .option(STYLE_FLAGS.option.flags, 'a fixed style option, repeatable', collect)
    .option(
      '--objective <metric:max|min>',
      'ssim, edge_coherence, sharpness, psnr, temporal_consistency or warping_error (default ssim:max)',
    )
    .option('--constraint <metric<=x|metric>=x>', 'a bound the winner must meet, repeatable', collect)
    .addOption(
      new Option('--samples <n>', 'points of the video sampled (default 6)').argParser(integer(1, 100)),
    )
    .option('--save <preset>', 'save the best as a user preset')
    .option('--json', 'result as JSON on stdout')
    .action(async (input, opts) => (await import('../commands/autotune.ts')).autotuneCommand(input, opts));
}

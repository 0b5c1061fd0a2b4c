import { type Command, Option } from '@commander-js/extra-typings';
import {
  collect,
  decimal,
  ENCODER_FLAGS,
  FARM_FLAGS,
  integer,
  OUTPUT_FLAGS,
  STYLE_FLAGS,
  TEMPORAL_MODES,
} from '../flags.ts';

/**
 * Add `framecraft render` (one video, or with `--out-dir` a batch).
 *
 * @param program - The root command.
 */
export function registerRender(program: Command): void {
  program
    .command('render')
    .description(
      'Stylize a whole video in resumable chunks (audio, subtitles and chapters carried over); with --out-dir, every video of files, folders and globs.',
    )
    .argument(
      '<paths...>',
      '<input> <output> (.mp4, .m4v, .mov, .mkv, .webm; appears only when complete), or with --out-dir: inputs (files, folders, globs)',
    )
    .option(
      '--out-dir <dir>',
      'render every input into this folder as <name>-<style>.<ext>; existing outputs are skipped',
    )
    .option('--recursive', 'with --out-dir: also the videos in subfolders (their layout is kept)')
    .option(
      '--watch',
      'with --out-dir: keep watching the input folders and render each new video once it stops growing',
    )
    .addOption(
      new Option(
        '--poll <seconds>',
        'with --watch: how often the folders are looked at (default 2)',
      ).argParser(decimal(0.1, 3600)),
    )
    .addOption(
      new Option(
        '--settle <seconds>',
        "with --watch: how long a new file's size must hold still before it is rendered (default 3)",
      ).argParser(decimal(0, 3600)),
    )
    .option(
      STYLE_FLAGS.style.flags,
      'style: pencil, color-pencil, cartoon, comic, cinematic, … (or from the preset)',
    )
    .option('--preset <name>', 'render preset: speed, balanced (default), quality, or one of yours')
    .option(
      STYLE_FLAGS.stylePreset.flags,
      "the style's own speed/balanced/quality setting (default: --preset)",
    )
    .option(STYLE_FLAGS.option.flags, STYLE_FLAGS.option.help, collect)
    .option(STYLE_FLAGS.model.flags, STYLE_FLAGS.model.help)
    .addOption(new Option('--seed <n>', 'seed for everything random').argParser(integer(0, 2 ** 31 - 1)))
    .addOption(new Option('--chunk-duration <seconds>', 'chunk length').argParser(decimal(0.5, 3600)))
    .addOption(new Option(ENCODER_FLAGS.crf.flags, 'constant rate factor').argParser(decimal(0, 51)))
    .option(ENCODER_FLAGS.codec.flags, ENCODER_FLAGS.codec.help)
    .option(ENCODER_FLAGS.encoderPreset.flags, ENCODER_FLAGS.encoderPreset.help)
    .addOption(
      new Option('--workers <n>', 'chunks rendered at once (default: CPU count)').argParser(integer(0, 256)),
    )
    .addOption(
      new Option(
        '--temporal <mode>',
        "temporal coherence: flow (follows motion; the neural default), ema or off (default: the style's choice)",
      ).choices(TEMPORAL_MODES),
    )
    .option('--no-temporal', 'turn temporal smoothing off (same as --temporal off)')
    .option(
      '--flow-at-style-scale',
      'flow mode with a style painting reduced frames (neural --option scale=0.5): stabilize those, ' +
        'about a third of the cost, softer moving texture',
    )
    .option('--no-reproducible', 'smaller files (x264 mb-tree on); chunks may then differ run to run')
    .option('--no-fallback', 'fail when the style cannot load its model, instead of rendering with cartoon')
    .option('--metrics', 'write per-frame metrics (JSON lines) and a summary beside the output')
    .option('--restart', 'discard an unfinished render of this output and start over')
    .option('--verbose', 'show the render log on stderr (it always goes to <data folder>/logs)')
    .option(OUTPUT_FLAGS.overwrite.flags, OUTPUT_FLAGS.overwrite.help)
    .option(OUTPUT_FLAGS.jsonLines.flags, OUTPUT_FLAGS.jsonLines.help)
    .option(FARM_FLAGS.queue.flags, `${FARM_FLAGS.queue.help} instead of here`)
    .option(
      FARM_FLAGS.shared.flags,
      'with --queue: a folder every worker sees at the same path, for the work folder',
    )
    .option('--detach', 'with --queue: return once queued (run again without it to follow)')
    .addOption(
      new Option('--resource <class>', 'with --queue: the queue for the chunks').choices([
        'cpu',
        'gpu',
      ] as const),
    )
    .action(async (paths, opts) => (await import('../commands/render.ts')).renderCommand(paths, opts));
}

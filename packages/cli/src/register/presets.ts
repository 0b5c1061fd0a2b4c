import { type Command, Option } from '@commander-js/extra-typings';
import { collect, decimal, ENCODER_FLAGS, OUTPUT_FLAGS, STYLE_FLAGS, TEMPORAL_MODES } from '../flags.ts';

const commands = (): Promise<typeof import('../commands/presets.ts')> => import('../commands/presets.ts');

/**
 * Add `framecraft presets` and its subcommands.
 *
 * @param program - The root command.
 */
export function registerPresets(program: Command): void {
  const presets = program
    .command('presets')
    .description('List, show, save and delete render presets (YAML).');
  presets
    .command('list')
    .description('Built-in and user presets.')
    .option(OUTPUT_FLAGS.json.flags, OUTPUT_FLAGS.json.help)
    .action(async (opts) => (await commands()).presetsListCommand(opts));
  presets
    .command('show')
    .description("A preset's fields as YAML.")
    .argument('<name>', 'preset name')
    .option(OUTPUT_FLAGS.json.flags, OUTPUT_FLAGS.json.help)
    .action(async (name, opts) => (await commands()).presetsShowCommand(name, opts));
  presets
    .command('save')
    .description('Save a user preset: another preset (--from, default balanced) with fields changed.')
    .argument('<name>', 'new preset name (lower-case letters, digits, . _ -)')
    .option('--from <preset>', 'start from this preset')
    .option('--description <text>', 'what the preset is for')
    .option(ENCODER_FLAGS.codec.flags, 'encoder')
    .addOption(new Option(ENCODER_FLAGS.crf.flags, 'constant rate factor').argParser(decimal(0, 51)))
    .option(ENCODER_FLAGS.encoderPreset.flags, ENCODER_FLAGS.encoderPreset.help)
    .addOption(new Option('--chunk-duration <seconds>', 'chunk length').argParser(decimal(0.5, 3600)))
    .addOption(
      new Option('--temporal <mode>', 'temporal coherence: flow, ema or off').choices(TEMPORAL_MODES),
    )
    .option('--no-temporal', 'no temporal smoothing')
    .option(STYLE_FLAGS.style.flags, 'a style the preset selects')
    .option(STYLE_FLAGS.option.flags, 'a style option, repeatable', collect)
    .option(OUTPUT_FLAGS.json.flags, OUTPUT_FLAGS.json.help)
    .action(async (name, opts) => (await commands()).presetsSaveCommand(name, opts));
  presets
    .command('delete')
    .description('Delete a user preset.')
    .argument('<name>', 'preset name')
    .option(OUTPUT_FLAGS.json.flags, OUTPUT_FLAGS.json.help)
    .action(async (name, opts) => (await commands()).presetsDeleteCommand(name, opts));
}

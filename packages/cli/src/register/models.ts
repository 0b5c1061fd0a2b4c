import { type Command, Option } from '@commander-js/extra-typings';
import { integer, OUTPUT_FLAGS } from '../flags.ts';

const commands = (): Promise<typeof import('../commands/models.ts')> => import('../commands/models.ts');

/** The model and layout flags of `models add` and `models download`. */
function withLayoutFlags<A extends unknown[]>(c: Command<A>) {
  return c
    .option('--name <name>', 'model name (default: the file name)')
    .option('--version <v>', 'version (default: the next vN)')
    .option('--description <text>', 'what the model does')
    .addOption(new Option('--layout <layout>', 'tensor layout').choices(['nchw', 'nhwc'] as const))
    .addOption(new Option('--channels <order>', 'channel order').choices(['rgb', 'bgr'] as const))
    .option('--range <max>', 'value range: 255 or 1')
    .option(OUTPUT_FLAGS.json.flags, OUTPUT_FLAGS.json.help);
}

/**
 * Add `framecraft models` and its subcommands.
 *
 * @param program - The root command.
 */
export function registerModels(program: Command): void {
  const models = program
    .command('models')
    .description(
      'ONNX style models in the data folder: list, add, download, quantize, verify, remove, promote.',
    );
  models
    .command('list')
    .description('Installed models and versions.')
    .option(OUTPUT_FLAGS.json.flags, OUTPUT_FLAGS.json.help)
    .action(async (opts) => (await commands()).modelsListCommand(opts));
  withLayoutFlags(
    models
      .command('add')
      .description('Install a model file (ONNX Runtime must load it).')
      .argument('<file>', '.onnx file'),
  ).action(async (file, opts) => (await commands()).modelsAddCommand(file, opts));
  withLayoutFlags(
    models
      .command('download')
      .description(
        'Download a model by catalog name (models/catalog.json) or URL: progress, resume, sha256 check, atomic install.',
      )
      .argument('<name|url>', 'a name listed in <data folder>/models/catalog.json, or a URL'),
  )
    .option('--sha256 <hex>', 'expected SHA-256 (from the catalog for a name)')
    .action(async (url, opts) => (await commands()).modelsDownloadCommand(url, opts));
  models
    .command('verify')
    .description('Check every model file against its manifest (size, sha256).')
    .option(OUTPUT_FLAGS.json.flags, OUTPUT_FLAGS.json.help)
    .action(async (opts) => (await commands()).modelsVerifyCommand(opts));
  models
    .command('remove')
    .description('Remove a model (every version, or one).')
    .argument('<name>', 'model name')
    .option('--version <v>', 'only this version')
    .option(OUTPUT_FLAGS.json.flags, OUTPUT_FLAGS.json.help)
    .action(async (name, opts) => (await commands()).modelsRemoveCommand(name, opts));
  models
    .command('quantize')
    .description(
      'Make an int8 version of a model: calibrated on frames of your clips, its quality to the float model measured on frames it did not see, registered as the next version and promoted when it holds SSIM >= 0.97 and PSNR >= 32 dB and runs faster.',
    )
    .argument('<name[@version]>', 'the float model')
    .option('--calibrate <clips...>', 'video files to calibrate on (default: the built-in sample)')
    .addOption(
      new Option('--frames <n>', 'frames taken from each clip, half calibrating, half held out')
        .argParser(integer(2, Number.MAX_SAFE_INTEGER))
        .default(12),
    )
    .addOption(
      new Option('--height <lines>', 'height the frames are scaled to')
        .argParser(integer(2, Number.MAX_SAFE_INTEGER))
        .default(360),
    )
    .addOption(
      new Option('--promote <policy>', 'auto: when it holds the bounds and is faster').choices([
        'auto',
        'never',
        'always',
      ] as const),
    )
    .option(OUTPUT_FLAGS.json.flags, OUTPUT_FLAGS.json.help)
    .action(async (ref, opts) => (await commands()).modelsQuantizeCommand(ref, opts));
  models
    .command('promote')
    .description('Make a version the one renders use when they name the model without a version.')
    .argument('<name@version>', 'model and version')
    .option(OUTPUT_FLAGS.json.flags, OUTPUT_FLAGS.json.help)
    .action(async (ref, opts) => (await commands()).modelsPromoteCommand(ref, opts));
}

import { type Command, Option } from '@commander-js/extra-typings';
import { collect, decimal, integer, OUTPUT_FLAGS, STYLE_FLAGS } from '../flags.ts';

const commands = (): Promise<typeof import('../commands/train.ts')> => import('../commands/train.ts');

/**
 * Add `framecraft train` and `framecraft feedback`.
 *
 * @param program - The root command.
 */
export function registerTrain(program: Command): void {
  program
    .command('train')
    .description(
      'Fine-tune a style model or teach a small student from input/target pairs (PyTorch), export ONNX, check it, register it and promote it unless it regresses.',
    )
    .option('--pairs <dir>', 'pairs as <dir>/input/NAME.png + <dir>/target/NAME.png (optional shots.json)')
    .option('--from-feedback', "approved judgements from the style lab's feedback log")
    .option('--teacher <style>', 'make pairs with a style (distillation / teach by example); needs --clip')
    .option('--clip <video>', 'the clip the teacher stylizes')
    .addOption(
      new Option('--keyframes <n>', 'frames of the clip the teacher stylizes (default 8)').argParser(
        integer(1, 1000),
      ),
    )
    .option(STYLE_FLAGS.option.flags, 'a teacher style option, repeatable', collect)
    .option('--base <model>', 'the model to fine-tune: a registered name (name@version) or an .onnx file')
    .option('--student', 'train a small student network from scratch instead of fine-tuning')
    .requiredOption('--name <model>', 'register the result under this model name')
    .addOption(new Option('--steps <n>', 'optimiser steps').argParser(integer(1, 1_000_000)))
    .addOption(new Option('--lr <rate>', 'Adam learning rate').argParser(decimal(0, 1)))
    .addOption(new Option('--batch <n>', 'pairs per step (default 4)').argParser(integer(1, 256)))
    .addOption(new Option('--crop <px>', 'training crop side (default 128)').argParser(integer(16, 4096)))
    .addOption(
      new Option(
        '--loss <kind>',
        'loss: mse (default), l1, or ssim (0.84 × (1 − luma SSIM) + 0.16 × L1)',
      ).choices(['mse', 'l1', 'ssim'] as const),
    )
    .addOption(
      new Option('--temporal-weight <w>', 'weight of the frame-difference term (default 0)').argParser(
        decimal(0, 100),
      ),
    )
    .addOption(
      new Option('--validate-every <n>', 'steps between validations (default 25)').argParser(
        integer(1, 1_000_000),
      ),
    )
    .addOption(
      new Option('--patience <n>', 'validations without gain before stopping (default 5)').argParser(
        integer(1, 1000),
      ),
    )
    .addOption(
      new Option('--promote <when>', 'auto: unless it regresses on held-out pairs (default)').choices([
        'auto',
        'always',
        'never',
      ] as const),
    )
    .option(
      '--quantize <clips...>',
      'also make an int8 version calibrated on these clips (see models quantize); promoted with the float one when it holds the bounds',
    )
    .option('--work <dir>', 'run folder (default <data folder>/training/<name>); a rerun resumes there')
    .option('--json', 'events as JSON lines on stdout')
    .action(async (opts) => (await commands()).trainCommand(opts));

  const feedback = program
    .command('feedback')
    .description("The style lab's feedback log: approve pairs, list judgements.");
  feedback
    .command('approve')
    .description('Record an input frame and an approved stylized version of it (a training pair).')
    .argument('<input>', 'the source frame (PNG, JPEG, WebP)')
    .argument('<target>', 'the approved stylized frame')
    .option(STYLE_FLAGS.style.flags, 'the style that made the target')
    .option('--clip <video>', 'the clip the frame comes from')
    .addOption(new Option('--frame <n>', 'frame index in the clip').argParser(integer(0, 1e9)))
    .option('--shot <id>', 'shot id (pairs of one shot never land on both sides of the split)')
    .option('--note <text>', 'a note')
    .option(OUTPUT_FLAGS.json.flags, OUTPUT_FLAGS.json.help)
    .action(async (input, target, opts) => (await commands()).feedbackApproveCommand(input, target, opts));
  feedback
    .command('list')
    .description('Every judgement in the log.')
    .option(OUTPUT_FLAGS.json.flags, OUTPUT_FLAGS.json.help)
    .action(async (opts) => (await commands()).feedbackListCommand(opts));
}

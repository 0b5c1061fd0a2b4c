import { Command, InvalidArgumentError, Option } from 'commander';
import { demoCommand } from './commands/demo.ts';
import { probeCommand } from './commands/probe.ts';
import { transcodeCommand } from './commands/transcode.ts';

function integer(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer in [${min}, ${max}]`);
    return n;
  };
}

/**
 * Build the `framecraft` command line.
 *
 * @param version - Version printed by `--version`.
 * @returns The commander program; call `parseAsync`.
 */
export function createProgram(version: string): Command {
  const program = new Command('framecraft')
    .description('Offline video stylization toolkit.')
    .version(version)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('probe')
    .description('Show the container, duration and every stream of a media file.')
    .argument('<file>', 'media file')
    .option('--json', 'print JSON instead of a table')
    .option('--keyframes', 'scan packets for keyframe times and an exact frame count')
    .action((file: string, opts: { json?: boolean; keyframes?: boolean }) => probeCommand(file, opts));

  program
    .command('transcode')
    .description('Decode every frame and encode it again, carrying audio, subtitles and metadata over.')
    .argument('<input>', 'source video')
    .argument('<output>', 'destination (.mp4, .mkv, .mov); written only when complete')
    .addOption(
      new Option('--codec <name>', 'encoder: libx264, libx265, h264_nvenc, hevc_nvenc, auto, …').default(
        'libx264',
      ),
    )
    .addOption(
      new Option('--crf <n>', 'constant rate factor (quality, lower is better)').argParser(integer(0, 63)),
    )
    .option('--preset <name>', 'encoder preset (ultrafast … veryslow)')
    .option('--lossless', 'lossless encoding')
    .option('--overwrite', 'replace the output file if it exists')
    .option('--json', 'progress and result as JSON lines on stdout')
    .action((input: string, output: string, opts: Record<string, unknown>) =>
      transcodeCommand(input, output, opts),
    );

  program
    .command('demo')
    .description('Generate a sample clip with audio and run the main job on it.')
    .option('--out <dir>', 'folder for the sample and results', 'demo-output')
    .option('--json', 'progress and result as JSON lines on stdout')
    .action((opts: { out?: string; json?: boolean }) => demoCommand(opts));

  return program;
}

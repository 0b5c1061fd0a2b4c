import { type Command, Option } from '@commander-js/extra-typings';
import { ENCODER_FLAGS, integer, OUTPUT_FLAGS } from '../flags.ts';

/**
 * Add `framecraft transcode`.
 *
 * @param program - The root command.
 */
export function registerTranscode(program: Command): void {
  program
    .command('transcode')
    .description('Decode every frame and encode it again, carrying audio, subtitles and metadata over.')
    .argument('<input>', 'source video')
    .argument('<output>', 'destination (.mp4, .m4v, .mov, .mkv, .webm); written only when complete')
    .option(
      ENCODER_FLAGS.codec.flags,
      'encoder: libx264 (default; libvpx-vp9 for .webm), libx265, h264_nvenc, hevc_nvenc, libsvtav1, auto, …',
    )
    .addOption(new Option(ENCODER_FLAGS.crf.flags, ENCODER_FLAGS.crf.help).argParser(integer(0, 63)))
    .option('--preset <name>', 'encoder preset (ultrafast … veryslow)')
    .option('--lossless', 'lossless encoding')
    .option(OUTPUT_FLAGS.overwrite.flags, OUTPUT_FLAGS.overwrite.help)
    .option(OUTPUT_FLAGS.jsonLines.flags, OUTPUT_FLAGS.jsonLines.help)
    .action(async (input, output, opts) =>
      (await import('../commands/transcode.ts')).transcodeCommand(input, output, opts),
    );
}

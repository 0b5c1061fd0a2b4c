// Flags several commands share, written once: their spelling and help text, and the parsers of
// numeric values. Commands add them with `.option(FLAG.flags, FLAG.help)`, which keeps commander's
// inferred option types (a helper that added them to any command would have to erase them).
import { InvalidArgumentError } from '@commander-js/extra-typings';

/**
 * A parser for an integer flag in [min, max].
 *
 * @param min - Smallest value.
 * @param max - Largest value.
 * @returns The parser commander calls.
 */
export function integer(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer in [${min}, ${max}]`);
    return n;
  };
}

/**
 * A parser for a number flag in [min, max].
 *
 * @param min - Smallest value.
 * @param max - Largest value.
 * @returns The parser commander calls.
 */
export function decimal(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected a number in [${min}, ${max}]`);
    return n;
  };
}

/**
 * The parser of a repeatable flag: each use adds its value.
 *
 * @param value - This use's value.
 * @param previous - The values so far.
 * @returns All values.
 */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The flags of every command that runs a style (with `--style`, which some commands require). */
export const STYLE_FLAGS = {
  style: {
    flags: '--style <name>',
    help: 'style: pencil, color-pencil, cartoon, comic, cinematic, neural, …',
  },
  stylePreset: { flags: '--style-preset <name>', help: "the style's own speed/balanced/quality setting" },
  option: {
    flags: '--option <key=value>',
    help: 'a style option, repeatable (for example --option sigma=8)',
  },
  model: {
    flags: '--model <name|path>',
    help: 'the ONNX model of --style neural: a registered name (name or name@version) or a file',
  },
} as const;

/** The flags of the encoder settings. */
export const ENCODER_FLAGS = {
  codec: {
    flags: '--codec <name>',
    help: 'encoder: auto (NVENC when it works, else libx264; VP9 for .webm), libx264, h264_nvenc, libvpx-vp9, libsvtav1, …',
  },
  encoderPreset: { flags: '--encoder-preset <name>', help: 'encoder preset (ultrafast … veryslow)' },
  crf: { flags: '--crf <n>', help: 'constant rate factor (quality, lower is better)' },
} as const;

/** Output flags most commands have. */
export const OUTPUT_FLAGS = {
  json: { flags: '--json', help: 'print JSON' },
  jsonLines: { flags: '--json', help: 'progress and result as JSON lines on stdout' },
  overwrite: { flags: '--overwrite', help: 'replace the output file if it exists' },
  verbose: { flags: '--verbose', help: 'show the log on stderr (it always goes to <data folder>/logs)' },
} as const;

/** The farm flags of commands that can render on a farm. */
export const FARM_FLAGS = {
  queue: { flags: '--queue <redis-url>', help: 'render on the farm behind this Redis (redis://host:port)' },
  shared: {
    flags: '--shared <dir>',
    help: 'with --queue: a folder every worker sees at the same path, for work folders',
  },
} as const;

/** The values `--temporal` takes. */
export const TEMPORAL_MODES = ['flow', 'ema', 'off'] as const;

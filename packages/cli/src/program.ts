import { Command, InvalidArgumentError, Option } from 'commander';
import type { autotuneCommand } from './commands/autotune.ts';
import type { benchmarkCommand } from './commands/benchmark.ts';
import type { modelsDownloadCommand } from './commands/models.ts';
import type { presetsSaveCommand } from './commands/presets.ts';
import type { previewCommand } from './commands/preview.ts';
import type { renderCommand } from './commands/render.ts';
import type { trainCommand } from './commands/train.ts';
import type { workerCommand } from './commands/worker.ts';

// Each command's module, and the packages behind it (the farm's Redis client, the studio's web
// server, sharp, PyTorch's driver), loads only when that command runs: importing all of them up
// front cost ~175 ms of every `render` on this machine (266 ms against ~90 ms for the pipeline).
const commands = {
  autotune: () => import('./commands/autotune.ts'),
  benchmark: () => import('./commands/benchmark.ts'),
  demo: () => import('./commands/demo.ts'),
  models: () => import('./commands/models.ts'),
  presets: () => import('./commands/presets.ts'),
  preview: () => import('./commands/preview.ts'),
  probe: () => import('./commands/probe.ts'),
  render: () => import('./commands/render.ts'),
  studio: () => import('./commands/studio.ts'),
  train: () => import('./commands/train.ts'),
  transcode: () => import('./commands/transcode.ts'),
  worker: () => import('./commands/worker.ts'),
};

function integer(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer in [${min}, ${max}]`);
    return n;
  };
}

function decimal(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected a number in [${min}, ${max}]`);
    return n;
  };
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

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
    .action(async (file: string, opts: { json?: boolean; keyframes?: boolean }) =>
      (await commands.probe()).probeCommand(file, opts),
    );

  program
    .command('transcode')
    .description('Decode every frame and encode it again, carrying audio, subtitles and metadata over.')
    .argument('<input>', 'source video')
    .argument('<output>', 'destination (.mp4, .m4v, .mov, .mkv, .webm); written only when complete')
    .addOption(
      new Option(
        '--codec <name>',
        'encoder: libx264 (default; libvpx-vp9 for .webm), libx265, h264_nvenc, hevc_nvenc, libsvtav1, auto, …',
      ),
    )
    .addOption(
      new Option('--crf <n>', 'constant rate factor (quality, lower is better)').argParser(integer(0, 63)),
    )
    .option('--preset <name>', 'encoder preset (ultrafast … veryslow)')
    .option('--lossless', 'lossless encoding')
    .option('--overwrite', 'replace the output file if it exists')
    .option('--json', 'progress and result as JSON lines on stdout')
    .action(async (input: string, output: string, opts: Record<string, unknown>) =>
      (await commands.transcode()).transcodeCommand(input, output, opts),
    );

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
      '--style <name>',
      'style: pencil, color-pencil, cartoon, comic, cinematic, … (or from the preset)',
    )
    .option('--preset <name>', 'render preset: speed, balanced (default), quality, or one of yours')
    .option('--style-preset <name>', "the style's own speed/balanced/quality setting (default: --preset)")
    .option('--option <key=value>', 'a style option, repeatable (for example --option sigma=8)', collect)
    .option(
      '--model <name|path>',
      'the ONNX model of --style neural: a registered name (name or name@version) or a file',
    )
    .addOption(new Option('--seed <n>', 'seed for everything random').argParser(integer(0, 2 ** 31 - 1)))
    .addOption(new Option('--chunk-duration <seconds>', 'chunk length').argParser(decimal(0.5, 3600)))
    .addOption(new Option('--crf <n>', 'constant rate factor').argParser(decimal(0, 51)))
    .option(
      '--codec <name>',
      'encoder: auto (NVENC when it works, else libx264; VP9 for .webm), libx264, h264_nvenc, libvpx-vp9, libsvtav1, …',
    )
    .option('--encoder-preset <name>', 'encoder preset (ultrafast … veryslow)')
    .addOption(
      new Option('--workers <n>', 'chunks rendered at once (default: CPU count)').argParser(integer(0, 256)),
    )
    .addOption(
      new Option(
        '--temporal <mode>',
        "temporal coherence: flow (follows motion; the neural default), ema or off (default: the style's choice)",
      ).choices(['flow', 'ema', 'off']),
    )
    .option('--no-temporal', 'turn temporal smoothing off (same as --temporal off)')
    .option('--no-reproducible', 'smaller files (x264 mb-tree on); chunks may then differ run to run')
    .option('--no-fallback', 'fail when the style cannot load its model, instead of rendering with cartoon')
    .option('--metrics', 'write per-frame metrics (JSON lines) and a summary beside the output')
    .option('--restart', 'discard an unfinished render of this output and start over')
    .option('--verbose', 'show the render log on stderr (it always goes to <data folder>/logs)')
    .option('--overwrite', 'replace the output file if it exists')
    .option('--json', 'progress and result as JSON lines on stdout')
    .option('--queue <redis-url>', 'render on the farm behind this Redis (redis://host:port) instead of here')
    .option(
      '--shared <dir>',
      'with --queue: a folder every worker sees at the same path, for the work folder',
    )
    .option('--detach', 'with --queue: return once queued (run again without it to follow)')
    .addOption(
      new Option('--resource <class>', 'with --queue: the queue for the chunks').choices(['cpu', 'gpu']),
    )
    .action(async (paths: string[], opts: Record<string, unknown>) =>
      (await commands.render()).renderCommand(paths, opts as unknown as Parameters<typeof renderCommand>[1]),
    );

  program
    .command('worker')
    .description('Render chunks for the farm behind a Redis address (see render --queue) until stopped.')
    .requiredOption('--queue <redis-url>', "the farm's Redis, redis://host:port")
    .addOption(
      new Option('--concurrency <n>', 'CPU-style chunks at once (default: CPU count)').argParser(
        integer(1, 256),
      ),
    )
    .option(
      '--resources <list>',
      'queues to serve: cpu, gpu or cpu,gpu (default: cpu, plus gpu when nvidia-smi finds one)',
    )
    .addOption(new Option('--threads <n>', 'CPU threads per chunk for the style').argParser(integer(1, 256)))
    .addOption(
      new Option('--lock-seconds <s>', "how soon a dead worker's chunk is taken over (default 30)").argParser(
        decimal(1, 3600),
      ),
    )
    .addOption(
      new Option(
        '--stalled-seconds <s>',
        'how often to look for chunks of dead workers (default 30)',
      ).argParser(decimal(0.5, 3600)),
    )
    .option('--json', 'events as JSON lines on stdout')
    .option('--verbose', 'show the log on stderr')
    .action(async (opts: Record<string, unknown>) =>
      (await commands.worker()).workerCommand(opts as unknown as Parameters<typeof workerCommand>[0]),
    );

  program
    .command('preview')
    .description('Stylized frames beside their originals (PNG) and a short low-resolution clip, in seconds.')
    .argument('<input>', 'source video')
    .requiredOption('--style <name>', 'style')
    .option('--style-preset <name>', "the style's speed/balanced/quality setting")
    .option('--option <key=value>', 'a style option, repeatable', collect)
    .option('--model <name|path>', 'the ONNX model of --style neural')
    .option('--at <time>', 'start: seconds or [hh:]mm:ss (default 0)')
    .addOption(new Option('--frames <n>', 'frames written as PNG (default 4)').argParser(integer(1, 100)))
    .addOption(
      new Option('--seconds <s>', 'length of the preview clip (default 2)').argParser(decimal(0.1, 60)),
    )
    .option('--out <dir>', 'output folder', 'preview')
    .addOption(new Option('--seed <n>', 'seed').argParser(integer(0, 2 ** 31 - 1)))
    .option('--json', 'result as JSON on stdout')
    .action(async (input: string, opts: Record<string, unknown>) =>
      (await commands.preview()).previewCommand(
        input,
        opts as unknown as Parameters<typeof previewCommand>[1],
      ),
    );

  program
    .command('benchmark')
    .description('Decode, stylize and encode fps measured separately, plus peak memory.')
    .argument('<input>', 'source video')
    .requiredOption('--style <name>', 'style')
    .option('--style-preset <name>', "the style's speed/balanced/quality setting")
    .option('--option <key=value>', 'a style option, repeatable', collect)
    .option('--model <name|path>', 'the ONNX model of --style neural')
    .addOption(new Option('--frames <n>', 'frames measured (default 120)').argParser(integer(1, 100000)))
    .option('--codec <name>', 'encoder (default libx264)')
    .option('--encoder-preset <name>', 'encoder preset (default veryfast)')
    .addOption(new Option('--crf <n>', 'constant rate factor (default 23)').argParser(decimal(0, 51)))
    .option('--json', 'result as JSON on stdout')
    .action(async (input: string, opts: Record<string, unknown>) =>
      (await commands.benchmark()).benchmarkCommand(
        input,
        opts as unknown as Parameters<typeof benchmarkCommand>[1],
      ),
    );

  program
    .command('autotune')
    .description(
      "Grid-search a style's parameters on sampled frames, scored by metrics; --save keeps the best as a preset.",
    )
    .argument('<input>', 'source video')
    .requiredOption('--style <name>', 'style')
    .option('--param <name=v1,v2,...>', 'a parameter and its candidate values, repeatable', collect)
    .option('--option <key=value>', 'a fixed style option, repeatable', collect)
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
    .action(async (input: string, opts: Record<string, unknown>) =>
      (await commands.autotune()).autotuneCommand(
        input,
        opts as unknown as Parameters<typeof autotuneCommand>[1],
      ),
    );

  const models = program
    .command('models')
    .description('ONNX style models in the data folder: list, add, download, verify, remove.');
  models
    .command('list')
    .description('Installed models and versions.')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => (await commands.models()).modelsListCommand(opts));
  const layoutOptions = (c: Command): Command =>
    c
      .option('--name <name>', 'model name (default: the file name)')
      .option('--version <v>', 'version (default: the next vN)')
      .option('--description <text>', 'what the model does')
      .addOption(new Option('--layout <layout>', 'tensor layout').choices(['nchw', 'nhwc']))
      .addOption(new Option('--channels <order>', 'channel order').choices(['rgb', 'bgr']))
      .option('--range <max>', 'value range: 255 or 1')
      .option('--json', 'print JSON');
  layoutOptions(
    models
      .command('add')
      .description('Install a model file (ONNX Runtime must load it).')
      .argument('<file>', '.onnx file'),
  ).action(async (file: string, opts: Record<string, unknown>) =>
    (await commands.models()).modelsAddCommand(file, opts),
  );
  layoutOptions(
    models
      .command('download')
      .description(
        'Download a model by catalog name (models/catalog.json) or URL: progress, resume, sha256 check, atomic install.',
      )
      .argument('<name|url>', 'a name listed in <data folder>/models/catalog.json, or a URL')
      .option('--sha256 <hex>', 'expected SHA-256 (from the catalog for a name)'),
  ).action(async (url: string, opts: Record<string, unknown>) =>
    (await commands.models()).modelsDownloadCommand(
      url,
      opts as unknown as Parameters<typeof modelsDownloadCommand>[1],
    ),
  );
  models
    .command('verify')
    .description('Check every model file against its manifest (size, sha256).')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => (await commands.models()).modelsVerifyCommand(opts));
  models
    .command('remove')
    .description('Remove a model (every version, or one).')
    .argument('<name>', 'model name')
    .option('--version <v>', 'only this version')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { version?: string; json?: boolean }) =>
      (await commands.models()).modelsRemoveCommand(name, opts),
    );

  models
    .command('promote')
    .description('Make a version the one renders use when they name the model without a version.')
    .argument('<name@version>', 'model and version')
    .option('--json', 'print JSON')
    .action(async (ref: string, opts: { json?: boolean }) =>
      (await commands.models()).modelsPromoteCommand(ref, opts),
    );

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
    .option('--option <key=value>', 'a teacher style option, repeatable', collect)
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
      ).choices(['mse', 'l1', 'ssim']),
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
      ]),
    )
    .option('--work <dir>', 'run folder (default <data folder>/training/<name>); a rerun resumes there')
    .option('--json', 'events as JSON lines on stdout')
    .action(async (opts: Record<string, unknown>) =>
      (await commands.train()).trainCommand(opts as unknown as Parameters<typeof trainCommand>[0]),
    );

  program
    .command('studio')
    .description(
      'Serve Framecraft Studio, the web UI (dashboard, queue, style lab, trainer, settings), on 127.0.0.1.',
    )
    .addOption(
      new Option('--port <n>', 'port (default 7860; 0 picks a free one)').argParser(integer(0, 65535)),
    )
    .option('--host <address>', 'listen address (default 127.0.0.1; others get a warning)')
    .option(
      '--root <dir>',
      'a folder the studio may read and write, repeatable (default: the current folder)',
      collect,
    )
    .option(
      '--queue <redis-url>',
      "render the queue's jobs on the farm behind this Redis (see framecraft worker)",
    )
    .option('--shared <dir>', 'with --queue: a folder every worker sees at the same path, for work folders')
    .action(
      async (opts: { port?: number; host?: string; root?: string[]; queue?: string; shared?: string }) =>
        (await commands.studio()).studioCommand(opts),
    );

  const feedback = program
    .command('feedback')
    .description("The style lab's feedback log: approve pairs, list judgements.");
  feedback
    .command('approve')
    .description('Record an input frame and an approved stylized version of it (a training pair).')
    .argument('<input>', 'the source frame (PNG, JPEG, WebP)')
    .argument('<target>', 'the approved stylized frame')
    .option('--style <name>', 'the style that made the target')
    .option('--clip <video>', 'the clip the frame comes from')
    .addOption(new Option('--frame <n>', 'frame index in the clip').argParser(integer(0, 1e9)))
    .option('--shot <id>', 'shot id (pairs of one shot never land on both sides of the split)')
    .option('--note <text>', 'a note')
    .option('--json', 'print JSON')
    .action(async (input: string, target: string, opts: Record<string, unknown>) =>
      (await commands.train()).feedbackApproveCommand(input, target, opts),
    );
  feedback
    .command('list')
    .description('Every judgement in the log.')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => (await commands.train()).feedbackListCommand(opts));

  const presets = program
    .command('presets')
    .description('List, show, save and delete render presets (YAML).');
  presets
    .command('list')
    .description('Built-in and user presets.')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => (await commands.presets()).presetsListCommand(opts));
  presets
    .command('show')
    .description("A preset's fields as YAML.")
    .argument('<name>', 'preset name')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { json?: boolean }) =>
      (await commands.presets()).presetsShowCommand(name, opts),
    );
  presets
    .command('save')
    .description('Save a user preset: another preset (--from, default balanced) with fields changed.')
    .argument('<name>', 'new preset name (lower-case letters, digits, . _ -)')
    .option('--from <preset>', 'start from this preset')
    .option('--description <text>', 'what the preset is for')
    .option('--codec <name>', 'encoder')
    .addOption(new Option('--crf <n>', 'constant rate factor').argParser(decimal(0, 51)))
    .option('--encoder-preset <name>', 'encoder preset (ultrafast … veryslow)')
    .addOption(new Option('--chunk-duration <seconds>', 'chunk length').argParser(decimal(0.5, 3600)))
    .addOption(
      new Option('--temporal <mode>', 'temporal coherence: flow, ema or off').choices(['flow', 'ema', 'off']),
    )
    .option('--no-temporal', 'no temporal smoothing')
    .option('--style <name>', 'a style the preset selects')
    .option('--option <key=value>', 'a style option, repeatable', collect)
    .option('--json', 'print JSON')
    .action(async (name: string, opts: Record<string, unknown>) =>
      (await commands.presets()).presetsSaveCommand(name, opts as Parameters<typeof presetsSaveCommand>[1]),
    );
  presets
    .command('delete')
    .description('Delete a user preset.')
    .argument('<name>', 'preset name')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { json?: boolean }) =>
      (await commands.presets()).presetsDeleteCommand(name, opts),
    );

  program
    .command('demo')
    .description('Generate a sample clip with audio, render it in every style, and write a contact sheet.')
    .option('--out <dir>', 'folder for the sample and results', 'demo-output')
    .option('--json', 'progress and result as JSON lines on stdout')
    .action(async (opts: { out?: string; json?: boolean }) => (await commands.demo()).demoCommand(opts));

  return program;
}

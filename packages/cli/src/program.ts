import { Command } from '@commander-js/extra-typings';
import { registerAutotune } from './register/autotune.ts';
import { registerBenchmark } from './register/benchmark.ts';
import { registerDemo } from './register/demo.ts';
import { registerModels } from './register/models.ts';
import { registerPresets } from './register/presets.ts';
import { registerPreview } from './register/preview.ts';
import { registerProbe } from './register/probe.ts';
import { registerRender } from './register/render.ts';
import { registerStudio } from './register/studio.ts';
import { registerTrain } from './register/train.ts';
import { registerTranscode } from './register/transcode.ts';
import { registerWorker } from './register/worker.ts';

// Each command is registered by its own module in register/, which holds its flags (commander's
// types flow from them into the command's function) and imports the command's implementation in
// commands/ only when that command runs: importing all of them up front cost ~175 ms of every
// `render` on this machine (266 ms against ~90 ms for the pipeline).

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

  for (const register of [
    registerProbe,
    registerTranscode,
    registerRender,
    registerWorker,
    registerPreview,
    registerBenchmark,
    registerAutotune,
    registerModels,
    registerTrain,
    registerStudio,
    registerPresets,
    registerDemo,
  ])
    register(program);
  return program;
}

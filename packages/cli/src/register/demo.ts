import type { Command } from '@commander-js/extra-typings';

/**
 * Add `framecraft demo`.
 *
 * @param program - The root command.
 */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Generate a sample clip with audio, render it in every style, and write a contact sheet.')
    .option('--out <dir>', 'folder for the sample and results', 'demo-output')
    .option('--json', 'progress and result as JSON lines on stdout')
    .action(async (opts) => (await import('../commands/demo.ts')).demoCommand(opts));
}

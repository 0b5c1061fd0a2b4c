#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { formatError } from './errors.ts';
import { exitStatusOf } from './interrupt.ts';
import { createProgram } from './program.ts';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

try {
  await createProgram(pkg.version).parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`${formatError(err)}\n`);
  // 130 and 143: the shell's codes for "stopped by Ctrl-C" and "by SIGTERM".
  process.exitCode = exitStatusOf(err);
}

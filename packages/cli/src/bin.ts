#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { FramecraftError } from '@framecraft/core';
import { formatError } from './errors.ts';
import { createProgram } from './program.ts';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

try {
  await createProgram(pkg.version).parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`${formatError(err)}\n`);
  // 130 is the shell's code for "stopped by Ctrl-C".
  process.exitCode = FramecraftError.is(err, 'ERR_CANCELED') ? 130 : 1;
}

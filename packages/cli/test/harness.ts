// The CLI under test, run as a child process: what the CLI test files share.
import { afterAll } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from '@framecraft/test-utils';

/** The CLI's entry point, run with this Bun. */
export const BIN: string = join(import.meta.dir, '../src/bin.ts');

/** What a finished command printed and returned. */
export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Run `framecraft <args>` to the end (with this process's environment, FRAMECRAFT_HOME included).
 *
 * @param args - The command line.
 * @param cwd - Its working folder; this process's by default.
 * @returns Exit status and output.
 */
export function runCli(args: readonly string[], cwd?: string): CliRun {
  const res = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    ...(cwd !== undefined && { cwd }),
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

/**
 * Start `framecraft <args>` and send it `signal` once `until(stderr so far)` says so; then wait for
 * it to end.
 *
 * @param args - The command line.
 * @param until - Decides from what the command printed on stderr when to signal it.
 * @param signal - SIGINT (Ctrl-C) or SIGTERM.
 * @param cwd - Its working folder.
 * @returns Exit status, everything it printed, and its last stderr line.
 */
export async function runUntil(
  args: readonly string[],
  until: (stderr: string) => boolean,
  signal: 'SIGINT' | 'SIGTERM',
  cwd?: string,
): Promise<CliRun & { readonly line: string }> {
  // The environment as the test set it (FRAMECRAFT_HOME), so a rerun finds the work folders.
  const child = Bun.spawn([process.execPath, BIN, ...args], {
    stderr: 'pipe',
    stdout: 'pipe',
    env: { ...process.env },
    ...(cwd !== undefined && { cwd }),
  });
  const reader = child.stderr.getReader();
  let seen = '';
  let sent = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += new TextDecoder().decode(value);
    if (!sent && until(seen)) {
      child.kill(signal);
      sent = true;
    }
  }
  const stdout = await new Response(child.stdout).text();
  return { status: await child.exited, stdout, stderr: seen, line: seen.trim().split('\n').at(-1) ?? '' };
}

/**
 * A data folder of the test's own (FRAMECRAFT_HOME, for the commands it runs) and a folder for its
 * files, both removed after the file's tests.
 *
 * @returns The two folders.
 */
export async function testFolders(): Promise<{ readonly home: string; readonly dir: string }> {
  const home = await tempDir();
  process.env.FRAMECRAFT_HOME = home.dir;
  const work = await tempDir();
  afterAll(async () => {
    await work.cleanup();
    await home.cleanup();
  });
  return { home: home.dir, dir: work.dir };
}

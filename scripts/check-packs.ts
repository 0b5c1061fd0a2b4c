// Packs every publishable package the way `bun publish` would and fails when a packed manifest
// still has `workspace:` or `catalog:` ranges, or when `exports`/`bin` name a file the build did
// not produce; then runs the built CLI under Node (`framecraft demo`: a generated clip rendered in
// every style through the pipeline's worker threads), as npm users would run it.
// Runs `turbo run build` first.
// Usage: bun scripts/check-packs.ts
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Manifest {
  name: string;
  private?: boolean;
  exports?: unknown;
  bin?: string | Record<string, string>;
  main?: string;
  types?: string;
  [deps: string]: unknown;
}

const root = join(import.meta.dir, '..');
const DEP_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies'];

function sh(cmd: string, args: string[], cwd: string): string {
  const res = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (res.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${res.stdout}\n${res.stderr}`);
  return res.stdout;
}

function exportTargets(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) exportTargets(v, out);
  return out;
}

sh(process.execPath, ['x', 'turbo', 'run', 'build', '--output-logs=errors-only'], root);
const work = await mkdtemp(join(tmpdir(), 'framecraft-packs-'));
const problems: string[] = [];
let checked = 0;
try {
  for (const dir of (await readdir(join(root, 'packages'))).sort()) {
    const pkgDir = join(root, 'packages', dir);
    const manifest = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8')) as Manifest;
    if (manifest.private) continue;
    const dest = join(work, dir);
    sh(process.execPath, ['pm', 'pack', '--destination', dest, '--quiet'], pkgDir);
    const tarball = (await readdir(dest)).find((f) => f.endsWith('.tgz'));
    if (tarball === undefined) {
      problems.push(`${manifest.name}: bun pm pack produced no tarball`);
      continue;
    }
    const files = sh('tar', ['-tzf', join(dest, tarball)], dest)
      .split('\n')
      .filter(Boolean)
      .map((f) => f.replace(/^package\//, ''));
    sh('tar', ['-xzf', join(dest, tarball)], dest);
    const packed = JSON.parse(await readFile(join(dest, 'package', 'package.json'), 'utf8')) as Manifest;
    for (const field of DEP_FIELDS) {
      for (const [dep, range] of Object.entries((packed[field] as Record<string, string>) ?? {})) {
        if (/^(workspace|catalog):/.test(range))
          problems.push(`${manifest.name}: ${field}.${dep} is still "${range}"`);
      }
    }
    const bins = typeof packed.bin === 'string' ? [packed.bin] : Object.values(packed.bin ?? {});
    for (const target of [...exportTargets(packed.exports), ...bins]) {
      const rel = target.replace(/^\.\//, '');
      if (rel === 'package.json') continue;
      if (!files.includes(rel))
        problems.push(`${manifest.name}: "${target}" is named in exports/bin but not in the package`);
    }
    checked++;
    console.log(`ok   ${manifest.name}: ${files.length} files`);
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
// The built CLI under Node: dist JavaScript, worker threads, native bindings, sharp.
{
  const smoke = await mkdtemp(join(tmpdir(), 'framecraft-node-smoke-'));
  try {
    const started = performance.now();
    const res = spawnSync(
      'node',
      [join(root, 'packages/cli/dist/bin.js'), 'demo', '--out', smoke, '--json'],
      {
        encoding: 'utf8',
        env: { ...process.env, FRAMECRAFT_HOME: join(smoke, 'home') },
      },
    );
    const done =
      res.status === 0
        ? (JSON.parse(res.stdout.trim().split('\n').at(-1) ?? '{}') as { results?: unknown[] })
        : {};
    if (res.status !== 0 || (done.results?.length ?? 0) < 5)
      problems.push(`node smoke: framecraft demo under Node failed (exit ${res.status}):\n${res.stderr}`);
    else
      console.log(
        `ok   built CLI under Node (framecraft demo): ${done.results?.length} styles in ${Math.round(performance.now() - started)} ms`,
      );
  } finally {
    await rm(smoke, { recursive: true, force: true });
  }
}
for (const p of problems) console.error(`FAIL ${p}`);
console.log(
  `packs: ${checked - new Set(problems.map((p) => p.split(':')[0])).size} passed, ${new Set(problems.map((p) => p.split(':')[0])).size} failed`,
);
process.exitCode = problems.length > 0 ? 1 : 0;

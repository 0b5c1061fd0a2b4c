// Smoke-runs every example on a small generated clip, as CI does.
// Usage: bun scripts/run-examples.ts
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTestClip } from '@framecraft/io/testing';

/** Arguments each example gets, given the sample clip and a scratch folder. */
const ARGS: Record<string, (clip: string, dir: string) => string[]> = {
  'probe-and-transcode': (clip, dir) => [clip, join(dir, 'probe-and-transcode.mp4'), '--crf', '24'],
  'stylize-clip': (clip, dir) => [clip, join(dir, 'stylize-clip.mp4'), 'pencil', 'sigma=8'],
  'lut-grade': (clip, dir) => [clip, join(dir, 'lut-grade.mp4')],
  'resume-long-render': (clip, dir) => [clip, join(dir, 'resume-long-render.mp4')],
  'metrics-report': (clip, dir) => [clip, join(dir, 'metrics-report.mp4')],
  'benchmark-styles': (clip) => [clip, '--time', '100'],
};

const dir = await mkdtemp(join(tmpdir(), 'framecraft-examples-'));
let failed = 0;
try {
  const clip = join(dir, 'sample.mp4');
  await writeTestClip(clip, { width: 320, height: 180, frames: 60, flashes: [20] });
  const examples = (await readdir(join(import.meta.dir, '../examples'), { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  for (const name of examples) {
    const args = ARGS[name];
    if (args === undefined) {
      console.error(`examples/${name}: no smoke-run arguments in scripts/run-examples.ts`);
      failed++;
      continue;
    }
    const started = performance.now();
    const res = spawnSync(process.execPath, [join('examples', name, 'index.ts'), ...args(clip, dir)], {
      encoding: 'utf8',
      cwd: join(import.meta.dir, '..'),
      // Render work folders go to the scratch folder, not the user's data home.
      env: { ...process.env, FRAMECRAFT_HOME: join(dir, 'home') },
    });
    const ms = Math.round(performance.now() - started);
    if (res.status === 0) console.log(`ok   examples/${name} (${ms} ms)`);
    else {
      failed++;
      console.error(`FAIL examples/${name} (exit ${res.status})\n${res.stdout}\n${res.stderr}`);
    }
  }
  console.log(`examples: ${examples.length - failed} passed, ${failed} failed`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
process.exitCode = failed > 0 ? 1 : 0;

import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { writeTestClip } from '@framecraft/io/testing';
import { decodeAll, samePixels, tempDir } from '@framecraft/test-utils';
import { parseJob, workDirOf } from './job.ts';
import { readJournal } from './journal.ts';
import type { RenderProgress } from './progress.ts';
import { render } from './render.ts';

const { dir, cleanup } = await tempDir();
afterAll(() => cleanup());
process.env.FRAMECRAFT_HOME = join(dir, 'home');
const child = join(import.meta.dir, '..', 'test', 'render-child.ts');

let clip: string;
let reference: Awaited<ReturnType<typeof decodeAll>>;
let flowReference: Awaited<ReturnType<typeof decodeAll>>;
const FLOW = { mode: 'flow', flow: { history: 12 } } as const;
const job = (name: string, temporal?: typeof FLOW) => ({
  input: clip,
  output: join(dir, `${name}.mp4`),
  style: 'cartoon',
  chunkDuration: 1,
  preroll: 5,
  codec: 'libx264',
  crf: 18,
  encoderPreset: 'veryfast',
  workers: 1,
  ...(temporal !== undefined && { temporal }),
});

beforeAll(async () => {
  // 5 s at 30 fps, 320×240: five chunks that take long enough to be killed in the middle of.
  clip = join(dir, 'clip.mp4');
  await writeTestClip(clip, { width: 320, height: 240, frames: 150, flashes: [40, 100], audio: true });
  const res = await render(job('reference'));
  reference = await decodeAll(res.output!);
  flowReference = await decodeAll((await render(job('flow-reference', FLOW))).output!);
}, 120_000);

/**
 * Run a render in a child process and kill -9 it at the first progress event `when` accepts.
 * Returns the event it was killed at (null when it finished first).
 */
async function killDuring(
  name: string,
  when: (p: RenderProgress) => boolean,
  temporal?: typeof FLOW,
): Promise<RenderProgress | null> {
  const proc = spawn(process.execPath, [child, JSON.stringify(job(name, temporal))], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  let killedAt: RenderProgress | null = null;
  for await (const line of createInterface({ input: proc.stdout! })) {
    const event = JSON.parse(line) as RenderProgress;
    if ('stage' in event && when(event)) {
      proc.kill('SIGKILL');
      killedAt = event;
      break;
    }
  }
  await exited;
  return killedAt;
}

describe('a render killed with SIGKILL resumes to the same video', () => {
  const cases: [string, (p: RenderProgress) => boolean, typeof FLOW?][] = [
    ['in the first chunk', (p) => p.stage === 'render' && p.framesDone >= 8 && p.chunksDone === 0],
    ['mid-chunk after two chunks', (p) => p.stage === 'render' && p.chunksDone >= 2 && p.framesDone > 64],
    ['while stitching', (p) => p.stage === 'stitch'],
    ['mid-chunk in flow mode', (p) => p.stage === 'render' && p.chunksDone >= 2 && p.framesDone > 64, FLOW],
  ];
  for (const [label, when, temporal] of cases) {
    test(label, async () => {
      const name = `killed-${label.replace(/\W+/g, '-')}`;
      const expected = temporal === undefined ? reference : flowReference;
      const at = await killDuring(name, when, temporal);
      expect(at).not.toBeNull();
      const output = join(dir, `${name}.mp4`);
      // Nothing at the output path; the journal records only finished chunks.
      expect(existsSync(output)).toBe(false);
      const journal = await readJournal(workDirOf(parseJob(job(name, temporal))));
      expect(journal).not.toBeNull();
      expect(journal!.chunks_completed.length).toBeGreaterThanOrEqual(at!.chunksDone);
      const res = await render(job(name, temporal));
      expect(res.reused).toBe(journal!.chunks_completed.length);
      const frames = await decodeAll(res.output!);
      expect(frames.length).toBe(expected.length);
      expect(frames.map((f) => f.pts)).toEqual(expected.map((f) => f.pts));
      for (const [i, f] of frames.entries()) expect(samePixels(f, expected[i]!)).toBe(true);
      // No temporary file of the killed run is left beside the output.
      expect((await readdir(dir)).filter((n) => n.includes('.partial-'))).toEqual([]);
    }, 120_000);
  }
});

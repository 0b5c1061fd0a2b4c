// Start a render, interrupt it part-way (an AbortSignal, as Ctrl-C does in the CLI), then run the
// same job again: finished chunks are reused from the journal and only the rest is rendered.
// Usage: bun examples/resume-long-render/index.ts <in> <out.mp4> [style]
import { parseJob, readJournal, render, workDirOf } from '@framecraft/pipeline';

const [input, output, style = 'comic'] = process.argv.slice(2);
if (input === undefined || output === undefined) {
  console.error('Usage: bun examples/resume-long-render/index.ts <in> <out.mp4> [style]');
  process.exit(2);
}
const job = { input, output, style, chunkDuration: 0.5, encoderPreset: 'veryfast' as const, workers: 1 };

// First attempt: stop after the second chunk is journaled.
const stop = new AbortController();
try {
  await render(job, {
    overwrite: true,
    restart: true,
    signal: stop.signal,
    onProgress: (p) => {
      if (p.chunksDone >= 2 && !stop.signal.aborted) {
        console.log(`interrupting after ${p.chunksDone} of ${p.chunks} chunks (${p.framesDone} frames)`);
        stop.abort();
      }
    },
  });
  console.log('the render finished before it could be interrupted (a very short clip)');
} catch (err) {
  if ((err as { code?: string }).code !== 'ERR_CANCELED') throw err;
  const journal = await readJournal(workDirOf(parseJob(job)));
  console.log(`interrupted; the journal lists chunks ${journal?.chunks_completed.join(', ')} as done`);
}

// Second attempt: the same job continues where the first stopped.
const result = await render(job, { overwrite: true });
console.log(
  `${result.output}: ${result.frames} frames, ${result.reused} chunk(s) reused, ${result.rendered} rendered now`,
);

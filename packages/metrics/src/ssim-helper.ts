// A ParallelSsim helper thread: waits for a job in shared memory, scores its band of block rows,
// reports the sum and waits again, until told to stop.
import { parentPort, workerData } from 'node:worker_threads';
import { instantiateKernel } from './ssim-box.ts';
import { controlWords, type SsimHelperData, scoreBand, waitFor } from './ssim-parallel.ts';

const { memory, control, results, index } = workerData as SsimHelperData;
const kernel = instantiateKernel(memory);
if (kernel === null) throw new Error('SSIM helper: WebAssembly SIMD or shared memory is missing');
const { GENERATION, DONE, STOP } = controlWords;
let seen = Atomics.load(control, GENERATION);
parentPort?.postMessage('ready');
for (;;) {
  seen = waitFor(control, GENERATION, (generation) => generation !== seen);
  if (Atomics.load(control, STOP) === 1) break;
  results[index] = scoreBand(kernel, control, index);
  Atomics.add(control, DONE, 1);
  Atomics.notify(control, DONE);
}

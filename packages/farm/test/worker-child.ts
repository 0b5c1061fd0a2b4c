// A farm worker in its own process, for tests that kill one: options as JSON in argv[2], events
// as JSON lines on stdout; SIGTERM closes it gracefully.
import { startFarmWorker } from '../src/worker.ts';

const options = JSON.parse(process.argv[2] ?? '{}');
const worker = await startFarmWorker({
  ...options,
  onEvent: (e) => process.stdout.write(`${JSON.stringify(e)}\n`),
});
process.on('SIGTERM', () => {
  void worker.close().then(() => process.exit(0));
});

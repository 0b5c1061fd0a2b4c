// A render in its own process, for the kill -9 tests: prints each progress event as a JSON line.
// Usage: bun render-child.ts '<job JSON>'
import { render } from '../src/index.ts';

const job = JSON.parse(process.argv[2] ?? '{}');
await render(job, {
  onProgress: (p) => process.stdout.write(`${JSON.stringify(p)}\n`),
});
process.stdout.write('{"finished":true}\n');

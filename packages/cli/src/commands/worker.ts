import { type FarmWorkerEvent, startFarmWorker } from '@framecraft/farm';
import { createLogger } from '@framecraft/pipeline';
import { UsageError } from '../errors.ts';

/** Options of `framecraft worker`. */
export interface WorkerCommandOptions {
  readonly queue: string;
  readonly concurrency?: number;
  readonly resources?: string;
  readonly threads?: number;
  readonly lockSeconds?: number;
  readonly stalledSeconds?: number;
  readonly json?: boolean;
  readonly verbose?: boolean;
}

function line(e: FarmWorkerEvent): string {
  switch (e.type) {
    case 'ready':
      return `ready: taking ${e.queues.join(', ')} (${e.concurrency} chunk(s) at once)`;
    case 'chunk-start':
      return `chunk ${e.index} of ${e.output} (render ${e.renderId}${e.attempt > 1 ? `, attempt ${e.attempt}` : ''})`;
    case 'chunk-done':
      return `chunk ${e.index} done: ${e.frames} frames in ${e.seconds.toFixed(1)} s${e.reused ? ' (finished earlier, reused)' : ''}`;
    case 'stitch-done':
      return `stitched ${e.output}`;
    case 'failed':
      return `${e.index === null ? 'stitch' : `chunk ${e.index}`} of render ${e.renderId} failed: ${e.message}`;
    case 'connection':
      return e.message;
  }
}

/**
 * `framecraft worker`: render chunks for the farm behind a Redis address until interrupted. The
 * first Ctrl-C finishes the chunks in flight and stops; a second one stops at once (another
 * worker takes those chunks over when their locks expire).
 *
 * @param options - Queue address, concurrency, resources, lock timing, output format.
 */
export async function workerCommand(options: WorkerCommandOptions): Promise<void> {
  const resources =
    options.resources === undefined
      ? undefined
      : options.resources.split(',').map((r) => {
          const t = r.trim();
          if (t !== 'cpu' && t !== 'gpu')
            throw new UsageError(
              'ERR_USAGE',
              `--resources ${options.resources}: expected cpu, gpu or cpu,gpu`,
            );
          return t;
        });
  const log = createLogger(options.verbose ? { console: 'text', consoleLevel: 'info' } : {});
  const print = (e: FarmWorkerEvent): void => {
    if (options.json) process.stdout.write(`${JSON.stringify({ event: e.type, ...e, type: undefined })}\n`);
    else process.stdout.write(`${line(e)}\n`);
  };
  try {
    const worker = await startFarmWorker({
      queue: options.queue,
      logger: log.logger,
      onEvent: print,
      ...(options.concurrency !== undefined && { concurrency: options.concurrency }),
      ...(resources !== undefined && { resources }),
      ...(options.threads !== undefined && { threads: options.threads }),
      ...(options.lockSeconds !== undefined && { lockSeconds: options.lockSeconds }),
      ...(options.stalledSeconds !== undefined && { stalledCheckSeconds: options.stalledSeconds }),
    });
    await new Promise<void>((done) => {
      let stopping = false;
      const stop = (): void => {
        if (!stopping) {
          stopping = true;
          process.stderr.write('finishing the chunks in flight (Ctrl-C again stops at once)\n');
          void worker.close().then(done);
        } else void worker.close(true).then(done);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
  } finally {
    await log.close();
  }
}

// A real redis-server for the farm's tests: its own process on a free loopback port, its data in
// a temporary folder (append-only file on, so a restart keeps the queues, as a farm's Redis should).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/** A redis-server the test controls. */
export interface TestRedis {
  readonly url: string;
  readonly port: number;
  /** Stop it (SIGTERM: the append-only file is flushed). */
  stop(): Promise<void>;
  /** Start it again on the same port and folder. */
  start(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function ping(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    r.on('error', () => undefined);
    try {
      await r.connect();
      await r.ping();
      return;
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`redis-server on port ${port} did not answer: ${(err as Error).message}`);
    } finally {
      r.disconnect();
    }
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** Whether Debian's redis-server is installed (tests that need it are skipped without it). */
export const hasRedisServer: boolean = spawnSync('redis-server', ['--version']).status === 0;

/**
 * Start redis-server (Debian's `redis-server` package) on a free loopback port.
 *
 * @param dir - Its data folder.
 * @returns Control over it.
 */
export async function startRedis(dir: string): Promise<TestRedis> {
  if (!hasRedisServer)
    throw new Error(
      'redis-server is not installed (apt-get install redis-server); the farm tests need a real Redis',
    );
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  let proc: ChildProcess | null = null;
  const start = async (): Promise<void> => {
    proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
      ],
      { stdio: 'ignore' },
    );
    await ping(port, 10_000);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    async stop(): Promise<void> {
      const p = proc as ChildProcess | null;
      if (p === null || p.exitCode !== null) return;
      const exited = new Promise((res) => p.once('exit', res));
      p.kill('SIGTERM');
      await exited;
      proc = null;
    },
  };
}

import { Redis, type RedisOptions } from 'ioredis';
import { FarmError, RedisUnreachableError } from './errors.ts';

/**
 * Check a queue address: `redis://[user:password@]host[:port][/db]` or `rediss://…` (TLS).
 *
 * @param url - The address.
 * @returns The parsed URL.
 * @throws {FramecraftError} `ERR_QUEUE_URL` saying what is wrong.
 */
export function parseQueueUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new FarmError('ERR_QUEUE_URL', `"${url}" is not a queue address: expected redis://host:port`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new FarmError(
      'ERR_QUEUE_URL',
      `"${url}" is not a queue address: expected redis://host:port or rediss://host:port, not ${parsed.protocol}//`,
    );
  if (parsed.hostname === '')
    throw new FarmError('ERR_QUEUE_URL', `"${url}" is not a queue address: it names no host`);
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db))
    throw new FarmError('ERR_QUEUE_URL', `"${url}": the path must be a database number, not "${db}"`);
  return parsed;
}

/** The address without its password, for messages and logs. */
export function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password !== '') u.password = '***';
  return u.toString().replace(/\/$/, '');
}

/**
 * A Redis connection for BullMQ: commands wait through a disconnection instead of failing
 * (`maxRetriesPerRequest: null`, which BullMQ's workers require), and reconnecting backs off to
 * one try every 2 s. Errors are reported to `onError` (never thrown as unhandled events).
 *
 * @param url - The queue address.
 * @param onError - Connection errors (every failed reconnect reports one).
 * @param extra - More ioredis options.
 * @returns The connection (connecting in the background).
 */
export function redisConnection(url: string, onError: (err: Error) => void, extra: RedisOptions = {}): Redis {
  parseQueueUrl(url);
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...extra,
  });
  redis.on('error', onError);
  return redis;
}

/**
 * Connect once and ping, failing fast with a clear error: the check before submitting or
 * starting a worker.
 *
 * @param url - The queue address.
 * @param timeoutMs - How long to try.
 * @throws {RedisUnreachableError} Naming the address and the cause.
 */
export async function checkRedis(url: string, timeoutMs = 5000): Promise<void> {
  parseQueueUrl(url);
  let last: Error | null = null;
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', (err: Error) => {
    last = err;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    const cause = (last as Error | null) ?? (err as Error);
    throw new RedisUnreachableError(
      redactUrl(url),
      `${cause.message}; start redis-server there, or pass the address of a running one`,
    );
  } finally {
    redis.disconnect();
  }
}

import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';
import { createStream, type RotatingFileStream } from 'rotating-file-stream';
import { dataHome } from './job.ts';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Folder of the daily log files; `<data home>/logs` by default. */
  readonly dir?: string;
  /** Lowest level written to the files; `info` by default. */
  readonly level?: 'debug' | 'info' | 'warn' | 'error';
  /** Console output (stderr): human lines, JSON lines, or none (default). */
  readonly console?: 'text' | 'json' | 'off';
  /** Lowest level shown on the console; `warn` by default. */
  readonly consoleLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Daily files kept; 14 by default. */
  readonly keepDays?: number;
}

/** A logger writing JSON lines to daily rotating files (and optionally the console). */
export interface FramecraftLogger {
  readonly logger: Logger;
  /** The folder of the log files. */
  readonly dir: string;
  /** Flush and close the files. */
  close(): Promise<void>;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** `framecraft-YYYY-MM-DD.log` for the day a file starts (local time). */
export function logFileName(time: Date): string {
  return `framecraft-${time.getFullYear()}-${pad(time.getMonth() + 1)}-${pad(time.getDate())}.log`;
}

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** One pino JSON line as `HH:MM:SS LEVEL message key=value …`. */
function textLine(json: string): string {
  try {
    const {
      level,
      time,
      msg,
      pid: _pid,
      hostname: _host,
      ...rest
    } = JSON.parse(json) as Record<string, unknown>;
    const t = new Date(time as number);
    const fields = Object.entries(rest)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    return `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())} ${LEVELS[level as number] ?? level} ${msg ?? ''}${fields ? ` ${fields}` : ''}\n`;
  } catch {
    return json;
  }
}

/**
 * Structured logging: pino (JSON lines) into daily files rotated by rotating-file-stream
 * (`framecraft-YYYY-MM-DD.log`, the last `keepDays` kept), plus optional console output.
 *
 * @param options - Folder, levels, console format.
 * @returns The logger and a `close` that flushes it.
 */
export function createLogger(options: LoggerOptions = {}): FramecraftLogger {
  const dir = options.dir ?? join(dataHome(), 'logs');
  const file: RotatingFileStream = createStream(
    (time) => logFileName(time instanceof Date ? time : new Date(time ?? Date.now())),
    {
      path: dir,
      interval: '1d',
      intervalBoundary: true,
      immutable: true,
      maxFiles: options.keepDays ?? 14,
    },
  );
  const streams: { level: LoggerOptions['level']; stream: NodeJS.WritableStream }[] = [
    { level: options.level ?? 'info', stream: file },
  ];
  const consoleMode = options.console ?? 'off';
  if (consoleMode !== 'off') {
    const consoleStream =
      consoleMode === 'json'
        ? process.stderr
        : new Writable({
            write(chunk: Buffer, _enc, done) {
              for (const line of chunk.toString('utf8').split('\n'))
                if (line !== '') process.stderr.write(textLine(line));
              done();
            },
          });
    streams.push({ level: options.consoleLevel ?? 'warn', stream: consoleStream });
  }
  // The root level is the lowest any stream wants; each stream filters its own.
  const order = ['debug', 'info', 'warn', 'error'] as const;
  const wanted = streams.map((s) => order.indexOf(s.level ?? 'info'));
  const level = order[Math.min(...wanted)] ?? 'info';
  const logger = pino({ level, base: { pid: process.pid } }, pino.multistream(streams));
  return {
    logger,
    dir,
    close: () =>
      new Promise<void>((resolve) => {
        file.end(() => resolve());
      }),
  };
}

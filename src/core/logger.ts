import { pino, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';
import type { LogFormat } from './config.js';

export type { Logger };

/**
 * Paths pino censors wherever they appear in a log line. The admin token and
 * invite tokens must never reach a log, whatever logs them.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["mosaic-signature"]',
  'headers.authorization',
  'authorization',
  'token',
  '*.token',
  'adminToken',
  '*.adminToken',
  'privateKey',
  '*.privateKey',
];


export function loggerOptions(level: string): LoggerOptions {
  return { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
}

/** What `auto` means for this process: pretty on a terminal, JSON for files, pipes and journals. */
export function resolveLogFormat(format: LogFormat, stdoutIsTty = process.stdout.isTTY === true): 'json' | 'pretty' {
  if (format === 'auto') return stdoutIsTty ? 'pretty' : 'json';
  return format;
}

/** Whether pretty lines get colours: only on a terminal, and never with NO_COLOR or TERM=dumb. */
function prettyColors(env: NodeJS.ProcessEnv): boolean {
  return process.stdout.isTTY === true && !('NO_COLOR' in env) && env.TERM !== 'dumb';
}

interface RequestLine {
  req?: { method?: string; url?: string };
  res?: { statusCode?: number };
  responseTime?: number;
}

/** A request line reads `GET /api/v1/health 200 1ms`; any other line keeps its message. */
function prettyMessage(log: Record<string, unknown>, messageKey: string): string {
  const line = log as RequestLine;
  const message = typeof log[messageKey] === 'string' ? (log[messageKey] as string) : '';
  if (!line.req?.method || !line.res) return message;
  const time = typeof line.responseTime === 'number' ? ` ${line.responseTime}ms` : '';
  return `${line.req.method} ${line.req.url ?? ''} ${line.res.statusCode ?? ''}${time}`;
}

/**
 * The server's logger. JSON lines are pino's own; pretty lines go through
 * pino-pretty as a synchronous stream in this thread (not a worker-thread
 * transport), so they work from the compiled CLI and are never lost on exit.
 */
export function createLogger(level: string, format: LogFormat = 'json', env: NodeJS.ProcessEnv = process.env): Logger {
  if (resolveLogFormat(format) === 'json') return pino(loggerOptions(level));
  const stream = pretty({
    destination: 1,
    sync: true,
    colorize: prettyColors(env),
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,reqId,req,res,responseTime',
    singleLine: true,
    messageFormat: prettyMessage,
  });
  return pino(loggerOptions(level), stream);
}

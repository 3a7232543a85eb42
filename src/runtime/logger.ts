// Structured logging. One pino root logger; components take a child with a
// `component` field, and every reconcile gets a child carrying a short
// reconcileID and the key, so one reconcile's lines can be grepped together.

import { randomBytes } from 'node:crypto';
import { type Logger, type LoggerOptions, type DestinationStream, pino } from 'pino';

export type { Logger } from 'pino';

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** Root logger; level from LOG_LEVEL (default info). JSON lines on stdout. */
export function createLogger(options: LoggerOptions = {}, destination?: DestinationStream): Logger {
  const envLevel = process.env['LOG_LEVEL']?.toLowerCase();
  const level = options.level ?? (envLevel && LEVELS.has(envLevel) ? envLevel : 'info');
  const opts: LoggerOptions = { base: undefined, ...options, level };
  return destination ? pino(opts, destination) : pino(opts);
}

/** A logger that drops everything; the default for components built in tests. */
export const silentLogger: Logger = pino({ level: 'silent' });

/** A short random id (8 hex chars) that tells reconciles of the same key apart. */
export function newReconcileID(): string {
  return randomBytes(4).toString('hex');
}

/** Child logger for one reconcile of key. */
export function withReconcile(logger: Logger, key: string, reconcileID = newReconcileID()): { logger: Logger; reconcileID: string } {
  return { logger: logger.child({ key, reconcileID }), reconcileID };
}

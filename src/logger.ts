// Structured logs (pino): one child logger per module, fields first, stable messages.
import { pino, type Logger } from 'pino';
import type { LogConfig } from './config.ts';

export type { Logger };

export function createLogger(config: LogConfig, name = 'fink'): Logger {
  return pino({ name, level: config.level });
}

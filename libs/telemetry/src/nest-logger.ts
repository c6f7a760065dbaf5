import type { LoggerService, LogLevel } from '@nestjs/common';
import type { Level, Logger } from 'pino';
import { createLogger, type LoggerOptions } from './logger';

const PINO_LEVEL: Record<LogLevel, Level> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};
// Most to least severe, to find the most verbose level Nest asks for in setLogLevels.
const SEVERITY: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/**
 * Nest's LoggerService on top of pino: `NestFactory.create(AppModule, { logger: new PinoNestLogger('intent') })`.
 * Nest calls `log(message, context)` and `error(message, stack, context)`; the context becomes a
 * `context` field, a stack a `stack` field, other arguments a `params` field.
 */
export class PinoNestLogger implements LoggerService {
  readonly pino: Logger;

  constructor(serviceOrLogger: string | Logger, options?: LoggerOptions) {
    this.pino = typeof serviceOrLogger === 'string' ? createLogger(serviceOrLogger, options) : serviceOrLogger;
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('log', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('verbose', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  setLogLevels(levels: LogLevel[]): void {
    const mostVerbose = [...SEVERITY].reverse().find((l) => levels.includes(l));
    this.pino.level = mostVerbose ? PINO_LEVEL[mostVerbose] : 'silent';
  }

  private write(level: LogLevel, message: unknown, params: unknown[]): void {
    // undefined shows up when Nest passes `stack` or `context` without a value.
    const rest = params.filter((p) => p !== undefined);
    const fields: Record<string, unknown> = {};
    // error(message, stack?, context?): take out a string that looks like a stack trace first,
    // so a lone stack is not mistaken for the context.
    if (level === 'error' || level === 'fatal') {
      const i = rest.findIndex((p) => typeof p === 'string' && /\n\s+at /.test(p));
      if (i >= 0) fields.stack = rest.splice(i, 1)[0];
    }
    // Nest appends the context (a string) last.
    if (rest.length > 0 && typeof rest[rest.length - 1] === 'string') fields.context = rest.pop();
    if (rest.length > 0) fields.params = rest;

    const log = this.pino[PINO_LEVEL[level]].bind(this.pino);
    if (message instanceof Error) {
      log({ ...fields, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      // Objects are logged as fields, so redaction paths apply to them.
      log({ ...fields, ...(message as Record<string, unknown>) });
    } else {
      log(fields, String(message));
    }
  }
}

/**
 * Nest's LoggerService on top of the process's pino logger, so framework lines are JSON too.
 */
import type { LoggerService } from '@nestjs/common';
import type { Logger } from '@eventcast/platform';

function split(params: unknown[]): { context?: string; rest: unknown[] } {
  const last = params[params.length - 1];
  return typeof last === 'string' ? { context: last, rest: params.slice(0, -1) } : { rest: params };
}

/** Adapts pino to Nest: Nest's trailing "context" argument becomes the `context` field. */
export class PinoNestLogger implements LoggerService {
  /** @param logger the process logger (e.g. `createLogger('query-api')`). */
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
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
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal', message: unknown, params: unknown[]): void {
    const { context, rest } = split(params);
    const fields: Record<string, unknown> = context ? { context } : {};
    if (message instanceof Error) fields['err'] = message;
    else if (rest.length > 0 && typeof rest[0] === 'string' && level === 'error') fields['stack'] = rest[0];
    const text = message instanceof Error ? message.message : typeof message === 'string' ? message : JSON.stringify(message);
    this.logger[level](fields, text);
  }
}

/**
 * A Nest {@link LoggerService} over pino: Nest's own log lines (bootstrap, routes, NATS status) become JSON lines
 * with `context`. Application code logs through the pino logger directly.
 */
import type { LoggerService } from '@nestjs/common';
import type { Logger } from '@eventcast/platform';

/** Adapts a pino logger to Nest's LoggerService. */
export class PinoLoggerService implements LoggerService {
  constructor(private readonly logger: Logger) {}

  private write(level: 'info' | 'error' | 'warn' | 'debug' | 'trace' | 'fatal', message: unknown, params: unknown[]): void {
    const context = typeof params.at(-1) === 'string' ? (params.at(-1) as string) : undefined;
    const text = message instanceof Error ? message.message : typeof message === 'string' ? message : JSON.stringify(message);
    const fields: Record<string, unknown> = context ? { context } : {};
    if (level === 'error' && typeof params[0] === 'string' && params.length > 1) fields['stack'] = params[0];
    if (message instanceof Error) fields['err'] = message;
    this.logger[level](fields, text);
  }

  /** Info-level line. */
  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  /** Error line; Nest passes (message, stack, context). */
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  /** Warning line. */
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  /** Debug line. */
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  /** Trace line (Nest's "verbose"). */
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  /** Fatal line. */
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }
}

/**
 * Nest's `LoggerService` on top of the process's pino logger, so framework lines (bootstrap, routes, NATS status) are
 * JSON too. Structurally compatible with `@nestjs/common`'s LoggerService, so this library needs no Nest import.
 */
import type { Logger } from 'pino';

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** Adapts pino to Nest: Nest's trailing "context" argument becomes the `context` field, an error's stack `stack`. */
export class PinoNestLogger {
  /** @param logger the process logger (e.g. `createLogger('query-api')`). */
  constructor(private readonly logger: Logger) {}

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

  private write(level: Level, message: unknown, params: unknown[]): void {
    const last = params.at(-1);
    const context = typeof last === 'string' ? last : undefined;
    const fields: Record<string, unknown> = context ? { context } : {};
    if (message instanceof Error) fields['err'] = message;
    else if (level === 'error' && typeof params[0] === 'string' && params.length > 1) fields['stack'] = params[0];
    const text = message instanceof Error ? message.message : typeof message === 'string' ? message : JSON.stringify(message);
    this.logger[level](fields, text);
  }
}

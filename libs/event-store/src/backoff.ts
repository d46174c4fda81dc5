/**
 * Small retry helpers shared by the subscriptions and the publisher (no dependency needed for a capped doubling).
 */

/** Capped exponential backoff with full jitter. Units: milliseconds. */
export interface BackoffOptions {
  /** First delay (default 100 ms). */
  initialMs?: number;
  /** Upper bound of any delay (default 5000 ms). */
  maxMs?: number;
}

/** A backoff sequence: `next()` returns the delay to wait now, `reset()` starts over after a success. */
export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 100;
    this.maxMs = options.maxMs ?? 5000;
  }

  /** Delay in ms for the current attempt: uniform in [cap/2, cap] where cap = min(max, initial · 2^attempt). */
  next(): number {
    const cap = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return cap / 2 + Math.random() * (cap / 2);
  }

  /** Starts the sequence over. */
  reset(): void {
    this.attempt = 0;
  }
}

/** Resolves after `ms` milliseconds, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * True for errors worth retrying: lost or refused connections and PostgreSQL's connection-class SQLSTATEs
 * (`08…`, `57P01–57P03` shutdown, `53300` too many connections). Anything else is a bug or bad input.
 */
export function isTransientError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code.startsWith('08') || ['57P01', '57P02', '57P03', '53300'].includes(code)) return true;
    if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND'].includes(code)) return true;
  }
  return /connection (terminated|ended|closed)|Client has encountered a connection error|timeout/i.test(err.message);
}

/** Small async helpers. */

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Calls `fn` up to `attempts` times, waiting `baseDelayMs · 2^n` between tries.
 * @throws the last error when every attempt failed.
 */
export async function retry<T>(fn: () => Promise<T>, attempts: number, baseDelayMs: number): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await fn();
    } catch (err: unknown) {
      last = err;
      if (i < attempts - 1) await sleep(baseDelayMs * 2 ** i);
    }
  }
  throw last;
}

/** `address:port` (as node-media-server stores `session.ip`) → `address`. */
export function addressOf(ip: string): string {
  return ip.replace(/:\d+$/, '');
}

/** Message of an unknown thrown value. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Polling for tests and scripts: wait until a condition holds.
 */

/**
 * Calls `check` every `intervalMs` until it returns a truthy value.
 * @returns that value.
 * @throws {Error} `timed out waiting for <what>` once `timeoutMs` have passed.
 */
export async function waitFor<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 10_000, what = 'condition', intervalMs = 50): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

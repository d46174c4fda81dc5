/** Settings of the webhook dispatcher and sender (docs/contracts.md "Integrations"; env names in config.ts). */
export interface WebhookOptions {
  /** Durable JetStream consumer of the dispatcher (`QUERY_API_WEBHOOK_CONSUMER`, default `query-api-webhooks`). */
  consumer: string;
  /** HTTP attempts per delivery, the first included (`WEBHOOK_MAX_ATTEMPTS`, default 8). */
  maxAttempts: number;
  /** Base of the exponential backoff, seconds (`WEBHOOK_RETRY_DELAY_SECONDS`, default 10): about d·2^(n-1)…d·2^n before retry n. */
  retryDelaySeconds: number;
  /** Cap of the backoff, seconds (`WEBHOOK_RETRY_DELAY_MAX_SECONDS`, default 3600). */
  retryDelayMaxSeconds: number;
  /** Per-attempt timeout, ms (`WEBHOOK_TIMEOUT_MS`, default 10000). */
  timeoutMs: number;
  /** How often idle senders look for due jobs, seconds ≥ 0.5 (`WEBHOOK_POLL_SECONDS`, default 1). */
  pollingIntervalSeconds: number;
  /** Deliveries in flight per process (`WEBHOOK_CONCURRENCY`, default 4). */
  concurrency: number;
  /** `STREAM_KEY_SECRET`: decrypts the signing secrets. */
  secretKey: string;
  /** Deliveries may reach private/loopback/link-local addresses (`WEBHOOK_ALLOW_PRIVATE_NETWORKS`, default false). */
  allowPrivateNetworks: boolean;
}

function num(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, integer: boolean): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new Error(`invalid configuration: ${name} must be ${integer ? 'an integer' : 'a number'} ≥ ${min}`);
  }
  return n;
}

/**
 * Webhook settings from the environment: `WEBHOOKS_ENABLED` (`true`; `false` runs no dispatcher or sender in this
 * process), `QUERY_API_WEBHOOK_CONSUMER` (`query-api-webhooks`), `WEBHOOK_MAX_ATTEMPTS` (8), `WEBHOOK_RETRY_DELAY_SECONDS`
 * (10), `WEBHOOK_RETRY_DELAY_MAX_SECONDS` (3600), `WEBHOOK_TIMEOUT_MS` (10000), `WEBHOOK_POLL_SECONDS` (1, ≥ 0.5),
 * `WEBHOOK_CONCURRENCY` (4).
 * @param secretKey `STREAM_KEY_SECRET` (64 hex).
 * @param allowPrivateNetworks `WEBHOOK_ALLOW_PRIVATE_NETWORKS` as parsed by the shared config.
 * @returns the options, or false when disabled. @throws {Error} naming an invalid variable.
 */
export function webhookOptionsFromEnv(env: NodeJS.ProcessEnv, secretKey: string, allowPrivateNetworks = false): WebhookOptions | false {
  const enabled = (env['WEBHOOKS_ENABLED'] ?? 'true').toLowerCase();
  if (enabled !== 'true' && enabled !== 'false') throw new Error('invalid configuration: WEBHOOKS_ENABLED must be true or false');
  if (enabled === 'false') return false;
  return {
    consumer: env['QUERY_API_WEBHOOK_CONSUMER'] || 'query-api-webhooks',
    maxAttempts: num(env, 'WEBHOOK_MAX_ATTEMPTS', 8, 1, true),
    retryDelaySeconds: num(env, 'WEBHOOK_RETRY_DELAY_SECONDS', 10, 1, true),
    retryDelayMaxSeconds: num(env, 'WEBHOOK_RETRY_DELAY_MAX_SECONDS', 3600, 1, true),
    timeoutMs: num(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100, true),
    pollingIntervalSeconds: num(env, 'WEBHOOK_POLL_SECONDS', 1, 0.5, false),
    concurrency: num(env, 'WEBHOOK_CONCURRENCY', 4, 1, true),
    secretKey,
    allowPrivateNetworks,
  };
}

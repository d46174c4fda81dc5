/**
 * Sends webhook deliveries: a pg-boss worker (jobs and their retry schedule live in PostgreSQL, so pending deliveries
 * survive restarts and are shared by every query-api process) POSTs each delivery's body signed per the Standard
 * Webhooks spec (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md):
 * headers `webhook-id` (the delivery id, the same on every retry), `webhook-timestamp` (Unix seconds) and
 * `webhook-signature: v1,<base64 HMAC-SHA256 over "<id>.<timestamp>.<body>" with the base64-decoded whsec_ key>`,
 * computed by the `standardwebhooks` reference library.
 *
 * An attempt succeeds on any 2xx. Anything else — a network error, a timeout, a non-2xx, a redirect (not followed) —
 * is recorded in the delivery log and the job is failed, so pg-boss retries it with exponential backoff
 * (`retryBackoff`, jittered: retryDelay·2^(n-1)…retryDelay·2^n, capped) until `maxAttempts`. A disabled or deleted
 * webhook cancels its pending deliveries at their next attempt.
 */
import { Webhook } from 'standardwebhooks';
import type { Kysely } from 'kysely';
import type { Job, PgBoss } from 'pg-boss';
import { counter, decryptSecret, histogram, HTTP_DURATION_BUCKETS, type Logger } from '@eventcast/platform';
import { PrivateAddressError, WebhookHttpClient } from './outbound-http.js';
import type { ReadModelDb } from '@eventcast/read-models';
import type { DeliveryDB, DeliveryStatus } from './delivery-schema.js';
import type { WebhookOptions } from './webhook-options.js';

/** pg-boss queue of deliveries. */
export const WEBHOOK_QUEUE = 'webhook-delivery';

/** Job payload: the delivery to attempt. */
export interface DeliveryJob {
  deliveryId: string;
}

/** `eventcast_webhook_attempts_total{outcome}`: HTTP attempts by outcome (`succeeded`, `retrying`, `failed`). */
const attemptsTotal = counter({ name: 'eventcast_webhook_attempts_total', help: 'Webhook delivery attempts by outcome', labelNames: ['outcome'] as const });
/** `eventcast_webhook_attempt_seconds`: time to the receiver's response headers (or the error). */
const attemptSeconds = histogram({ name: 'eventcast_webhook_attempt_seconds', help: 'Webhook delivery attempt latency', buckets: [...HTTP_DURATION_BUCKETS] });

/** Body of an error kept in the log: at most this many characters. */
const MAX_ERROR = 300;

/** The pg-boss queue options for `options` (retries = attempts − 1). */
export function webhookQueueOptions(options: WebhookOptions) {
  return {
    retryLimit: Math.max(0, options.maxAttempts - 1),
    retryDelay: options.retryDelaySeconds,
    retryBackoff: true,
    retryDelayMax: options.retryDelayMaxSeconds,
    // An attempt may take timeoutMs; the job must not expire (and be retried) while it runs.
    expireInSeconds: Math.ceil(options.timeoutMs / 1000) + 30,
    // Wake workers on insert (the instance is started with useListenNotify).
    notify: true,
  };
}

/**
 * Creates or updates the delivery queue (safe when several processes start at once).
 * @throws pg-boss/database errors.
 */
export async function ensureWebhookQueue(boss: PgBoss, options: WebhookOptions): Promise<void> {
  const queue = webhookQueueOptions(options);
  if (!(await boss.getQueue(WEBHOOK_QUEUE))) {
    try {
      await boss.createQueue(WEBHOOK_QUEUE, queue);
      return;
    } catch (err) {
      if (!(await boss.getQueue(WEBHOOK_QUEUE))) throw err;
    }
  }
  const { retryDelayMax: _max, ...updatable } = queue;
  await boss.updateQueue(WEBHOOK_QUEUE, updatable);
}

/** The pg-boss worker that attempts deliveries. */
export class WebhookSender {
  private workerId: string | undefined;
  private readonly http: WebhookHttpClient;

  /**
   * @param boss started pg-boss instance (owned by the caller).
   * @param db read models (the `webhooks` table).
   * @param log the delivery log (`integrations` schema).
   */
  constructor(
    private readonly boss: PgBoss,
    private readonly db: ReadModelDb,
    private readonly log: Kysely<DeliveryDB>,
    private readonly options: WebhookOptions,
    private readonly logger: Logger,
  ) {
    this.http = new WebhookHttpClient(options.allowPrivateNetworks);
  }

  /** Ensures the queue and starts polling it. @throws pg-boss errors. */
  async start(): Promise<void> {
    await ensureWebhookQueue(this.boss, this.options);
    this.workerId = await this.boss.work<DeliveryJob>(
      WEBHOOK_QUEUE,
      {
        batchSize: 1,
        localConcurrency: this.options.concurrency,
        pollingIntervalSeconds: this.options.pollingIntervalSeconds,
        // NOTIFY wakes workers for new jobs only; a retry coming due is found by polling, so keep polling as often.
        notifyPollingIntervalSeconds: this.options.pollingIntervalSeconds,
      },
      async (jobs) => {
        for (const job of jobs) await this.attempt(job);
      },
    );
  }

  /** Stops taking jobs (an attempt in flight finishes; pg-boss waits for it when stopped). */
  async stop(): Promise<void> {
    if (this.workerId) await this.boss.offWork(WEBHOOK_QUEUE, { id: this.workerId }).catch(() => undefined);
    this.workerId = undefined;
  }

  /** Closes the HTTP connection pool (after pg-boss stopped). */
  async close(): Promise<void> {
    await this.http.close().catch(() => undefined);
  }

  /**
   * One attempt of one delivery; records it in the log.
   * @throws {Error} after a failed attempt that may be retried (pg-boss then schedules the retry).
   */
  async attempt(job: Job<DeliveryJob>): Promise<void> {
    const delivery = await this.log.selectFrom('webhook_deliveries').selectAll().where('id', '=', job.data.deliveryId).executeTakeFirst();
    if (!delivery || delivery.status !== 'pending') return;
    const hook = await this.db.selectFrom('webhooks').select(['url', 'secret_ciphertext', 'enabled']).where('id', '=', delivery.webhook_id).executeTakeFirst();
    if (!hook || !hook.enabled) {
      await this.finish(delivery.id, 'cancelled', hook ? 'webhook disabled' : 'webhook deleted');
      return;
    }
    const attempt = delivery.attempts + 1;
    const body = JSON.stringify(delivery.payload);
    const sentAt = new Date();
    const signature = new Webhook(decryptSecret(hook.secret_ciphertext, this.options.secretKey)).sign(delivery.id, sentAt, body);
    const started = performance.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const res = await this.http.post(
        hook.url,
        body,
        {
          'content-type': 'application/json',
          'user-agent': 'Eventcast-Webhooks/1.0',
          'webhook-id': delivery.id,
          'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
          'webhook-signature': signature,
        },
        this.options.timeoutMs,
      );
      statusCode = res.status;
      await res.body?.cancel().catch(() => undefined);
      if (res.status < 200 || res.status > 299) error = `HTTP ${res.status}${res.status >= 300 && res.status < 400 ? ' (redirects are not followed)' : ''}`;
    } catch (err) {
      error = describe(err, this.options.timeoutMs);
    }
    const latencyMs = Math.round(performance.now() - started);
    const succeeded = error === null;
    const status: DeliveryStatus = succeeded ? 'succeeded' : attempt >= this.options.maxAttempts ? 'failed' : 'pending';
    await this.log.transaction().execute(async (trx) => {
      await trx
        .insertInto('webhook_delivery_attempts')
        .values({ delivery_id: delivery.id, attempt, started_at: sentAt, status_code: statusCode, latency_ms: latencyMs, error, succeeded })
        .execute();
      await trx
        .updateTable('webhook_deliveries')
        .set({ attempts: attempt, status, last_status_code: statusCode, last_error: error, completed_at: status === 'pending' ? null : new Date() })
        .where('id', '=', delivery.id)
        .execute();
    });
    attemptsTotal.inc({ outcome: status === 'pending' ? 'retrying' : status });
    attemptSeconds.observe(latencyMs / 1000);
    this.logger.info({ deliveryId: delivery.id, webhookId: delivery.webhook_id, attempt, statusCode, latencyMs, error, status }, 'webhook delivery attempt');
    if (status === 'pending') throw new Error(`webhook delivery ${delivery.id} attempt ${attempt} failed: ${error}`);
  }

  private async finish(id: string, status: DeliveryStatus, reason: string): Promise<void> {
    await this.log.updateTable('webhook_deliveries').set({ status, last_error: reason, completed_at: new Date() }).where('id', '=', id).execute();
  }
}

/** A short reason for a failed request (no secrets: URL and headers are not included). */
function describe(err: unknown, timeoutMs: number): string {
  if (err instanceof PrivateAddressError) return err.message;
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `timed out after ${timeoutMs} ms`;
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  const text = `${err instanceof Error ? err.message : String(err)}${cause}`;
  return text.slice(0, MAX_ERROR);
}

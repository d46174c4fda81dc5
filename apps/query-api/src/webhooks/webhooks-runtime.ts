/**
 * Starts the outgoing-webhook machinery of a query-api process: pg-boss (schema `pgboss`, its own small pool), the
 * sender (pg-boss worker) and the dispatcher (durable JetStream consumer). See docs/design.md "Integrations".
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Kysely } from 'kysely';
import { PgBoss } from 'pg-boss';
import type { Logger } from '@eventcast/platform';
import type { ReadModelDb } from '@eventcast/read-models';
import type { JetStreamTopology } from '../messaging/jetstream-setup.js';
import { deliveryLogOf } from './delivery-log.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import type { WebhookOptions } from './webhook-options.js';
import { WebhookSender } from './webhook-sender.js';

/** The running webhook parts. */
export interface RunningWebhooks {
  dispatcher: WebhookDispatcher;
  sender: WebhookSender;
  boss: PgBoss;
  /** Stops the dispatcher (after its message in hand), then the sender and pg-boss (attempts in flight finish). */
  stop(): Promise<void>;
}

/**
 * Starts pg-boss, the sender and the dispatcher.
 * @param root unbound Kysely on the read-model pool (the delivery log uses it).
 * @throws pg-boss, database or JetStream errors (what was started is stopped again).
 */
export async function startWebhooks(deps: {
  nc: NatsConnection;
  db: ReadModelDb;
  root: Kysely<unknown>;
  databaseUrl: string;
  topology: JetStreamTopology & { retryDelayMs: number };
  options: WebhookOptions;
  logger: Logger;
}): Promise<RunningWebhooks> {
  const { options, logger } = deps;
  // LISTEN/NOTIFY wakes the sender as soon as the dispatcher commits a job; polling stays as the fallback.
  const boss = new PgBoss({ connectionString: deps.databaseUrl, max: 3, application_name: 'query-api-webhooks', schedule: false, useListenNotify: true });
  boss.on('error', (err: unknown) => logger.error({ err }, 'pg-boss error'));
  await boss.start();
  const log = deliveryLogOf(deps.root);
  const sender = new WebhookSender(boss, deps.db, log, options, logger);
  const dispatcher = new WebhookDispatcher(deps.nc, deps.db, log, boss, deps.topology, options, logger);
  try {
    await sender.start();
    await dispatcher.start();
  } catch (err) {
    await dispatcher.stop().catch(() => undefined);
    await sender.stop().catch(() => undefined);
    await boss.stop({ graceful: false }).catch(() => undefined);
    throw err;
  }
  logger.info({ consumer: options.consumer, maxAttempts: options.maxAttempts }, 'webhook dispatcher and sender started');
  let stopped: Promise<void> | undefined;
  return {
    dispatcher,
    sender,
    boss,
    stop() {
      stopped ??= (async () => {
        await dispatcher.stop();
        await sender.stop();
        await boss.stop({ graceful: true, timeout: options.timeoutMs + 1000 });
        await sender.close();
      })();
      return stopped;
    },
  };
}

/**
 * Turns domain events into webhook deliveries. Runs in query-api on its own durable JetStream consumer
 * (`query-api-webhooks`, explicit ack, the stream's order), beside the projections consumer:
 *
 * 1. an event of a subscribable type (WEBHOOK_EVENT_TYPES) waits until the `webhooks` projection has passed its global
 *    position, so the subscriptions it is matched against are those in force at that point of the log (a webhook
 *    registered in the same batch is not missed, and one registered later never gets older events:
 *    `registered_position < position`); the subscriptions of a channel are read with the projection's checkpoint in
 *    one statement and cached per channel up to that checkpoint, so a busy channel costs one query per projection
 *    batch, not two per event, and an event of a channel without a matching webhook is acked without validation;
 * 2. in ONE transaction, for every enabled webhook of the event's channel subscribed to its type, a delivery row
 *    (id derived from webhook id + event id, so a redelivered message adds nothing) and its pg-boss job are inserted;
 * 3. the message is acked after the commit. A crash before the ack redelivers the message, and the unique delivery id
 *    makes that harmless: deliveries are neither lost nor duplicated.
 *
 * Events of other types are acked at once. An unparseable message is terminated (logged); a payload the catalog
 * refuses or a database error naks the message with a delay: the dispatcher stalls rather than skip an event.
 */
import { createHash } from 'node:crypto';
import { jetstream, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Kysely } from 'kysely';
import { fromWire, validateRecorded, type RecordedDomainEvent } from '@eventcast/events';
import type { Logger } from '@eventcast/platform';
import { fromKysely, type PgBoss } from 'pg-boss';
import { type ReadModelDb, WEBHOOKS_PROJECTION } from '@eventcast/read-models';
import type { DeliveryDB } from './delivery-schema.js';
import { ensureTopology, type JetStreamTopology } from '../messaging/jetstream-setup.js';
import { webhookBodyOf, isWebhookEventType } from './webhook-payload.js';
import { WEBHOOK_QUEUE, type DeliveryJob } from './webhook-sender.js';
import type { WebhookOptions } from './webhook-options.js';

/** Counters since start (tests, metrics). */
export interface DispatcherStats {
  /** Messages acked (any type). */
  messages: number;
  /** Delivery rows created. */
  deliveries: number;
}

/**
 * The delivery id of `event` for `webhookId`: a UUID (version nibble 4, RFC 9562 variant) made of
 * SHA-256(webhookId ":" eventId), so a redelivered event maps to the same delivery.
 */
export function deliveryIdOf(webhookId: string, eventId: string): string {
  const h = createHash('sha256').update(`${webhookId}:${eventId}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x40;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Channels whose webhooks are cached at most (the cache is emptied when full; entries are only a shortcut). */
const HOOK_CACHE_CHANNELS = 10_000;

/** A cached webhook subscription (see `WebhookDispatcher.hooksFor`). */
interface CachedHook {
  id: string;
  eventTypes: readonly string[];
  registeredPosition: bigint;
}

/** A channel's enabled webhooks as of the `webhooks` projection's checkpoint `position`. */
interface HookCacheEntry {
  position: bigint;
  hooks: CachedHook[];
}

/** The dispatcher's consumer loop. */
export class WebhookDispatcher {
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private readonly counters: DispatcherStats = { messages: 0, deliveries: 0 };
  private readonly hookCache = new Map<string, HookCacheEntry>();

  /**
   * @param topology the events stream (its consumer name is replaced by `options.consumer`).
   * @param log the delivery log; its pool is the read-model pool.
   */
  constructor(
    private readonly nc: NatsConnection,
    private readonly db: ReadModelDb,
    private readonly log: Kysely<DeliveryDB>,
    private readonly boss: PgBoss,
    private readonly topology: JetStreamTopology & { retryDelayMs: number },
    private readonly options: WebhookOptions,
    private readonly logger: Logger,
  ) {}

  /** A snapshot of the counters. */
  get stats(): DispatcherStats {
    return { ...this.counters };
  }

  /** Creates the consumer if needed and starts consuming in the background. @throws JetStream errors of the first attach. */
  async start(): Promise<void> {
    await this.attach();
    this.loop = this.run();
  }

  /** Stops after the message in hand (its transaction commits and it is acked). Idempotent. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.messages?.close();
    await this.loop;
  }

  private async attach(): Promise<void> {
    const t = { ...this.topology, consumer: this.options.consumer };
    await ensureTopology(this.nc, t);
    const consumer = await jetstream(this.nc).consumers.get(t.stream, t.consumer);
    this.messages = await consumer.consume({ max_messages: 256 });
    this.logger.info({ stream: t.stream, consumer: t.consumer }, 'webhook dispatcher attached');
  }

  private async run(): Promise<void> {
    let backoffMs = 500;
    while (!this.stopping) {
      try {
        if (!this.messages) await this.attach();
        for await (const msg of this.messages!) {
          await this.handle(msg);
          backoffMs = 500;
          if (this.stopping) break;
        }
      } catch (err) {
        if (!this.stopping) this.logger.error({ err }, 'webhook dispatcher consumer failed; reattaching');
      }
      this.messages = undefined;
      if (this.stopping) break;
      await new Promise((r) => setTimeout(r, backoffMs));
      backoffMs = Math.min(backoffMs * 2, 15_000);
    }
  }

  /** Handles one message; never throws (it ends acked, nak'ed or terminated). */
  private async handle(msg: JsMsg): Promise<void> {
    let raw;
    try {
      raw = fromWire(msg.json());
    } catch (err) {
      this.logger.error({ err, subject: msg.subject, seq: msg.seq }, 'webhook dispatcher: unparseable event message; terminated');
      msg.term();
      return;
    }
    if (!isWebhookEventType(raw.type)) {
      msg.ack();
      this.counters.messages++;
      return;
    }
    try {
      // Fast path: the channel (every subscribable event names it in `channelId`) has no webhook for this event in
      // the cached subscriptions, which are at least as recent as the event: nothing to deliver, no validation needed.
      const rawChannel = (raw.data as { channelId?: unknown } | null)?.channelId;
      if (typeof rawChannel === 'string') {
        const hooks = await this.hooksFor(rawChannel, raw.type, raw.globalPosition);
        if (hooks === null) return this.projectionBehind(msg, raw.globalPosition);
        if (hooks.length === 0) {
          msg.ack();
          this.counters.messages++;
          return;
        }
      }
      const event = validateRecorded(raw);
      const made = webhookBodyOf(event);
      const hooks = made ? await this.hooksFor(made.channelId, event.type, event.globalPosition) : [];
      if (hooks === null) return this.projectionBehind(msg, event.globalPosition);
      this.counters.deliveries += made ? await this.enqueue(event, made, hooks) : 0;
      msg.ack();
      this.counters.messages++;
    } catch (err) {
      this.logger.error({ err, id: raw.id, type: raw.type, position: raw.globalPosition.toString() }, 'webhook dispatcher: event failed; will retry');
      msg.nak(this.topology.retryDelayMs);
    }
  }

  /** The `webhooks` projection did not reach `position` in time: nak for a later retry (logged). */
  private projectionBehind(msg: JsMsg, position: bigint): void {
    this.logger.warn({ position: position.toString() }, 'webhook dispatcher: webhooks projection behind; retrying later');
    msg.nak(this.topology.retryDelayMs);
  }

  /**
   * The ids of the enabled webhooks of `channelId` subscribed to `type` and registered before `position`, as the
   * `webhooks` projection has them once it has passed `position` (so a webhook registered in the same batch is not
   * missed, and one registered later never gets older events). Read in ONE statement with the projection's checkpoint
   * (one snapshot) and cached per channel with that checkpoint: the cache answers every later event up to the
   * checkpoint without a query (at 1,500 chat messages/s in one room the dispatcher made two queries per message
   * before: bench/results/command-path.md). Waits (≤ half the ack wait, polling every 25 ms) while the projection is
   * behind `position`.
   * @returns the ids, or null when the projection did not reach `position` in time.
   */
  private async hooksFor(channelId: string, type: string, position: bigint): Promise<string[] | null> {
    const until = Date.now() + Math.max(1000, this.topology.ackWaitMs / 2);
    let entry = this.hookCache.get(channelId);
    for (let reads = 0; !entry || entry.position < position; reads++) {
      if (reads > 0) {
        // Read, and the projection has not passed `position` yet.
        if (Date.now() > until || this.stopping) return null;
        await new Promise((r) => setTimeout(r, 25));
      }
      entry = await this.readHooks(channelId);
    }
    return entry.hooks.filter((h) => h.registeredPosition < position && h.eventTypes.includes(type)).map((h) => h.id);
  }

  /** Reads the enabled webhooks of `channelId` and the `webhooks` checkpoint in one statement; caches them. */
  private async readHooks(channelId: string): Promise<HookCacheEntry> {
    const rows = await this.db
      .selectFrom('projection_checkpoints as c')
      .leftJoin('webhooks as w', (join) => join.on('w.channel_id', '=', channelId).on('w.enabled', '=', true))
      .select(['c.position', 'w.id', 'w.event_types', 'w.registered_position'])
      .where('c.name', '=', WEBHOOKS_PROJECTION)
      .execute();
    const position = rows[0] ? BigInt(rows[0].position) : 0n;
    const hooks: CachedHook[] = [];
    for (const r of rows) {
      if (r.id === null || r.event_types === null || r.registered_position === null) continue;
      hooks.push({ id: r.id, eventTypes: r.event_types, registeredPosition: BigInt(r.registered_position) });
    }
    const entry = { position, hooks };
    if (this.hookCache.size >= HOOK_CACHE_CHANNELS) this.hookCache.clear();
    this.hookCache.set(channelId, entry);
    return entry;
  }

  /**
   * Inserts the deliveries of `event` to `hooks` (webhook ids) and their jobs in one transaction.
   * @returns how many were new.
   */
  private async enqueue(event: RecordedDomainEvent, made: { channelId: string; body: unknown }, hookIds: readonly string[]): Promise<number> {
    const hooks = hookIds.map((id) => ({ id }));
    if (hooks.length === 0) return 0;
    return this.log.transaction().execute(async (trx) => {
      let created = 0;
      for (const hook of hooks) {
        const id = deliveryIdOf(hook.id, event.id);
        const inserted = await trx
          .insertInto('webhook_deliveries')
          .values({
            id,
            webhook_id: hook.id,
            channel_id: made.channelId,
            event_id: event.id,
            event_type: event.type,
            global_position: event.globalPosition.toString(),
            payload: JSON.stringify(made.body),
          })
          .onConflict((oc) => oc.columns(['webhook_id', 'event_id']).doNothing())
          .returning('id')
          .executeTakeFirst();
        if (!inserted) continue;
        const job: DeliveryJob = { deliveryId: id };
        await this.boss.send(WEBHOOK_QUEUE, job, { id, db: fromKysely(trx) });
        created++;
      }
      return created;
    });
  }
}

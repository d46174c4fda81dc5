/**
 * Feeds the projections from the JetStream durable pull consumer, one message per transaction, in order.
 *
 * Per message: parse the wire envelope → compare its global position with the checkpoint →
 * duplicate (≤ checkpoint): ack; next in line (= checkpoint + 1): apply + checkpoint in one transaction, then ack;
 * past a gap (> checkpoint + 1): catch up from the event store up to that position first.
 * A message is acknowledged only after its transaction has committed.
 *
 * Poison messages: a body that is not a valid event envelope is `term()`ed (logged at error level). Redelivering
 * the same bytes can never succeed, and with `max_ack_pending` 1 a `nak` would block every later event; the
 * event itself is not lost, because the next event then shows a gap and the catch-up reads the store's copy.
 * A valid envelope whose payload the catalog refuses (e.g. a schema version newer than this build), or any
 * database/store error, is `nak`ed with a delay: the projection stalls loudly rather than skip an event.
 */
import { jetstream, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { fromWire, type RecordedEvent } from '@eventcast/events';
import type { Logger } from '@eventcast/platform';
import type { ProjectionRunner } from '../projections/projection-runner.js';
import type { StoreCatchUp } from '../projections/store-catch-up.js';
import { ensureTopology, type JetStreamTopology } from './jetstream-setup.js';

/** Consumer tuning on top of the topology. */
export interface JetStreamProjectorOptions extends JetStreamTopology {
  /** Delay (ms) before a failed message is redelivered. */
  retryDelayMs: number;
}

/** Long-running consumer loop; `start()` attaches, `stop()` detaches after the in-flight message. */
export class JetStreamProjector {
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private isAttached = false;

  /**
   * @param nc connected NATS client (owned by the caller).
   * @param runner projections and checkpoints.
   * @param catchUp store catch-up used for gaps.
   * @param options topology and retry delay.
   * @param logger JSON logger.
   */
  constructor(
    private readonly nc: NatsConnection,
    private readonly runner: ProjectionRunner,
    private readonly catchUp: StoreCatchUp,
    private readonly options: JetStreamProjectorOptions,
    private readonly logger: Logger,
  ) {}

  /** True while the consumer is attached and its loop runs (readiness). */
  get attached(): boolean {
    return this.isAttached && !this.stopping;
  }

  /**
   * Ensures stream and consumer exist, attaches and starts the loop in the background (it reattaches with
   * backoff if the subscription fails).
   * @throws JetStream errors from the first attach, so a misconfigured start fails fast.
   */
  async start(): Promise<void> {
    await this.attach();
    this.loop = this.run();
  }

  /**
   * Stops pulling, waits for the in-flight message (its transaction commits and it is acked), leaves every
   * other delivered message unacknowledged for redelivery. Idempotent.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.isAttached = false;
    await this.messages?.close();
    await this.loop;
  }

  private async attach(): Promise<void> {
    await ensureTopology(this.nc, this.options);
    const consumer = await jetstream(this.nc).consumers.get(this.options.stream, this.options.consumer);
    this.messages = await consumer.consume({ max_messages: Math.max(1, this.options.maxAckPending) });
    this.isAttached = true;
    void this.watchStatus(this.messages);
    this.logger.info({ stream: this.options.stream, consumer: this.options.consumer }, 'JetStream consumer attached');
  }

  private async watchStatus(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const s of messages.status()) {
        if (s.type === 'heartbeats_missed' || s.type === 'consumer_deleted' || s.type === 'consumer_not_found' || s.type === 'stream_not_found') {
          this.logger.warn({ status: s }, 'JetStream consumer status');
        }
      }
    } catch {
      // status iterator ends with the subscription
    }
  }

  private async run(): Promise<void> {
    let backoffMs = 500;
    while (!this.stopping) {
      try {
        if (!this.messages) await this.attach();
        for await (const msg of this.messages!) {
          if (this.stopping) break;
          await this.handle(msg);
          backoffMs = 500;
        }
      } catch (err) {
        this.logger.error({ err }, 'JetStream consumer failed; reattaching');
      }
      this.isAttached = false;
      this.messages = undefined;
      if (this.stopping) break;
      await new Promise((r) => setTimeout(r, backoffMs));
      backoffMs = Math.min(backoffMs * 2, 15_000);
    }
  }

  /** Processes one message; never throws (failures end in nak or term). */
  private async handle(msg: JsMsg): Promise<void> {
    let event: RecordedEvent;
    try {
      event = fromWire(msg.json());
    } catch (err) {
      this.logger.error({ err, subject: msg.subject, seq: msg.seq }, 'unparseable event message; terminated (the store copy is used on the next gap)');
      // No reason text: `+TERM <reason>` needs nats-server ≥ 2.10.4; 2.9 treats it as a plain ack-less reply.
      msg.term();
      return;
    }
    const position = event.globalPosition;
    try {
      let checkpoint = await this.runner.position();
      if (position > checkpoint + 1n) {
        this.logger.info({ position: position.toString(), checkpoint: checkpoint.toString() }, 'gap before event; catching up from the event store');
        checkpoint = await this.catchUp.run(position);
      }
      if (position > checkpoint + 1n) {
        this.logger.warn({ position: position.toString(), checkpoint: checkpoint.toString() }, 'event store does not have the missing events yet; retrying later');
        msg.nak(this.options.retryDelayMs);
        return;
      }
      const result = await this.runner.apply([event]);
      msg.ack();
      this.logger.debug({ id: event.id, type: event.type, position: position.toString(), applied: result.applied }, 'event projected');
    } catch (err) {
      this.logger.error({ err, id: event.id, type: event.type, position: position.toString(), deliveries: msg.info.deliveryCount }, 'projecting event failed; will retry');
      msg.nak(this.options.retryDelayMs);
    }
  }
}

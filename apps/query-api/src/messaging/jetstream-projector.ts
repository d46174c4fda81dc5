/**
 * Feeds the projections from the JetStream durable pull consumer in batches: every message already delivered
 * (up to `batchSize`) is applied in ONE transaction, in global order, and acknowledged after the commit.
 *
 * Delivery: `consume()` streams messages into a local queue as the server pushes them (the server lets out at
 * most `max_ack_pending`, which bounds the queue). A single worker takes whatever is queued — it never waits
 * for a batch to fill, so a lone event is applied at once, and events that arrive while a transaction runs
 * form the next batch. Only one batch is ever in flight.
 *
 * Per batch: parse each wire envelope → sort by global position → compare with the checkpoint →
 * positions ≤ checkpoint are duplicates (acked, not re-applied: the runner skips them in the transaction);
 * positions that continue the checkpoint without a hole are applied with the checkpoint in one transaction;
 * a hole (a position missing before a delivered one) → catch up from the event store up to the batch's last
 * position first. Messages are acknowledged only after their transaction has committed.
 *
 * Redacted events: the publisher leaves credential fields (token hashes, webhook secrets, …) out of the bus
 * (`CREDENTIAL_FIELDS` of @eventcast/events, marked `redacted` in the envelope; ARCHITECTURE.md invariant 9). Such a
 * message is never applied from its body: it is treated like a hole, so the store catch-up applies the full event
 * (from the event store, the source of truth) and the message is then acked as a duplicate.
 *
 * Poison messages: a body that is not a valid event envelope is `term()`ed (logged at error level). Redelivering
 * the same bytes can never succeed; the event itself is not lost, because the next event then shows a gap and
 * the catch-up reads the store's copy. A valid envelope whose payload the catalog refuses (e.g. a schema version
 * newer than this build), or any database/store error, makes the batch fall back to one transaction per event,
 * so the events before the failing one are still applied and acked; the failing event and everything after it
 * are `nak`ed with a delay and the worker pauses for that delay: the projection stalls loudly rather than skip
 * an event.
 */
import { jetstream, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { fromWire, redactedFieldsOf, type RecordedEvent } from '@eventcast/events';
import { isStoreUnavailableError } from '@eventcast/event-store';
import type { Logger } from '@eventcast/platform';
import { type ProjectionRunner, type StoreCatchUp, logProjected } from '@eventcast/read-models';
import { ensureTopology, type JetStreamTopology } from './jetstream-setup.js';

/** Consumer tuning on top of the topology. */
export interface JetStreamProjectorOptions extends JetStreamTopology {
  /** Delay (ms) before a failed message is redelivered; also the worker's pause after a failed batch. */
  retryDelayMs: number;
  /**
   * Most messages applied in one transaction (default 256). Capped at `maxAckPending`, since the server never
   * has more unacknowledged messages out than that.
   */
  batchSize?: number;
}

/** Counters of the live path since construction (metrics, tests). */
export interface ProjectorStats {
  /** Batches handled (each is at most one live transaction, none when it held only duplicates or poison). */
  batches: number;
  /** Messages taken into batches. */
  messages: number;
  /** Largest batch so far. */
  largestBatch: number;
}

/**
 * Retry delay (ms) after a lost database connection (PostgreSQL restarting), instead of `retryDelayMs`: the read models
 * resume within about this long of the database's return.
 */
export const CONNECTION_RETRY_DELAY_MS = 250;

/** Default of {@link JetStreamProjectorOptions.batchSize}. */
export const DEFAULT_PROJECTOR_BATCH_SIZE = 256;

interface Parsed {
  msg: JsMsg;
  event: RecordedEvent;
  /** The body lacks credential fields (published wire form): apply the store's copy instead. */
  redacted: boolean;
}

/** Long-running consumer; `start()` attaches, `stop()` detaches after the in-flight batch. */
export class JetStreamProjector {
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private worker: Promise<void> | undefined;
  private stopping = false;
  private isAttached = false;
  /** Delivered, not yet handled messages, in delivery order. */
  private queue: JsMsg[] = [];
  /** Resolves the worker's wait for messages. */
  private wake: (() => void) | undefined;
  /** Ends the worker's pause after a failed batch early (stop only). */
  private cancelPause: (() => void) | undefined;
  /** A message was delivered since the last (re)attach; resets the reattach backoff. */
  private delivered = false;
  /**
   * Lowest checkpoint as last seen by this process (from a commit, a catch-up or a read). Checkpoints only move
   * forward, so it is never above the real one: a batch that looks contiguous from it is contiguous, and a batch
   * that seems to follow a hole is re-checked against the database before catching up.
   */
  private checkpoint: bigint | undefined;
  private readonly counters: ProjectorStats = { batches: 0, messages: 0, largestBatch: 0 };
  /** Pause of the worker after the last failed batch (set with each failure). */
  private pauseMs = 0;

  /**
   * @param nc connected NATS client (owned by the caller).
   * @param runner projections and checkpoints.
   * @param catchUp store catch-up used for gaps.
   * @param options topology, batch size and retry delay.
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

  /** Batches and messages handled so far (a snapshot). */
  get stats(): ProjectorStats {
    return { ...this.counters };
  }

  private get batchSize(): number {
    return Math.max(1, Math.min(this.options.batchSize ?? DEFAULT_PROJECTOR_BATCH_SIZE, this.options.maxAckPending));
  }

  /**
   * Ensures stream and consumer exist, attaches and starts the loop in the background (it reattaches with
   * backoff if the subscription fails).
   * @throws JetStream errors from the first attach, so a misconfigured start fails fast.
   */
  async start(): Promise<void> {
    await this.attach();
    this.worker = this.work();
    this.loop = this.run();
  }

  /**
   * Stops pulling, waits for the in-flight batch (its transaction commits and its messages are acked), then
   * `nak`s the messages still queued so the server redelivers them at once (to this consumer's next attach or
   * another process). Idempotent.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.isAttached = false;
    await this.messages?.close();
    this.wake?.();
    this.cancelPause?.();
    await this.worker;
    for (const m of this.queue.splice(0)) m.nak();
    await this.loop;
  }

  private async attach(): Promise<void> {
    await ensureTopology(this.nc, this.options);
    const consumer = await jetstream(this.nc).consumers.get(this.options.stream, this.options.consumer);
    this.messages = await consumer.consume({ max_messages: Math.max(1, this.options.maxAckPending), callback: (m) => this.enqueue(m) });
    this.isAttached = true;
    void this.watchStatus(this.messages);
    this.logger.info({ stream: this.options.stream, consumer: this.options.consumer, batchSize: this.batchSize }, 'JetStream consumer attached');
  }

  /** Consumer callback (synchronous): queue the message and wake the worker. */
  private enqueue(msg: JsMsg): void {
    if (this.stopping) {
      msg.nak();
      return;
    }
    this.delivered = true;
    this.queue.push(msg);
    this.wake?.();
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

  /** Supervises the subscription: reattaches with backoff when it ends while not stopping. */
  private async run(): Promise<void> {
    let backoffMs = 500;
    while (!this.stopping) {
      try {
        if (!this.messages) await this.attach();
        this.delivered = false;
        const ended = await this.messages!.closed();
        if (ended instanceof Error) throw ended;
      } catch (err) {
        if (!this.stopping) this.logger.error({ err }, 'JetStream consumer failed; reattaching');
      }
      this.isAttached = false;
      this.messages = undefined;
      if (this.stopping) break;
      if (this.delivered) backoffMs = 500;
      await new Promise((r) => setTimeout(r, backoffMs));
      backoffMs = Math.min(backoffMs * 2, 15_000);
    }
  }

  /** The single worker: one batch at a time, from whatever is queued. Never throws. */
  private async work(): Promise<void> {
    while (!this.stopping) {
      if (this.queue.length === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      const batch = this.queue.splice(0, this.batchSize);
      this.counters.batches++;
      this.counters.messages += batch.length;
      if (batch.length > this.counters.largestBatch) this.counters.largestBatch = batch.length;
      let ok: boolean;
      try {
        ok = await this.handle(batch);
      } catch (err) {
        // handle() settles every message itself; this is a last resort so the worker never dies.
        this.logger.error({ err }, 'JetStream batch failed unexpectedly');
        for (const m of batch) m.nak(this.retryDelayFor(err));
        ok = false;
      }
      if (!ok && !this.stopping) await this.pause(this.pauseMs);
    }
  }

  /**
   * Redelivery delay after `err`, also remembered as the worker's next pause: short for a lost or refused database
   * connection (it is usually back within seconds and nothing is wrong with the events), `retryDelayMs` otherwise.
   */
  private retryDelayFor(err: unknown): number {
    this.pauseMs = isStoreUnavailableError(err) ? Math.min(CONNECTION_RETRY_DELAY_MS, this.options.retryDelayMs) : this.options.retryDelayMs;
    return this.pauseMs;
  }

  /** Waits `ms`, or less when stopping. */
  private async pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.cancelPause = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.cancelPause = undefined;
  }

  /**
   * Processes one batch; never throws (every message ends acked, nak'ed or terminated).
   * @returns false when part of it must be retried later (the worker then pauses).
   */
  private async handle(batch: readonly JsMsg[]): Promise<boolean> {
    const items: Parsed[] = [];
    for (const msg of batch) {
      try {
        const body: unknown = msg.json();
        items.push({ msg, event: fromWire(body), redacted: redactedFieldsOf(body) !== null });
      } catch (err) {
        this.logger.error({ err, subject: msg.subject, seq: msg.seq }, 'unparseable event message; terminated (the store copy is used on the next gap)');
        // No reason text: `+TERM <reason>` needs nats-server ≥ 2.10.4; 2.9 treats it as a plain ack-less reply.
        msg.term();
      }
    }
    if (items.length === 0) return true;
    // Stable sort: redeliveries keep their relative order, and the order of the stream is the global order.
    items.sort((a, b) => (a.event.globalPosition < b.event.globalPosition ? -1 : a.event.globalPosition > b.event.globalPosition ? 1 : 0));
    const first = items[0]!.event.globalPosition;
    const last = items[items.length - 1]!.event.globalPosition;

    let ready: Parsed[];
    let later: Parsed[];
    let checkpoint: bigint;
    try {
      checkpoint = this.checkpoint ?? (await this.runner.position());
      [ready, later] = split(items, checkpoint);
      if (later.length > 0 && this.checkpoint !== undefined) {
        // The cached checkpoint may be behind (another process, or a catch-up elsewhere): look again.
        checkpoint = await this.runner.position();
        [ready, later] = split(items, checkpoint);
      }
      // Fill from the event store what JetStream cannot give: a redacted event next in line needs only itself (the
      // rest of the batch goes on from JetStream, so an event after it that fails stalls the batch at that event); a
      // gap is filled up to the batch's end. Repeated while the store moves the checkpoint on.
      while (later.length > 0) {
        const head = later[0]!;
        const fromStore = head.redacted && head.event.globalPosition === checkpoint + 1n;
        this.logger.info(
          fromStore
            ? { first: first.toString(), last: last.toString(), checkpoint: checkpoint.toString(), redacted: head.event.globalPosition.toString(), type: head.event.type }
            : { first: first.toString(), last: last.toString(), checkpoint: checkpoint.toString(), missing: (head.event.globalPosition - 1n).toString() },
          fromStore ? 'redacted event in batch; applying it from the event store' : 'gap in batch; catching up from the event store',
        );
        const reached = await this.catchUp.run(fromStore ? head.event.globalPosition : last);
        const progressed = reached > checkpoint;
        checkpoint = reached;
        this.checkpoint = checkpoint;
        [ready, later] = split(items, checkpoint);
        if (!progressed || !fromStore) break;
      }
    } catch (err) {
      this.checkpoint = undefined;
      this.logger.error({ err, first: first.toString(), last: last.toString(), messages: items.length }, 'projecting batch failed (checkpoint read or store catch-up); will retry');
      const delay = this.retryDelayFor(err);
      for (const { msg } of items) msg.nak(delay);
      return false;
    }

    const fresh = ready.filter((i) => i.event.globalPosition > checkpoint);
    let done = ready.length;
    let failure: { err: unknown } | undefined;
    if (fresh.length > 0) {
      try {
        const result = await this.runner.apply(fresh.map((i) => i.event));
        this.checkpoint = result.position;
        logProjected(this.logger, fresh.map((i) => i.event), 'jetstream');
        this.logger.debug(
          { first: first.toString(), last: last.toString(), messages: items.length, applied: result.applied, skipped: result.skipped },
          'batch projected',
        );
      } catch (err) {
        this.checkpoint = undefined;
        if (fresh.length > 1) {
          this.logger.warn({ err, first: first.toString(), last: last.toString(), messages: items.length }, 'batch transaction failed; applying its events one by one');
          ({ done, failure } = await this.applyOneByOne(ready, checkpoint));
        } else {
          done = ready.indexOf(fresh[0]!);
          failure = { err };
        }
      }
    }
    for (let i = 0; i < done; i++) ready[i]!.msg.ack();
    if (failure) {
      const bad = ready[done]!;
      this.logger.error(
        { err: failure.err, id: bad.event.id, type: bad.event.type, position: bad.event.globalPosition.toString(), deliveries: bad.msg.info.deliveryCount },
        'projecting event failed; will retry',
      );
      const delay = this.retryDelayFor(failure.err);
      for (let i = done; i < ready.length; i++) ready[i]!.msg.nak(delay);
    }
    if (later.length > 0) {
      this.logger.warn(
        { position: later[0]!.event.globalPosition.toString(), checkpoint: (this.checkpoint ?? checkpoint).toString() },
        'event store does not have the missing events yet; retrying later',
      );
      if (!failure) this.pauseMs = this.options.retryDelayMs;
      for (const { msg } of later) msg.nak(this.options.retryDelayMs);
    }
    return !failure && later.length === 0;
  }

  /**
   * After a failed batch transaction: one transaction per event, in order, so everything before the failing
   * event still lands (as with unbatched delivery).
   * @returns how many leading `ready` items are committed (or duplicates) and may be acked, and the error that
   *   stopped it, if any.
   */
  private async applyOneByOne(ready: readonly Parsed[], checkpoint: bigint): Promise<{ done: number; failure?: { err: unknown } }> {
    for (let i = 0; i < ready.length; i++) {
      const { event } = ready[i]!;
      if (event.globalPosition <= checkpoint) continue;
      try {
        this.checkpoint = (await this.runner.apply([event])).position;
        logProjected(this.logger, [event], 'jetstream');
      } catch (err) {
        this.checkpoint = undefined;
        return { done: i, failure: { err } };
      }
    }
    return { done: ready.length };
  }
}

/**
 * Splits position-sorted items at the first hole after `checkpoint`; a redacted event that would be applied next
 * counts as a hole (its full form must come from the store).
 * @returns `[ready, later]`: ready = duplicates (≤ checkpoint) and the run checkpoint+1, +2, … without a hole
 *   (repeated positions included); later = everything from the first position past a hole, or the first redacted
 *   event due, on.
 */
function split(items: readonly Parsed[], checkpoint: bigint): [Parsed[], Parsed[]] {
  let next = checkpoint + 1n;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const p = item.event.globalPosition;
    if (p === next && item.redacted) return [items.slice(0, i), items.slice(i)];
    if (p === next) next++;
    else if (p > next) return [items.slice(0, i), items.slice(i)];
  }
  return [[...items], []];
}

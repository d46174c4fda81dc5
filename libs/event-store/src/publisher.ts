/**
 * {@link EventPublisher}: follows the store's global log from a PostgreSQL checkpoint and publishes every event to
 * NATS JetStream, in global order, at least once; JetStream's de-duplication by message id (= event id, 2 h window)
 * makes it effectively once.
 */
import pg from 'pg';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { EVENTS_JETSTREAM } from '@eventcast/events';
import type { Subscription } from './port.js';
import { Backoff, sleep } from './backoff.js';
import { ensureCheckpointTable, loadCheckpoint, saveCheckpoint, tryLock, unlock } from './publisher/checkpoint.js';
import { ensureEventsStream, toMessage } from './publisher/jetstream.js';
import { AckWindow } from './publisher/window.js';
import { ConnectionWatch } from './publisher/connection-watch.js';
import type { EventPublisherOptions, PublisherStatus } from './publisher/types.js';

export type { EventPublisherOptions, PublisherStatus } from './publisher/types.js';

/**
 * Publishes the global log to JetStream. Usage: `const p = new EventPublisher({ store, databaseUrl, natsServers });
 * await p.start(); … await p.stop();` (call `stop()` on SIGTERM).
 *
 * Guarantees: only one active instance per name (session advisory lock, others wait and retry); events go out in
 * global order (a bounded window of publishes in flight on one connection, which NATS delivers in order); the
 * checkpoint only moves past events whose PubAck arrived, and every earlier one was acked too. On any failure (NATS
 * down, timeout, PostgreSQL lost) the in-flight publishes are settled and publishing restarts from the last acked
 * position after a capped exponential backoff, so nothing is skipped; re-sent events are dropped by JetStream as
 * duplicates. Ordering caveat: a re-send after a failure stays in order as long as the failure lost a suffix of the
 * window (a dropped connection does), which is the failure mode of one TCP connection.
 */
export class EventPublisher {
  private readonly name: string;
  private running: Promise<void> | undefined;
  private stopping = false;
  private abort = new AbortController();
  private lockClient: pg.Client | undefined;
  private nc: NatsConnection | undefined;
  private subscription: Subscription | undefined;
  private window: AckWindow | undefined;
  private checkpoint = 0n;
  private acked = 0n;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly options: EventPublisherOptions) {
    this.name = options.name ?? 'jetstream';
  }

  /** Starts the publishing loop in the background and returns at once. Idempotent. */
  start(): Promise<void> {
    if (!this.running) {
      this.stopping = false;
      this.abort = new AbortController();
      this.running = this.loop();
    }
    return Promise.resolve();
  }

  /**
   * Stops gracefully: stops reading, waits for in-flight PubAcks, stores the checkpoint, releases the lock and
   * closes the connections it opened.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    await this.subscription?.close();
    await this.running;
    this.running = undefined;
  }

  /** Progress: stored checkpoint, acked position, store head and lag. */
  async status(): Promise<PublisherStatus> {
    const head = await this.options.store.headPosition();
    const acked = this.window?.acked ?? this.acked;
    return { name: this.name, active: this.window !== undefined, checkpoint: this.checkpoint, acked, head, lag: head > acked ? head - acked : 0n };
  }

  /** Shorthand for `(await status()).lag`. */
  async lag(): Promise<bigint> {
    return (await this.status()).lag;
  }

  private async loop(): Promise<void> {
    const backoff = new Backoff(this.options.backoff);
    while (!this.stopping) {
      try {
        const client = await this.acquireLock();
        if (!client) break;
        const nc = await this.connectNats();
        await ensureEventsStream(await jetstreamManager(nc), this.options.jetStreamName ?? EVENTS_JETSTREAM);
        this.checkpoint = await loadCheckpoint(client, this.name);
        this.acked = this.checkpoint > this.acked ? this.checkpoint : this.acked;
        await this.pump(nc);
        backoff.reset();
      } catch (err) {
        if (this.stopping) break;
        this.options.onError?.(err);
        await sleep(backoff.next(), this.abort.signal);
      }
    }
    await this.shutdown();
  }

  /** Connects the dedicated client, ensures the table and waits for the lock. @returns undefined when stopped. */
  private async acquireLock(): Promise<pg.Client | undefined> {
    if (this.lockClient) return this.lockClient;
    const client = new pg.Client({ connectionString: this.options.databaseUrl });
    client.on('error', (err) => {
      if (this.lockClient !== client) return;
      this.lockClient = undefined; // the session (and with it the lock) is gone: stop publishing, start over
      this.options.onError?.(err);
      void this.subscription?.close();
      client.end().catch(() => undefined);
    });
    await client.connect();
    try {
      await ensureCheckpointTable(client);
      while (!(await tryLock(client, this.name))) {
        if (this.stopping) throw new Error('stopped');
        await sleep(this.options.lockRetryMs ?? 1000, this.abort.signal);
      }
    } catch (err) {
      await client.end().catch(() => undefined);
      if (this.stopping) return undefined;
      throw err;
    }
    this.lockClient = client;
    return client;
  }

  private async connectNats(): Promise<NatsConnection> {
    if (this.options.nats) return this.options.nats;
    if (this.nc && !this.nc.isClosed()) return this.nc;
    this.nc = await connect({
      name: `eventcast-publisher-${this.name}`,
      ...this.options.natsOptions,
      servers: this.options.natsServers ?? 'nats://127.0.0.1:4223',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
    return this.nc;
  }

  /** Publishes from `acked` until stopped; throws the first failure after settling what is in flight. */
  private async pump(nc: NatsConnection): Promise<void> {
    const js = jetstream(nc);
    const timeout = this.options.publishTimeoutMs ?? 5000;
    const max = Math.max(1, this.options.window ?? 128);
    const sub = this.options.store.subscribeToAll({ after: this.acked });
    // Publishing pauses while NATS is disconnected; the reconnect or the first failure settles every publish in flight
    // at once (publisher/connection-watch.ts), so the next run re-sends from `acked` without waiting for timeouts.
    const watch = new ConnectionWatch(nc);
    const window = new AckWindow(this.acked, (err) => {
      void sub.close();
      watch.abort(err instanceof Error ? err : new Error('publish failed'));
    });
    this.subscription = sub;
    this.window = window;
    // stop() may have run before this subscription existed (it closes only the one it sees): close it here too.
    if (this.stopping) void sub.close();
    const timer = setInterval(() => void this.flush(window.acked), this.options.checkpointEveryMs ?? 250);
    try {
      for await (const event of sub) {
        if (window.failure !== undefined || !this.lockClient) break;
        if (!watch.connected) {
          await watch.untilConnected(this.abort.signal);
          if (this.stopping) break;
        }
        const m = toMessage(event, timeout);
        const published = js.publish(m.subject, m.payload, m.options);
        const onPublished = this.options.onPublished;
        if (onPublished) published.then((ack) => onPublished(event, ack.duplicate), () => undefined);
        window.push(event.globalPosition, Promise.race([published, watch.aborted]));
        await window.waitBelow(max);
      }
    } finally {
      clearInterval(timer);
      await sub.close();
      await window.drain();
      watch.stop();
      this.acked = window.acked;
      this.window = undefined;
      this.subscription = undefined;
      await this.flush(this.acked);
    }
    const failure: unknown = window.failure;
    if (failure !== undefined) throw failure instanceof Error ? failure : new Error('publish failed', { cause: failure });
    if (!this.lockClient && !this.stopping) throw new Error('publisher lost its PostgreSQL session (and lock)');
  }

  /** Stores `position` as the checkpoint when it moved (serialised; errors reported, retried next time). */
  private flush(position: bigint): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const client = this.lockClient;
      if (!client || position <= this.checkpoint) return;
      try {
        await saveCheckpoint(client, this.name, position);
        this.checkpoint = position;
      } catch (err) {
        this.options.onError?.(err);
      }
    });
    return this.flushing;
  }

  private async shutdown(): Promise<void> {
    await this.flush(this.acked);
    const client = this.lockClient;
    this.lockClient = undefined;
    if (client) {
      await unlock(client, this.name).catch(() => undefined);
      await client.end().catch(() => undefined);
    }
    if (this.nc) {
      await this.nc.drain().catch(() => undefined);
      this.nc = undefined;
    }
  }
}

/**
 * Catch-up subscription over the PostgreSQL store: pages through the log with `readAll`, then waits for
 * `LISTEN eventcast_events` on a dedicated connection, with a poll fallback.
 */
import pg from 'pg';
import type { RecordedEvent } from '@eventcast/events';
import type { ReadAllOptions, Subscription } from '../port.js';
import { Backoff, isTransientError, sleep } from '../backoff.js';
import { NOTIFY_CHANNEL } from './schema.js';
import { readAll } from './read.js';

/** Tuning of a {@link PostgresSubscription}. */
export interface PostgresSubscriptionOptions extends Omit<ReadAllOptions, 'limit'> {
  /** Events per read (default 2000). */
  batchSize?: number;
  /** Re-read at least this often when no notification arrives, in ms (default 1000). */
  pollIntervalMs?: number;
}

/**
 * Iterate once with `for await`. Historical events come first in pages, then live ones, always in global order and
 * each once (the cursor is the last delivered position; positions are gap-free and commit-ordered).
 * Lost connections are retried with capped exponential backoff; the listener reconnects in the background while
 * polling covers the gap. Non-transient errors (e.g. a missing schema) end the iteration by throwing.
 * `close()` ends the iteration cleanly (the pending `next()` resolves `done`).
 */
export class PostgresSubscription implements Subscription {
  private closed = false;
  private notified = false;
  private wake: (() => void) | undefined;
  private listener: pg.Client | undefined;
  private readonly abort = new AbortController();
  private iterator: AsyncGenerator<RecordedEvent> | undefined;
  private connecting = false;
  private readonly listenerBackoff = new Backoff({ initialMs: 200, maxMs: 1000 });

  constructor(
    private readonly pool: pg.Pool,
    private readonly connectionConfig: pg.ClientConfig,
    private readonly options: PostgresSubscriptionOptions = {},
    private readonly onClose: (s: PostgresSubscription) => void = () => undefined,
  ) {}

  [Symbol.asyncIterator](): AsyncGenerator<RecordedEvent> {
    this.iterator ??= this.run();
    return this.iterator;
  }

  /** Ends the iteration and releases the listening connection. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    this.signal();
    await this.stopListener();
    this.onClose(this);
  }

  private signal(): void {
    this.notified = true;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async *run(): AsyncGenerator<RecordedEvent> {
    const batchSize = this.options.batchSize ?? 2000;
    // Capped at 1 s: a restarted PostgreSQL is followed again within about a second of its return.
    const backoff = new Backoff({ initialMs: 100, maxMs: 1000 });
    let after = this.options.after ?? 0n;
    try {
      await this.startListener();
      while (!this.closed) {
        this.notified = false;
        let batch: RecordedEvent[];
        try {
          batch = await readAll(this.pool, { ...this.options, after, limit: batchSize });
          backoff.reset();
        } catch (err) {
          if (!isTransientError(err) || this.closed) throw err;
          await sleep(backoff.next(), this.abort.signal);
          continue;
        }
        for (const event of batch) {
          if (this.closed) return;
          after = event.globalPosition;
          yield event;
        }
        if (batch.length < batchSize) await this.waitForNews();
      }
    } finally {
      await this.close();
    }
  }

  private waitForNews(): Promise<void> {
    if (this.notified || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.signal(), this.options.pollIntervalMs ?? 1000);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async startListener(): Promise<void> {
    if (this.closed || this.listener || this.connecting) return;
    this.connecting = true;
    const client = new pg.Client(this.connectionConfig);
    client.on('notification', () => this.signal());
    client.on('error', () => this.dropListener(client));
    client.on('end', () => this.dropListener(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
      if (this.closed) {
        await client.end().catch(() => undefined);
        return;
      }
      this.listener = client;
      this.listenerBackoff.reset();
      this.signal(); // re-read: events may have been committed while nobody listened
    } catch {
      await client.end().catch(() => undefined);
      // Polling covers the gap; retry the listener in the background.
      void sleep(this.listenerBackoff.next(), this.abort.signal).then(() => this.startListener());
    } finally {
      this.connecting = false;
    }
  }

  private dropListener(client: pg.Client): void {
    if (this.listener !== client) return;
    this.listener = undefined;
    client.end().catch(() => undefined);
    if (!this.closed) void this.startListener();
  }

  private async stopListener(): Promise<void> {
    const client = this.listener;
    this.listener = undefined;
    if (client) await client.end().catch(() => undefined);
  }
}

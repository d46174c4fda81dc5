/**
 * Follows the NATS connection's status for one publishing run of the {@link EventPublisher} (nats.js
 * `NatsConnection.status()`: `disconnect`, `reconnecting`, `reconnect`, `close`, …).
 *
 * Why: while the connection is down, nats.js buffers publishes and each one's PubAck times out on its own
 * (`publishTimeoutMs`), so a run that kept publishing through an outage would, after NATS's return, wait for a backlog
 * of timeouts before re-sending. Instead the run pauses publishing while disconnected ({@link untilConnected}) and
 * every publish in flight is raced against {@link aborted}, rejected at the `reconnect` (their PubAcks may never come:
 * a restarted server drops what reaches it before JetStream is up) or at the run's first failure, so the run ends at
 * once and the next one re-sends from the acknowledged position (JetStream drops duplicates by message id).
 */
import type { NatsConnection } from '@nats-io/transport-node';

/** Status follower of one publishing run; `stop()` when the run ends. */
export class ConnectionWatch {
  /** Rejected at the next `reconnect` or `close`, or by {@link abort}; never resolves. */
  readonly aborted: Promise<never>;
  private rejectAborted!: (err: Error) => void;
  private connectedNow = true;
  private stopped = false;
  private waiters: (() => void)[] = [];
  private readonly it: AsyncIterator<{ type: string }, unknown>;

  /** @param nc the run's connection (assumed connected when the run starts). */
  constructor(nc: NatsConnection) {
    this.aborted = new Promise<never>((_, reject) => (this.rejectAborted = reject));
    this.aborted.catch(() => undefined);
    this.it = nc.status()[Symbol.asyncIterator]();
    void this.follow();
  }

  /** False from a `disconnect` until the `reconnect`. */
  get connected(): boolean {
    return this.connectedNow;
  }

  /** Rejects {@link aborted} with `err` (first call wins) and wakes {@link untilConnected}. */
  abort(err: Error): void {
    this.rejectAborted(err);
    this.wakeAll();
  }

  /**
   * Resolves when connected, or on the reconnect/abort/stop, or when `signal` aborts. Whichever comes first removes
   * the other: `signal` is the publisher's long-lived one, so a listener left on it would pile up, one per outage
   * (Node's MaxListenersExceededWarning after 10).
   */
  untilConnected(signal: AbortSignal): Promise<void> {
    if (this.connectedNow || this.stopped || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve();
      };
      this.waiters.push(wake);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Stops following (idempotent). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.wakeAll();
    void this.it.return?.();
  }

  private wakeAll(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const wake of w) wake();
  }

  private async follow(): Promise<void> {
    try {
      while (!this.stopped) {
        const r: IteratorResult<{ type: string }, unknown> = await this.it.next();
        if (r.done === true || this.stopped) return;
        const type = r.value.type;
        if (type === 'disconnect') {
          this.connectedNow = false;
        } else if (type === 'reconnect') {
          this.connectedNow = true;
          this.abort(new Error('NATS reconnected: publishes in flight are sent again'));
        } else if (type === 'close') {
          this.abort(new Error('NATS connection closed'));
        }
      }
    } catch {
      // the status iterator ends with the connection
    }
  }
}
